# mk/docs.mk — the manual: HTML and man pages from include/rtctx.h
# (included by the Makefile).
#
#   make docs        build/docs/html (Doxygen) and build/docs/man/man3
#   make check-docs  the docs, then every example of the header compiled
#
# Doxygen reads include/rtctx.h and docs/mainpage.md, fails on any warning
# (docs/Doxyfile), and writes HTML and XML. docs/man.py turns the XML into
# one man page per exported function and per public type, plus the
# overview rtctx(3) (also installed as rtctx.h(3)), renders each with groff
# and man-db and fails on any warning; and it writes the examples of the
# header (@par Example, @code) to build/docs/examples, one C file each.
# Its output and Doxygen's go to $(DOCS_LOG), printed when a step fails.

DOCS     := $(BUILD)/docs
DOCS_LOG := $(BUILD)/docs.log
# The pages, from the header itself: every RT_EXPORT function and every
# public type. docs/man.py fails unless it made exactly these, and install
# copies them. sed, not Doxygen, so that `make uninstall` needs no doxygen.
MAN_SED := -e 's/^RT_EXPORT [^(]*[ *]\(rt_[a-z_]*\)(.*/\1/p' \
           -e 's/^} \(rt_[a-z_]*_t\);/\1/p' \
           -e 's/^typedef struct rt_[a-z_]* \(rt_[a-z_]*_t\);/\1/p' \
           -e 's/^typedef [^(]*(\*\(rt_[a-z_]*\))(.*/\1/p'
MAN_NAMES := $(shell sed -n $(MAN_SED) include/rtctx.h)
MAN_PAGES := rtctx.3 rtctx.h.3 $(MAN_NAMES:%=%.3)

.PHONY: docs check-docs

# Runs every step each time (a few seconds): the output is never stale.
docs:
	@$(call ensure,doxygen,doxygen)
	@rm -rf $(DOCS) $(DOCS_LOG)
	@mkdir -p $(DOCS)
	@{ RTCTX_VERSION=$(VERSION) RTCTX_DOCS_OUT=$(CURDIR)/$(DOCS) doxygen docs/Doxyfile && \
	   python3 docs/man.py --xml $(DOCS)/xml --header include/rtctx.h \
	     --man $(DOCS)/man/man3 --examples $(DOCS)/examples --html $(DOCS)/html \
	     --version $(VERSION) --expect "$(MAN_NAMES)" --lint; \
	 } > $(DOCS_LOG) 2>&1 || { cat $(DOCS_LOG) >&2; echo "docs: failed (log: $(DOCS_LOG))" >&2; exit 1; }
	@cd $(DOCS)/man/man3 && for page in $(MAN_PAGES); do \
	  test -f $$page || { echo "docs: no man page $$page" >&2; exit 1; }; done
	@echo "docs: $(DOCS)/html/index.html and $(words $(MAN_PAGES)) man pages in $(DOCS)/man/man3, no warnings"

# The examples: whole translation units or function bodies (the convention
# is in docs/man.py), each compiled as C11 with warnings as errors.
check-docs: docs
	@n=0; for src in $(DOCS)/examples/*.c; do \
	  $(CC) -std=c11 $(WARN) -Iinclude -fsyntax-only $$src || { echo "check-docs: $$src does not compile" >&2; exit 1; }; \
	  n=$$((n + 1)); done; \
	echo "check-docs: $$n examples from include/rtctx.h compile (C11, -Wall -Wextra -Werror)"
