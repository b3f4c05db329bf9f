# mk/repro.mk — make check-repro: the release library is reproducible
# (included by the Makefile).
#
# The tracked source tree (`git ls-files`; outside a git checkout, the tree
# without build/ and .build*) is copied into two directories under
# $(REPRO) at different absolute paths and depths, and each copy gets a
# clean `make lib static`, the second started two seconds after the first,
# with settings that must not matter: the path, the umask, the time zone,
# the locale and the number of jobs. SOURCE_DATE_EPOCH is the same in both
# (the last commit's time, as a distribution's build would set it; nothing
# in the library embeds a time today). librtctx.so.$(VERSION), librtctx.a
# and the stripped librtctx.so must be byte for byte the same; if not, the
# differing files and their differing ELF sections are listed, and
# `diffoscope` on the two files says more. The builds' logs stay in
# $(REPRO)/*.log.

.PHONY: check-repro

REPRO   := $(BUILD)/repro
REPRO_A := $(REPRO)/a/rtctx
REPRO_B := $(REPRO)/b/some/deeper/path/rtctx-copy
REPRO_FILES := lib/librtctx.so.$(VERSION) lib/librtctx.a librtctx-stripped.so

# The tree a clean clone would have, modified files as they are now.
# $(call repro_copy,DIR)
repro_copy = if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
    git ls-files -z | tar --null -T - --ignore-failed-read -cf - 2>/dev/null; \
  else \
    tar --exclude=./$(BUILD) --exclude='./.build*' -cf - .; \
  fi | tar -xf - -C $(1)

# The ELF sections whose contents differ; an archive is compared member by
# member. $(call repro_sections,FILE1,FILE2,TMPDIR)
repro_sections = \
  elf_diff() { \
    for sec in $$(readelf -SW "$$1" | sed -n 's/^ *\[ *[0-9]*\] \([^ ]*\) .*/\1/p'); do \
      rm -f $(3)/s1 $(3)/s2; \
      $(OBJCOPY) --dump-section "$$sec=$(3)/s1" "$$1" $(3)/junk 2>/dev/null; \
      $(OBJCOPY) --dump-section "$$sec=$(3)/s2" "$$2" $(3)/junk 2>/dev/null; \
      [ -e $(3)/s1 ] || [ -e $(3)/s2 ] || continue; \
      cmp -s $(3)/s1 $(3)/s2 && continue; \
      n1=$$(stat -c %s $(3)/s1 2>/dev/null || echo 0); n2=$$(stat -c %s $(3)/s2 2>/dev/null || echo 0); \
      if [ "$$n1" = "$$n2" ]; then echo "    section $$sec differs ($$(cmp -l $(3)/s1 $(3)/s2 | wc -l) of $$n1 bytes)"; \
      else echo "    section $$sec differs ($$n1 and $$n2 bytes)"; fi; \
    done; \
  }; \
  case "$(1)" in \
    *.a) mkdir -p $(3)/m1 $(3)/m2; \
         (cd $(3)/m1 && ar x "$(1)"); (cd $(3)/m2 && ar x "$(2)"); \
         for m in $$(ls $(3)/m1); do \
           cmp -s $(3)/m1/$$m $(3)/m2/$$m && continue; \
           echo "  member $$m differs"; elf_diff $(3)/m1/$$m $(3)/m2/$$m; \
         done; \
         ar tvO "$(1)" > $(3)/t1; ar tvO "$(2)" > $(3)/t2; \
         cmp -s $(3)/t1 $(3)/t2 || { echo "  archive member headers differ:"; diff $(3)/t1 $(3)/t2 | sed 's/^/    /'; };; \
    *) elf_diff "$(1)" "$(2)";; \
  esac

# $(call repro_build,N,DIR,SETTINGS,JOBS): one clean build, logged in $(REPRO)/N.log
repro_build = ( $(3); export SOURCE_DATE_EPOCH=$$epoch; \
  $(MAKE) --no-print-directory -C $(2) -j$(4) BUILD=build lib static ) > $(REPRO)/$(1).log 2>&1

# Build 2 starts two seconds after build 1 and they run side by side (one
# swiftc each on 2 cores), so a date or time embedded anywhere would differ.
check-repro: ## two clean builds at other paths give byte-identical libraries
	@rm -rf $(REPRO) && mkdir -p $(REPRO_A) $(REPRO_B) $(REPRO)/tmp
	@$(call repro_copy,$(REPRO_A))
	@$(call repro_copy,$(REPRO_B))
	@epoch=$${SOURCE_DATE_EPOCH:-$$(git log -1 --format=%ct 2>/dev/null || echo 1)}; \
	echo "repro: clean builds in $(REPRO_A) and $(REPRO_B) (logs $(REPRO)/1.log, 2.log)"; \
	failed=; \
	( sleep 2; $(call repro_build,2,$(REPRO_B),umask 077; export TZ=Pacific/Kiritimati LC_ALL=C.UTF-8,1) ) & b=$$!; \
	$(call repro_build,1,$(REPRO_A),umask 022; export TZ=UTC LC_ALL=C,2) || failed="$$failed 1"; \
	wait $$b || failed="$$failed 2"; \
	for n in $$failed; do echo "repro: build $$n failed, see $(REPRO)/$$n.log:"; tail -20 $(REPRO)/$$n.log; done; \
	[ -z "$$failed" ]
	@for d in $(REPRO_A) $(REPRO_B); do strip -o $$d/build/librtctx-stripped.so $$d/build/lib/librtctx.so.$(VERSION); done
	@bad=; for f in $(REPRO_FILES); do \
	  a=$(abspath $(REPRO_A))/build/$$f; b=$(abspath $(REPRO_B))/build/$$f; \
	  if ! cmp -s $$a $$b; then \
	    bad=1; echo "repro: $$f differs:"; sha256sum $$a $$b | sed 's/^/  /'; \
	    $(call repro_sections,$$a,$$b,$(REPRO)/tmp); \
	    echo "  (diffoscope $$a $$b)"; \
	  fi; \
	done; \
	if [ -n "$$bad" ]; then echo "repro: FAILED, two clean builds of the same tree differ"; exit 1; fi; \
	echo "repro: librtctx.so.$(VERSION), librtctx.a and the stripped .so identical in two clean builds" \
	  "(sha256 $$(sha256sum $(REPRO_A)/build/lib/librtctx.so.$(VERSION) | cut -c1-16)..., $$(sha256sum $(REPRO_A)/build/lib/librtctx.a | cut -c1-16)...)"
