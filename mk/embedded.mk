# mk/embedded.mk — librtctx in Embedded Swift (included by the Makefile).
#
# The C library is the sources of Sources/RtctxCore, Sources/RtctxFFI and
# Sources/RtctxExports compiled as ONE Embedded Swift module, plus the C shim. Embedded Swift
# compiles the parts of the standard library the code uses into the object
# itself (retain/release, allocation, once-tokens: all local symbols), so
# the library holds no Swift runtime: no runtime locks to inherit across
# fork(), no metadata caches, no backtracer or environment hooks, and it
# needs only libc and libffi. One module because Embedded Swift specializes
# generic code only where it sees its definition (the core's generics would
# not cross a module boundary); see Sources/RtctxExports/ModuleLayout.swift.
#
# The same sources build in ordinary Swift through SwiftPM (the Rtctx
# product and the Swift tests: `make check-swift`).
#
# One object per variant, each in its own folder, linked by the toolchain's
# clang with lld (its sanitizer runtimes match swiftc's instrumentation):
#
#   $(BUILD)/lib      release: librtctx.so.$(VERSION), librtctx.a
#   $(BUILD)/debug    -Onone -DDEBUG: live-object counts for `make stress`
#   $(BUILD)/tsan/lib ThreadSanitizer   (make check-tsan)
#   $(BUILD)/asan/lib AddressSanitizer with libFuzzer's coverage counters
#                     (make check-asan, make fuzz)

SWIFT_BIN := $(dir $(realpath $(shell command -v $(SWIFT))))
SWIFTC    ?= $(SWIFT_BIN)swiftc
# The toolchain's clang drives lld and has the sanitizer runtimes.
TOOL_CC   ?= $(SWIFT_BIN)clang
TRIPLE    := $(shell uname -m)-unknown-linux-gnu
OBJCOPY   ?= objcopy

# -O: measured against -Osize with `make bench` (README, "Building").
SWIFT_OPT ?= -O
# Warnings are errors; `make SWIFTC_WERROR=` to relax.
SWIFTC_WERROR ?= -warnings-as-errors

LIB_SWIFT := $(sort $(shell find Sources/RtctxCore Sources/RtctxFFI Sources/RtctxExports -name '*.swift'))
LIB_SHIM  := Sources/CRtctxShim/shim.c
LIB_HDRS  := Sources/CRtctxShim/include/rtctx_shim.h Sources/CRtctxShim/include/module.modulemap \
             Sources/CFFI/module.modulemap include/rtctx.h
MODULES   := $(BUILD)/modules

# Debug info that gdb reads: -no-clang-module-breadcrumbs, no DWARF skeleton
# units pointing at the Clang module cache (gdb would print a "Could not
# find DWO CU" line for each); and no .debug_names index, removed from the
# object (gdb trusts the index swiftc writes, finds no Swift function in
# it, and shows Swift frames without file and line; without the index it
# reads the DWARF itself). objcopy also leaves a fresh file: swiftc does not
# touch an object whose contents did not change.
#
# Reproducible: the tree's absolute path appears in no output, so two
# clean builds of the same tree in different directories give the same
# bytes (make check-repro, mk/repro.mk). Debug info names the compilation
# directory "." and every file relative to it (gdb run from the source tree
# finds the sources; elsewhere, `directory /path/to/rtctx` in gdb): the
# Swift files, the -I module directories (DIModule include paths), and the
# C declarations imported through the module maps (the generated one names
# include/rtctx.h by its absolute path): swiftc maps the debug info clang
# emits into the Swift object too, so -Xcc -ffile-prefix-map changes
# nothing in it today. That also makes the 16-byte .swift_modhash section
# the same: it is swiftc's MD5 of the module's LLVM bitcode, which holds
# that debug info (plus the compiler version and code-generation options),
# kept in the object so that swiftc can leave an unchanged object alone; it
# is deterministic, so it stays.
PATH_MAP := -file-prefix-map $(CURDIR)=.

