# mk/abi.mk — the released ABI of librtctx.so, kept in Tests/abi (included
# by the Makefile).
#
#   make check-abi    the built $(LIBFILE) against the baseline: fails when
#                     an exported function is gone, when a function's
#                     symbol version changed (rt_spawn@@RTCTX_0), when the
#                     soname changed, or when a public type changed (size
#                     or layout of rt_config_t or rt_stats_t, a parameter,
#                     an enumerator); a new function passes, with a note.
#                     Quiet on success; the details are in $(ABI_BUILD).
#   make update-abi   rewrites the baseline from the built library and the
#                     header (alias: abi-baseline).
#
# When to run update-abi: only for an ABI change that is deliberate and
# reviewed, in the same commit as the change and the version bump. That is
# a new function at release (in a new version node, RTCTX_0.2 { ... }
# RTCTX_0; in exports.map and exports-debug.map, MINOR bumped: the Debian
# symbols file records it with the new version), a struct grown at its end
# (rt_config_t and rt_stats_t are versioned by their `size` field; MINOR
# bumped), or an incompatible change (MAJOR bumped, so a new soname and new
# baseline file names: update-abi writes them, git rm the old ones). Never
# to make a failing check-abi pass otherwise: the failure is the point.
#
# The baseline, three files in Tests/abi:
#
#   librtctx$(MAJOR).symbols
#                     the Debian symbols file (deb-symbols(5)): one line
#                     " rt_spawn@RTCTX_0 0.1.0" per export, with its version
#                     node and the release that brought it; a Debian package
#                     can take it as debian/librtctx$(MAJOR).symbols as is.
#                     Compared with Tests/abi/symbols.awk.
#   $(SONAME).abi     abidw of the library: its ELF symbols with their
#                     version nodes, its soname and DT_NEEDED. Compared
#                     with abidiff.
#   rtctx-types.abi   abidw of the header's C description of the API
#                     (Tests/abi/abi-types.c): every exported function's
#                     type and the public types it reaches. Compared with
#                     abidiff.
#
# Why two libabigail files: the rt_* functions are Swift @_cdecl thunks,
# and their DWARF is Swift DWARF (a 5-byte tail call described as a
# subprogram of the module RtctxExports that returns the Swift struct Int32,
# with no parameters), which libabigail does not read as C: abidw of the
# library itself sees the symbols and versions, but no function type and no
# public struct. The types therefore come from the header compiled as C
# (see abi-types.c for why that is the library's ABI).
#
# abidiff's status is a bit mask (1 error, 2 usage, 4 ABI change, 8
# incompatible change). With --no-added-syms an added function or variable
# is left out of both the report and the status, so any other status than 0
# is a failure: a removed symbol or one whose version changed is 12, a type
# changed in any way 4.
#
# The baseline describes an LP64 Linux target (x86_64, aarch64): abidw runs
# without the architecture (--no-architecture), and the sizes are the same
# on both.

ABI_DIR   := Tests/abi
ABI_BUILD := $(BUILD)/abi
ABI_SYMBOLS := $(ABI_DIR)/librtctx$(MAJOR).symbols
ABI_LIB_BASE := $(ABI_DIR)/$(SONAME).abi
ABI_TYPES_BASE := $(ABI_DIR)/rtctx-types.abi
ABI_TYPES_LIB := $(ABI_BUILD)/rtctx-types.so
ABI_NEXT_MINOR := $(shell echo $$(( $(MINOR) + 1 )))

# No paths, locations or architecture in the XML, type ids from hashes: the
# baseline changes only when the ABI does, and diffs of it stay readable.
ABIDW := abidw --no-corpus-path --no-comp-dir-path --no-show-locs --no-architecture \
  --drop-undefined-syms --type-id-style hash
ABIDIFF := abidiff --no-added-syms --no-architecture

.PHONY: check-abi update-abi abi-baseline abi-current

$(ABI_BUILD)/rtctx-exports.inc: $(BUILD)/static-exports.txt
	@mkdir -p $(ABI_BUILD)
	@sed 's/.*/RTCTX_ABI_FN(&)/' $< > $@

# Debug info only, never linked into anything: -O0, so nothing is dropped.
$(ABI_TYPES_LIB): $(ABI_DIR)/abi-types.c $(ABI_BUILD)/rtctx-exports.inc include/rtctx.h mk/abi.mk
	@$(TOOL_CC) -std=c11 -O0 -g -gdwarf-4 -fPIC -shared $(WARN) -Iinclude -I$(ABI_BUILD) $< -o $@

