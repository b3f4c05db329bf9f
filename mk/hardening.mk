# mk/hardening.mk — make check-hardening: the release library's hardening,
# read off the built files as checksec would (included by the Makefile).
#
# Each property is read with readelf and nm from $(LIBFILE) (and, for what
# leaves no trace in the linked library, from the release objects in
# $(BUILD)/lib); a property that regressed fails the check, named, with
# the flag that brings it back. The flags are set in mk/embedded.mk.
#
#   RELRO       a GNU_RELRO segment, holding .got and .got.plt
#   BIND_NOW    FLAGS BIND_NOW and FLAGS_1 NOW: everything bound at load,
#               so the GOT is never written after start (-z now)
#   NX stack    GNU_STACK not executable (-z noexecstack)
#   W^X segments no LOAD segment both writable and executable
#   TEXTREL     none: no code page is written by the dynamic loader
#   RPATH       neither RPATH nor RUNPATH
#   stack protector  __stack_chk_fail imported by the library and by both
#               objects (C: -fstack-protector-strong; Swift: by default)
#   FORTIFY     the release shim's flags define _FORTIFY_SOURCE >= 2 with
#               optimization on (a compile of shim.c with them, -dM -E: a
#               fortified call leaves a __*_chk import only where the size
#               is known, and the shim has no such call today); the
#               library's __*_chk imports are listed
#   CET         (x86-64) both objects carry the IBT and SHSTK property note;
#               the library's own note is the AND of every object linked,
#               the toolchain's start files and libc_nonshared.a included.
#               So the check relinks the objects with -z cet-report=warning
#               to learn which inputs lack it: when none does, the library
#               must have the note (fail if not); when some do (Debian 12's
#               glibc is built without CET: crti.o, crtn.o and
#               pthread_atfork.oS), its absence is reported with their
#               names, not failed. That is "fail if it was present and
#               disappears", decided on every build rather than against a
#               stored baseline, which would be wrong on the next distro.
#   W^X memory  the C test hardening_no_writable_executable_mapping: after
#               callbacks of every mode, /proc/self/maps has no rwx mapping
#
# docs/guarantees.md ("Hardening") says what each reads on the current build.

.PHONY: check-hardening

HARDEN_DIR := $(BUILD)/hardening