# Hardening (what each buys, and how make check-hardening reads it off the
# library: mk/hardening.mk, docs/guarantees.md "Hardening").
# - Stack protector: a canary in every C function with an array or an
#   address-taken local. Swift code gets one by default (swiftc's
#   -enable-stack-protector) wherever it takes a local's address.
# - FORTIFY: libc's checked variants (__memcpy_chk...) where the compiler
#   knows a buffer's size; level 3 also where it knows it only at run time
#   (glibc >= 2.34, clang's __builtin_dynamic_object_size). It needs an
#   optimizing compile, so the -O0 debug variant goes without. -U first: a
#   compiler that predefines it (Ubuntu's) would warn of a redefinition.
# - CET (x86-64 only): endbr64 at every indirect-branch target and the
#   IBT/SHSTK property note, in the C object and in the Swift one too:
#   swiftc hands -Xcc -fcf-protection to its Clang importer, whose code
#   generation options set the module flags from which LLVM emits both
#   (-Xllvm -x86-indirect-branch-tracking gives the endbr64 but no note).
#   The library's note is the AND of every object linked in, start files
#   included: see CET_NOTE in mk/hardening.mk for why it is absent on
#   Debian 12.
HARDEN_CFLAGS := -fstack-protector-strong
FORTIFY_CFLAGS := -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3
ifeq ($(shell uname -m),x86_64)
HARDEN_CFLAGS += -fcf-protection=full
HARDEN_SWIFTC := -Xcc -fcf-protection=full
endif

EMBEDDED := -target $(TRIPLE) -enable-experimental-feature Embedded -wmo -parse-as-library \
  -package-name rtctx -module-name RtctxExports -g -Xfrontend -no-clang-module-breadcrumbs \
  -Xcc -fPIC $(HARDEN_SWIFTC) -module-cache-path $(MODULES)/cache $(SWIFTC_WERROR) $(PATH_MAP) \
  -I Sources/CRtctxShim/include -I Sources/CFFI -I $(MODULES)/CRtctx
# DWARF 4 like swiftc's: valgrind 3.19 gives up on a library that mixes in DWARF 5.
# The same path map as the Swift object's (DW_AT_comp_dir ".").
SHIM_CFLAGS := -std=c11 -O2 -g -gdwarf-4 -fPIC $(WARN) $(HARDEN_CFLAGS) -ffile-prefix-map=$(CURDIR)=. \
  -Iinclude -ISources/CRtctxShim/include

# Only the header's rt_* functions are exported (exports.map); the library
# must not leave any symbol undefined but libc's and libffi's (-z defs:
# e.g. a String operation that needs Unicode tables fails the link rather
# than the program); headers and read-only data are not executable
# (separate-code); relocations, the GOT included, are read-only after
# start (relro, and now: every symbol bound at load, so that .got.plt is
# inside the RELRO segment too); the stack is never executable, whatever
# note an object carries (noexecstack).
LIB_LDFLAGS := -shared -fuse-ld=lld -pthread -Wl,-soname,$(SONAME) -Wl,-z,separate-code \
  -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack -Wl,--build-id -lffi
EXPORT_MAPS := Sources/RtctxExports/exports.map Sources/RtctxExports/exports-debug.map
EXPORTS := -Wl,--version-script=Sources/RtctxExports/exports.map
# The debug library also exports rtctx_debug_live_objects (make stress).
DEBUG_EXPORTS := -Wl,--version-script=Sources/RtctxExports/exports-debug.map
# Sanitized libraries leave the sanitizer's symbols to the program.
LIB_DEFS := -Wl,-z,defs

$(MODULES)/CRtctx/module.modulemap: Makefile mk/embedded.mk
	@mkdir -p $(dir $@)
	printf 'module CRtctx {\n  header "%s/include/rtctx.h"\n  export *\n}\n' '$(CURDIR)' > $@

# Out of memory is an error, not a trap: every allocation of the Swift
# object goes through the funnel in shim.c (the Embedded Swift runtime's
# swift_allocObject and swift_slowAlloc, emitted into the object, call
# posix_memalign and trap on NULL; the inject ring calls calloc), which
# serves a failed one from a reserve and tells the entry point. Renaming
# the object's undefined symbols reaches every call site, inlined ones
# too, without touching the compiler; the static archive is linked from
# the same object.
ALLOC_FUNNEL := --redefine-sym posix_memalign=rtctx_posix_memalign --redefine-sym calloc=rtctx_calloc \
  --redefine-sym free=rtctx_free