# The library's defined dynamic symbols as name@NODE, and both abidw files.
abi-current: $(LIBFILE) $(ABI_TYPES_LIB)
	@$(call ensure,abidw,abigail-tools)
	@readelf --dyn-syms -W $(LIBFILE) | \
	  awk '$$7 != "UND" && ($$5 == "GLOBAL" || $$5 == "WEAK") {sub(/@@/, "@", $$8); print $$8}' | \
	  sort > $(ABI_BUILD)/symbols.txt
	@$(ABIDW) --out-file $(ABI_BUILD)/$(SONAME).abi $(LIBFILE)
	@$(ABIDW) --out-file $(ABI_BUILD)/rtctx-types.abi $(ABI_TYPES_LIB)

check-abi: abi-current ## the ABI against the baseline in Tests/abi: a removed export or changed struct fails
	@test -f $(ABI_SYMBOLS) -a -f $(ABI_LIB_BASE) -a -f $(ABI_TYPES_BASE) || \
	  { echo "check-abi: no baseline for $(SONAME) in $(ABI_DIR): make update-abi (see mk/abi.mk)" >&2; exit 1; }
	@fail=; \
	awk -v mode=check -v soname=$(SONAME) -f $(ABI_DIR)/symbols.awk \
	  $(ABI_BUILD)/symbols.txt $(ABI_SYMBOLS) | sort > $(ABI_BUILD)/symbols.log || fail=1; \
	if grep -q -v '^added ' $(ABI_BUILD)/symbols.log; then \
	  grep -v '^added ' $(ABI_BUILD)/symbols.log | sed 's/^/check-abi: /'; fail=1; fi; \
	$(ABIDIFF) $(ABI_LIB_BASE) $(ABI_BUILD)/$(SONAME).abi > $(ABI_BUILD)/abidiff-lib.log 2>&1 || \
	  { echo "abidiff $(ABI_LIB_BASE) $(LIBFILE):"; cat $(ABI_BUILD)/abidiff-lib.log; fail=1; }; \
	$(ABIDIFF) $(ABI_TYPES_BASE) $(ABI_BUILD)/rtctx-types.abi > $(ABI_BUILD)/abidiff-types.log 2>&1 || \
	  { echo "abidiff $(ABI_TYPES_BASE) (types of include/rtctx.h):"; cat $(ABI_BUILD)/abidiff-types.log; fail=1; }; \
	if [ -n "$$fail" ]; then \
	  echo "check-abi: the ABI of $(SONAME) differs from the baseline in $(ABI_DIR) (details in $(ABI_BUILD))." >&2; \
	  echo "check-abi: only if the change is deliberate and the version bumped: make update-abi (see mk/abi.mk)" >&2; \
	  exit 1; fi; \
	sed -n 's/^added \(.*\)/check-abi: note: \1 is new since the baseline (compatible): make update-abi records it at release/p' \
	  $(ABI_BUILD)/symbols.log; \
	if grep -q '^added .*(in the released node' $(ABI_BUILD)/symbols.log; then \
	  echo "check-abi: note: a new function belongs in a new version node, e.g. RTCTX_$(MAJOR).$(ABI_NEXT_MINOR) { global: rt_name; } RTCTX_$(MAJOR); in both export maps"; fi; \
	echo "check-abi: $(SONAME) has the ABI of $(ABI_DIR): its $$(grep -c '^ ' $(ABI_SYMBOLS)) symbols, their version nodes, function and struct types"

# The symbols file keeps each symbol's MINVER; a new symbol gets $(VERSION).
update-abi abi-baseline: abi-current ## rewrite the ABI baseline (deliberate ABI changes only; see mk/abi.mk)
	@mkdir -p $(ABI_DIR)
	@base=$(ABI_SYMBOLS); test -f $$base || base=/dev/null; \
	{ echo "$(SONAME) librtctx$(MAJOR) #MINVER#"; \
	  awk -v mode=update -v version=$(VERSION) -f $(ABI_DIR)/symbols.awk $(ABI_BUILD)/symbols.txt $$base | sort; \
	} > $(ABI_SYMBOLS).tmp && mv -f $(ABI_SYMBOLS).tmp $(ABI_SYMBOLS)
	@cp $(ABI_BUILD)/$(SONAME).abi $(ABI_LIB_BASE)
	@cp $(ABI_BUILD)/rtctx-types.abi $(ABI_TYPES_BASE)
	@echo "update-abi: wrote $(ABI_SYMBOLS), $(ABI_LIB_BASE), $(ABI_TYPES_BASE); review git diff $(ABI_DIR) and commit it with the change"