check-hardening: $(LIBFILE) $(BUILD)/rtctx-tests ## RELRO, BIND_NOW, NX stack, no TEXTREL/RPATH, stack protector, FORTIFY, CET, W^X, read off the library
	@mkdir -p $(HARDEN_DIR)
	@lib=$(LIBFILE); swift_o=$(BUILD)/lib/rtctx-swift.o; shim_o=$(BUILD)/lib/shim.o; failed=; \
	readelf -lW $$lib > $(HARDEN_DIR)/segments.txt; readelf -dW $$lib > $(HARDEN_DIR)/dynamic.txt; \
	ok() { printf '  ok    %-16s %s\n' "$$1" "$$2"; }; \
	bad() { printf '  FAIL  %-16s %s\n' "$$1" "$$2"; failed="$$failed $$1"; }; \
	echo "check-hardening: $$lib"; \
	relro=$$(awk '$$1 == "GNU_RELRO" { n = NR } END { print n + 0 }' $(HARDEN_DIR)/segments.txt); \
	if [ "$$relro" = 0 ]; then bad RELRO "no GNU_RELRO segment: link with -Wl,-z,relro"; else \
	  first=$$(awk '$$1 ~ /^(LOAD|PHDR|INTERP|DYNAMIC|NOTE|TLS|GNU_[A-Z_]*)$$/ { if (!f) f = NR } END { print f }' $(HARDEN_DIR)/segments.txt); \
	  secs=$$(awk -v i=$$(( relro - first )) '/Section to Segment mapping/ { m = 1; next } m && $$1 == sprintf("%02d", i) { $$1 = ""; print }' $(HARDEN_DIR)/segments.txt); \
	  missing=; for s in $$(readelf -SW $$lib | grep -o '\.got[.a-z]*' | sort -u); do \
	    case " $$secs " in *" $$s "*) ;; *) missing="$$missing $$s";; esac; done; \
	  if [ -n "$$missing" ]; then bad RELRO "GNU_RELRO does not cover$$missing: link with -Wl,-z,relro -Wl,-z,now"; \
	  else ok RELRO "GNU_RELRO segment holds$$secs"; fi; fi; \
	flags=$$(sed -n 's/.*(FLAGS) *//p' $(HARDEN_DIR)/dynamic.txt); flags1=$$(sed -n 's/.*(FLAGS_1) *Flags: *//p' $(HARDEN_DIR)/dynamic.txt); \
	case " $$flags " in *" BIND_NOW "*) now=1;; *) now=0;; esac; \
	case " $$flags1 " in *" NOW "*) now1=1;; *) now1=0;; esac; \
	if [ $$now = 1 ] && [ $$now1 = 1 ]; then ok BIND_NOW "FLAGS $$flags; FLAGS_1 $$flags1"; \
	else bad BIND_NOW "FLAGS '$$flags', FLAGS_1 '$$flags1': BIND_NOW or NOW is gone; link with -Wl,-z,now (partial RELRO: the GOT stays writable)"; fi; \
	stack=$$(awk '$$1 == "GNU_STACK" { print $$7 }' $(HARDEN_DIR)/segments.txt); \
	case "$$stack" in RW) ok "NX stack" "GNU_STACK $$stack";; \
	  "") bad "NX stack" "no GNU_STACK segment: the loader would make the stack executable; link with -Wl,-z,noexecstack";; \
	  *) bad "NX stack" "GNU_STACK is $$stack: link with -Wl,-z,noexecstack";; esac; \
	wx=$$(awk '$$1 == "LOAD" && $$0 ~ / RWE / { n++ } END { print n + 0 }' $(HARDEN_DIR)/segments.txt); \
	if [ "$$wx" = 0 ]; then ok "W^X segments" "no LOAD segment is writable and executable"; \
	else bad "W^X segments" "$$wx LOAD segments are RWE"; fi; \
	if grep -q TEXTREL $(HARDEN_DIR)/dynamic.txt; then bad TEXTREL "the library has text relocations: an object was built without -fPIC"; \
	else ok TEXTREL "none"; fi; \
	if grep -q -E '\((RPATH|RUNPATH)\)' $(HARDEN_DIR)/dynamic.txt; then bad RPATH "$$(grep -E '\((RPATH|RUNPATH)\)' $(HARDEN_DIR)/dynamic.txt | sed 's/^ *0x[0-9a-f]* *//')"; \
	else ok RPATH "neither RPATH nor RUNPATH"; fi; \
	ssp=; for f in $$lib; do nm -D --undefined-only $$f | grep -q ' __stack_chk_fail' || ssp="$$ssp $$f"; done; \
	for f in $$swift_o $$shim_o; do nm --undefined-only $$f | grep -q ' __stack_chk_fail$$' || ssp="$$ssp $$f"; done; \
	if [ -z "$$ssp" ]; then ok "stack protector" "__stack_chk_fail imported by the library, rtctx-swift.o and shim.o"; \
	else bad "stack protector" "no __stack_chk_fail in$$ssp: C needs -fstack-protector-strong (HARDEN_CFLAGS), Swift must not get -disable-stack-protector"; fi; \
	chk=$$(nm -D --undefined-only $$lib | awk '{ sub(/@.*/, "", $$2); print $$2 }' | grep -E '^__.*_chk$$' | grep -v '^__stack_chk_fail$$' | tr '\n' ' ' | sed 's/ $$//'); \
	level=$$($(TOOL_CC) $(SHIM_CFLAGS) $(FORTIFY_CFLAGS) -dM -E $(LIB_SHIM) | awk '$$2 == "_FORTIFY_SOURCE" { l = $$3 } $$2 == "__OPTIMIZE__" { o = 1 } END { print (o ? l : "") }'); \
	if [ -n "$$level" ] && [ "$$level" -ge 2 ]; then ok FORTIFY "shim.c built with _FORTIFY_SOURCE=$$level, optimizing; __*_chk imports: $${chk:-none (no call with a size known to the compiler)}"; \
	else bad FORTIFY "the release shim's flags do not define _FORTIFY_SOURCE >= 2 with optimization (FORTIFY_CFLAGS in mk/embedded.mk)"; fi; \
	if [ "$$(uname -m)" = x86_64 ]; then \
	  unmarked=; for f in $$swift_o $$shim_o; do \
	    readelf -nW $$f | grep -q 'x86 feature: IBT, SHSTK' || unmarked="$$unmarked $$(basename $$f)"; done; \
	  $(TOOL_CC) $$swift_o $$shim_o $(LIB_LDFLAGS) $(EXPORTS) -Wl,-z,cet-report=warning -o $(HARDEN_DIR)/cet-probe.so 2> $(HARDEN_DIR)/cet-report.txt; \
	  lacking=$$(sed -n 's/^ld.lld: warning: \(.*\): -z cet-report: .*/\1/p' $(HARDEN_DIR)/cet-report.txt | sort -u | tr '\n' ' ' | sed 's/ $$//'); \
	  note=$$(readelf -nW $$lib | sed -n 's/.*x86 feature: *//p'); \
	  if [ -n "$$unmarked" ]; then bad CET "no IBT/SHSTK note in$$unmarked: C needs -fcf-protection=full, Swift -Xcc -fcf-protection=full (HARDEN_CFLAGS, HARDEN_SWIFTC)"; \
	  elif [ -n "$$note" ]; then ok CET "library note: x86 feature $$note"; \
	  elif [ -z "$$lacking" ]; then bad CET "every input carries IBT and SHSTK, but the library has no note"; \
	  else ok CET "both objects marked IBT, SHSTK; the library's note absent: no mark on $$lacking"; fi; \
	else ok CET "not x86-64: not checked"; fi; \
	if ./$(BUILD)/rtctx-tests hardening_no_writable_executable_mapping > $(HARDEN_DIR)/wx-test.txt 2>&1; then \
	  ok "W^X memory" "no rwx mapping after callbacks of every mode (hardening_no_writable_executable_mapping)"; \
	else bad "W^X memory" "$$(grep -m1 -E 'writable and executable|not executable-only|FAIL|failed' $(HARDEN_DIR)/wx-test.txt)"; fi; \
	if [ -n "$$failed" ]; then echo "check-hardening: regressed:$$failed"; exit 1; fi; \
	echo "check-hardening: every property holds"