# $(call embedded_variant,DIR,SWIFTC FLAGS,CC FLAGS,LINK FLAGS)
define embedded_variant
# mk/embedded.mk too: a change of flags rebuilds.
$(1)/rtctx-swift.o: $(LIB_SWIFT) $(LIB_HDRS) $(MODULES)/CRtctx/module.modulemap mk/embedded.mk
	@mkdir -p $(1)
	$(SWIFTC) $(EMBEDDED) $(2) -c $(LIB_SWIFT) -o $$@.tmp
	$(OBJCOPY) --remove-section=.debug_names $(ALLOC_FUNNEL) $$@.tmp $$@ && rm -f $$@.tmp

$(1)/shim.o: $(LIB_SHIM) $(LIB_HDRS) mk/embedded.mk
	@mkdir -p $(1)
	$(TOOL_CC) $(SHIM_CFLAGS) $(3) -c $$< -o $$@

# Replace, never rewrite in place: a running program has the old file mapped.
$(1)/librtctx.so.$(VERSION): $(1)/rtctx-swift.o $(1)/shim.o $(EXPORT_MAPS)
	$(TOOL_CC) $(3) $(1)/rtctx-swift.o $(1)/shim.o $(LIB_LDFLAGS) $(4) -o $$@.tmp && mv -f $$@.tmp $$@
	ln -sf librtctx.so.$(VERSION) $(1)/$(SONAME)
	ln -sf $(SONAME) $(1)/librtctx.so
endef

TSAN_FLAGS := -sanitize=thread
ASAN_FLAGS := -sanitize=address -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp
$(eval $(call embedded_variant,$(BUILD)/lib,$(SWIFT_OPT),$(FORTIFY_CFLAGS),$(EXPORTS) $(LIB_DEFS)))
# The debug library also has the allocation-failure seam (make check-oom).
$(eval $(call embedded_variant,$(BUILD)/debug,-Onone -DDEBUG,-O0 -DRTCTX_ALLOC_SEAM,$(DEBUG_EXPORTS) $(LIB_DEFS)))
$(eval $(call embedded_variant,$(BUILD)/tsan/lib,-O $(TSAN_FLAGS),-O1 -fsanitize=thread,$(EXPORTS)))
$(eval $(call embedded_variant,$(BUILD)/asan/lib,-O $(ASAN_FLAGS),-O1 -fsanitize=address,$(EXPORTS)))

# --- Static archive ---------------------------------------------------------
#
# librtctx.a holds one relocatable object: the release build's Swift object
# and shim pre-linked (ld -r, our two objects only: there is no Swift
# runtime to fold in), then every symbol but the header's rt_* functions
# made local, so a program linking it sees no Swift symbols and two
# libraries built this way never clash. It needs libc and libffi only.
# `ar D`: member dates, owners and modes are zero, not the build's (the
# default of many binutils builds, not of all).
STATICLIB := $(BUILD)/lib/librtctx.a

$(BUILD)/static-exports.txt: include/rtctx.h
	@mkdir -p $(BUILD)
	grep '^RT_EXPORT' include/rtctx.h | grep -o 'rt_[a-z_]*(' | tr -d '(' | sort > $@

$(STATICLIB): $(BUILD)/lib/rtctx-swift.o $(BUILD)/lib/shim.o $(BUILD)/static-exports.txt
	$(LD) -r -o $(BUILD)/lib/rtctx-prelink.o $(BUILD)/lib/rtctx-swift.o $(BUILD)/lib/shim.o
	$(OBJCOPY) --keep-global-symbols=$(BUILD)/static-exports.txt $(BUILD)/lib/rtctx-prelink.o $(BUILD)/lib/rtctx.o
	nm -g --defined-only $(BUILD)/lib/rtctx.o | awk '{print $$3}' | sort | diff -u $(BUILD)/static-exports.txt -
	rm -f $@.tmp && $(AR) rcsD $@.tmp $(BUILD)/lib/rtctx.o && mv -f $@.tmp $@
	rm -f $(BUILD)/lib/rtctx-prelink.o $(BUILD)/lib/rtctx.o
