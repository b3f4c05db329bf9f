# rtctx — build, test, install. `make help` lists every target.
#
#   make                 the self-contained C library in build/lib (and librtctx.a)
#   make demo            build and run examples-c/hello.c
#   make check           every test, one line per step (logs in build/logs; V=1 shows them)
#   make docs            HTML and man pages from include/rtctx.h (build/docs)
#   make check-docs      the docs, and the header's examples compiled (mk/docs.mk)
#   make install         copies what make (and make docs) built; never builds:
#                        PREFIX=/usr/local DESTDIR= LIBDIR= INCLUDEDIR= MANDIR=
#                        MAN=auto (pages if built) | yes (required) | no
#   make install-strip   the same, with the installed library stripped
#   make uninstall       the same variables
#
# The tools that find what tests miss are in mk/reliability.mk (check-tsan,
# check-asan, stress, fuzz, valgrind); the ABI check in mk/abi.mk
# (check-abi, update-abi); the reproducible-build check in mk/repro.mk
# (check-repro); the hardening check in mk/hardening.mk (check-hardening);
# the model checking in mk/models.mk (check-models); the build itself in
# mk/embedded.mk.

# The version lives in include/rtctx.h only.
version_part = $(shell sed -n 's/^\#define RTCTX_VERSION_$(1) \([0-9]*\)$$/\1/p' include/rtctx.h)
MAJOR   := $(call version_part,MAJOR)
MINOR   := $(call version_part,MINOR)
PATCH   := $(call version_part,PATCH)
VERSION := $(MAJOR).$(MINOR).$(PATCH)

PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
CMAKEDIR   ?= $(LIBDIR)/cmake/rtctx
MANDIR     ?= $(PREFIX)/share/man
MAN        ?= auto

CC      ?= cc
CXX     ?= c++
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Werror
SWIFT   ?= swift
# Warnings are errors for Swift too; `make SWIFT_WERROR=` to relax.
SWIFT_WERROR ?= -Xswiftc -warnings-as-errors

BUILD   := build
SONAME  := librtctx.so.$(MAJOR)
LIBFILE := $(BUILD)/lib/librtctx.so.$(VERSION)
RPATH   := -Wl,-rpath,$(CURDIR)/$(BUILD)/lib
LINK    := -L$(BUILD)/lib -lrtctx $(RPATH) -pthread

.PHONY: all lib demo help check check-swift check-c check-header check-exports check-size \
        check-examples check-install install install-strip uninstall clean bench static docs

all: lib static ## the shared library and the static archive, in build/lib

include mk/embedded.mk

lib: $(LIBFILE) ## the shared library only: build/lib/librtctx.so.*

$(BUILD)/hello: examples-c/hello.c include/rtctx.h $(LIBFILE)
	$(CC) -std=c11 $(CFLAGS) $(WARN) -Iinclude $< $(LINK) -o $@

demo: $(BUILD)/hello ## build and run examples-c/hello.c
	./$(BUILD)/hello

# `make check` runs these in order, each as its own make with its output in
# build/logs/STEP.log: one line per step, and the end of the log of a step
# that fails. `make check V=1` shows everything as it runs.
CHECK_STEPS := check-header lib static check-exports check-abi check-size check-repro check-swift check-c \
  check-hardening check-examples check-docs check-install stress fuzz check-models

check: ## every test: header, exports, ABI, size, reproducible build, Swift, C harness, hardening, examples, docs, install, stress, fuzz, models
	@echo "make check: $(words $(CHECK_STEPS)) steps, logs in $(BUILD)/logs"
	@start=$$(date +%s); for step in $(CHECK_STEPS); do \
	  LOGS=$(BUILD)/logs mk/step.sh $$step $(MAKE) --no-print-directory $$step || exit 1; \
	done; echo "make check: all $(words $(CHECK_STEPS)) steps passed in $$(( $$(date +%s) - start )) s"

help: ## this list
	@echo "make TARGET, with TARGET one of:"
	@sed -n 's/^\([a-z][a-z0-9 -]*\):.*## \(.*\)$$/\1\t\2/p' $(MAKEFILE_LIST) | \
	  awk -F '\t' '{ printf "  %-16s %s\n", $$1, $$2 }'

check-swift: ## the Swift tests (SwiftPM) and the Swift example
	$(SWIFT) build --build-tests $(SWIFT_WERROR)
	$(SWIFT) test $(SWIFT_WERROR)
	# The Swift example: sync code -> blockOn(async) -> C -> rt_handle_current.
	$$($(SWIFT) build --show-bin-path)/SwiftBridge

C_TESTS := $(wildcard Tests/c/*.c)
$(BUILD)/rtctx-tests: $(C_TESTS) $(wildcard Tests/c/*.h) Tests/c/tests.list include/rtctx.h $(LIBFILE)
	$(CC) -std=c11 $(CFLAGS) $(WARN) -Iinclude $(C_TESTS) $(LINK) -o $@

check-c: $(BUILD)/rtctx-tests ## the C test harness (Tests/c), each test in its own process
	./$(BUILD)/rtctx-tests

# The header alone, pedantic, warnings as errors: as C89 (like curl.h and
# sqlite3.h), C99, C11 and C++17; and the versioned structs laid out the
# same in C89 as in C11 (RT_BOOL is bool there, _Bool or unsigned char here).
check-header: ## the header alone as C89, C99, C11 and C++17, pedantic
	@mkdir -p $(BUILD)
	printf '#include "rtctx.h"\nint main(void) { return rt_version() == 0; }\n' > $(BUILD)/header.c
	$(CC) -std=c89 -pedantic $(WARN) -Iinclude -fsyntax-only $(BUILD)/header.c
	$(CC) -std=c99 -pedantic $(WARN) -Iinclude -fsyntax-only $(BUILD)/header.c
	$(CC) -std=c11 -pedantic $(WARN) -Iinclude -fsyntax-only $(BUILD)/header.c
	$(CXX) -std=c++17 -pedantic $(WARN) -Iinclude -fsyntax-only -x c++ $(BUILD)/header.c
	$(TOOL_CC) -std=c89 -pedantic $(WARN) -Iinclude -fsyntax-only $(BUILD)/header.c
	$(CC) -std=c89 -pedantic $(WARN) -Iinclude Tests/header/layout.c -o $(BUILD)/header-layout-c89
	$(CC) -std=c11 -pedantic $(WARN) -Iinclude Tests/header/layout.c -o $(BUILD)/header-layout-c11
	./$(BUILD)/header-layout-c89 > $(BUILD)/header-layout-c89.txt
	./$(BUILD)/header-layout-c11 | diff -u $(BUILD)/header-layout-c89.txt -

# What a C program gets: exactly the header's functions exported, no Swift
# symbol in the dynamic table (defined or undefined), only libc and libffi
# needed, and no executable headers or read-only data.
# (nm -D prints versioned names, rt_spawn@@RTCTX_0, on binutils >= 2.35: the
# version is cut off here; make check-abi checks it.)
check-exports: $(LIBFILE) ## exactly the header's functions exported; needs only libc, libffi
	nm -D --defined-only $(LIBFILE) | awk '$$2 == "T" {sub(/@.*/, "", $$3); print $$3}' | sort > $(BUILD)/exported.txt
	grep '^RT_EXPORT' include/rtctx.h | grep -o 'rt_[a-z_]*(' | tr -d '(' | sort > $(BUILD)/declared.txt
	diff -u $(BUILD)/declared.txt $(BUILD)/exported.txt
	@! nm -D --defined-only $(LIBFILE) | awk '{print $$3}' | grep -v '^rt_' | grep -v -E '^(_init|_fini|__bss_start|_edata|_end)$$'
	@! nm -D $(LIBFILE) | grep -i swift
	readelf -d $(LIBFILE) | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort > $(BUILD)/needed.txt
	printf 'libc.so.6\nlibffi.so.8\n' | diff -u - $(BUILD)/needed.txt
	@# separate-code: the executable segment starts and ends on page boundaries
	@# of the file, so that no page mapped executable holds headers or data.
	@readelf -lW $(LIBFILE) | awk '$$1 == "LOAD" { print $$2, $$5, ($$0 ~ /R E|RWE/) }' | \
	{ prev_end=0; exec_end=; while read off size exec; do \
	    if [ -n "$$exec_end" ] && [ $$(( off )) -lt $$(( (exec_end + 4095) / 4096 * 4096 )) ]; then \
	      echo "the page after the executable segment holds other data: link with -z separate-code"; exit 1; fi; \
	    exec_end=; \
	    if [ "$$exec" = 1 ]; then \
	      if [ $$(( off % 4096 )) -ne 0 ] || [ $$(( off )) -lt $$(( (prev_end + 4095) / 4096 * 4096 )) ]; then \
	        echo "the executable segment shares a page with headers or data: link with -z separate-code"; exit 1; fi; \
	      exec_end=$$(( off + size )); fi; \
	    prev_end=$$(( off + size )); \
	  done; }
	@echo "exports: $$(wc -l < $(BUILD)/exported.txt) rt_* functions, no Swift symbol, needs only $$(tr '\n' ' ' < $(BUILD)/needed.txt)"

# The size promised in the README: stripped, the shared library at most
# 400 KB and the archive at most 1 MB (debug info stays in build/lib).
check-size: $(LIBFILE) $(STATICLIB) ## the library's stripped size within the README's bound
	strip -o $(BUILD)/librtctx-stripped.so $(LIBFILE)
	strip -g -o $(BUILD)/librtctx-stripped.a $(STATICLIB)
	@so=$$(stat -c %s $(BUILD)/librtctx-stripped.so); a=$$(stat -c %s $(BUILD)/librtctx-stripped.a); \
	echo "size: librtctx.so $$so bytes stripped, librtctx.a $$a bytes stripped"; size $(LIBFILE); \
	test $$so -le 409600 || { echo "librtctx.so is over 400 KB stripped"; exit 1; }; \
	test $$a -le 1048576 || { echo "librtctx.a is over 1 MB stripped"; exit 1; }

EXAMPLES := $(filter-out examples-c/hello.c,$(wildcard examples-c/*.c))
check-examples: $(BUILD)/hello ## build and run every program in examples-c, and the README's
	./$(BUILD)/hello
	@echo "== the README's first program"
	sed -n '/^```c$$/,/^```$$/p' README.md | sed '1d;/^```$$/,$$d' > $(BUILD)/readme-first.c
	$(CC) -std=c11 $(CFLAGS) $(WARN) -Iinclude $(BUILD)/readme-first.c $(LINK) -o $(BUILD)/readme-first
	./$(BUILD)/readme-first
	@set -e; for src in $(EXAMPLES); do \
	  exe=$(BUILD)/$$(basename $$src .c); \
	  echo "== $$exe"; \
	  $(CC) -std=c11 $(CFLAGS) $(WARN) -Iinclude $$src $(LINK) -o $$exe; \
	  ./$$exe; \
	done
	@if pkg-config --exists libuv; then \
	  echo "== $(BUILD)/uv_results"; \
	  $(CC) -std=c11 $(CFLAGS) $(WARN) -Iinclude $$(pkg-config --cflags libuv) examples-c/libuv/uv_results.c \
	    $(LINK) $$(pkg-config --libs libuv) -o $(BUILD)/uv_results && ./$(BUILD)/uv_results; \
	else echo "check-examples: SKIPPING examples-c/libuv/uv_results.c: libuv not found (apt-get install libuv1-dev)"; fi

# Tools a target needs and a clean CI machine lacks are installed with
# apt-get when running as root; otherwise the target stops and says what
# to install. $(call ensure,command,package)
ensure = command -v $(1) >/dev/null 2>&1 || { \
  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
    echo "$(1) is missing: apt-get install -y $(2)"; \
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null; \
  else \
    echo "$(1) is missing: install the $(2) package (apt-get install -y $(2)) and run make again" >&2; \
    exit 1; \
  fi; }

static: $(STATICLIB) ## the static archive only: build/lib/librtctx.a

# --- Documentation: make docs, make check-docs (mk/docs.mk) ----------------

include mk/docs.mk

# --- Install ----------------------------------------------------------------

# The CMake package finds the library and header relative to itself.
relpath = $(shell realpath -m --relative-to=$(1) $(2))
CMAKE_SUBST := -e 's|@VERSION@|$(VERSION)|g' -e 's|@MAJOR@|$(MAJOR)|g' \
  -e 's|@CMAKE_TO_LIBDIR@|$(call relpath,$(CMAKEDIR),$(LIBDIR))|g' \
  -e 's|@CMAKE_TO_INCLUDEDIR@|$(call relpath,$(CMAKEDIR),$(INCLUDEDIR))|g'

# Installing copies what `make` (and `make docs`) built and builds nothing,
# so that `make && sudo make install` leaves no root-owned file in the
# user's tree. It refuses, saying what to run, when the library is missing
# or older than its sources. MAN=auto installs the man pages when `make
# docs` made them (and says so when it did not), MAN=yes requires them,
# MAN=no skips them. install-strip is the same with the installed shared
# library stripped of its symbol table and debug info (the archive of its
# debug info only), as GNU's coding standards have it.
INSTALL ?= install
STRIP   ?= strip
INSTALL_STRIP ?= no
# A shell condition: every man page is built, and newer than the header.
man_built = ( for page in $(MAN_PAGES); do test $(DOCS)/man/man3/$$page -nt include/rtctx.h || exit 1; done )

install: ## copy what make built under PREFIX (never builds; see the comment above)
	@for f in $(LIBFILE) $(STATICLIB); do test -f $$f || { \
	  echo "make install: $$f is not built: run 'make' first (as the tree's owner), then 'make install'" >&2; \
	  exit 1; }; done
	@$(MAKE) --no-print-directory -q $(LIBFILE) $(STATICLIB) || { \
	  echo "make install: $(BUILD)/lib is older than the sources: run 'make' again first" >&2; exit 1; }
	@if [ "$(MAN)" = yes ] && ! $(man_built); then \
	  echo "make install: MAN=yes, but the man pages are not built or older than include/rtctx.h: run 'make docs' first" >&2; \
	  exit 1; fi
	$(INSTALL) -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(CMAKEDIR)
	$(INSTALL) -m 755 $(LIBFILE) $(DESTDIR)$(LIBDIR)/
	ln -sf librtctx.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/librtctx.so
	$(INSTALL) -m 644 $(STATICLIB) $(DESTDIR)$(LIBDIR)/
ifeq ($(INSTALL_STRIP),yes)
	$(STRIP) --strip-unneeded $(DESTDIR)$(LIBDIR)/librtctx.so.$(VERSION)
	$(STRIP) --strip-debug $(DESTDIR)$(LIBDIR)/librtctx.a
endif
	$(INSTALL) -m 644 include/rtctx.h $(DESTDIR)$(INCLUDEDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|' rtctx.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/rtctx.pc
	sed $(CMAKE_SUBST) cmake/rtctxConfig.cmake.in > $(DESTDIR)$(CMAKEDIR)/rtctxConfig.cmake
	sed $(CMAKE_SUBST) cmake/rtctxConfigVersion.cmake.in > $(DESTDIR)$(CMAKEDIR)/rtctxConfigVersion.cmake
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/rtctx.pc $(DESTDIR)$(CMAKEDIR)/rtctxConfig*.cmake
	@if [ "$(MAN)" = no ]; then :; elif $(man_built); then \
	  echo "$(INSTALL) -m 644 $(DOCS)/man/man3/*.3 $(DESTDIR)$(MANDIR)/man3/"; \
	  $(INSTALL) -d $(DESTDIR)$(MANDIR)/man3 && \
	  cd $(DOCS)/man/man3 && $(INSTALL) -m 644 $(MAN_PAGES) $(DESTDIR)$(MANDIR)/man3/; \
	else echo "make install: no man pages installed: run 'make docs' before 'make install' for them"; fi

install-strip: ## install, with the installed library stripped
	@$(MAKE) --no-print-directory install INSTALL_STRIP=yes

# Removes every file install puts down. With DESTDIR (a staging tree) the
# directories left empty are removed too, up to DESTDIR itself; without it,
# system directories such as $(PREFIX)/lib stay.
INSTALL_DIRS = $(CMAKEDIR) $(PKGCONFIGDIR) $(MANDIR)/man3 $(INCLUDEDIR) $(LIBDIR)
uninstall: ## remove every file install put down (same variables)
	rm -f $(DESTDIR)$(LIBDIR)/librtctx.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME) \
	      $(DESTDIR)$(LIBDIR)/librtctx.so $(DESTDIR)$(LIBDIR)/librtctx.a \
	      $(DESTDIR)$(INCLUDEDIR)/rtctx.h $(DESTDIR)$(PKGCONFIGDIR)/rtctx.pc \
	      $(DESTDIR)$(CMAKEDIR)/rtctxConfig.cmake $(DESTDIR)$(CMAKEDIR)/rtctxConfigVersion.cmake
	if [ -d $(DESTDIR)$(MANDIR)/man3 ]; then cd $(DESTDIR)$(MANDIR)/man3 && rm -f $(MAN_PAGES); fi
	rmdir $(DESTDIR)$(CMAKEDIR) 2>/dev/null || true
	@if [ -n "$(DESTDIR)" ]; then \
	  top=$$(realpath -m "$(DESTDIR)"); \
	  for d in $(INSTALL_DIRS:%=$(DESTDIR)%); do \
	    d=$$(realpath -m "$$d"); \
	    while [ "$$d" != "$$top" ] && [ "$$d" != / ]; do \
	      if [ -d "$$d" ]; then rmdir "$$d" 2>/dev/null || break; fi; \
	      d=$$(dirname "$$d"); \
	    done; \
	  done; \
	fi

# --- The consumers: install as a distribution would, then build against it --
#
# `make install DESTDIR=$(STAGE) PREFIX=/usr`, then the three projects of
# examples-c/consumer, each copied out of the tree as a user's project:
#  1. pkg-config/, a Makefile: pkg-config --cflags --libs, librtctx.so;
#  2. cmake/, find_package(rtctx CONFIG): rtctx::rtctx and rtctx::rtctx_static;
#  3. static/, a Makefile: pkg-config --static, built after the shared
#     library was deleted from the staging tree.
# Then `make uninstall` must leave the staging tree empty, and the static
# programs must still run.
STAGE     := $(CURDIR)/$(BUILD)/stage
CONSUMERS := $(CURDIR)/$(BUILD)/consumer
# The staged rtctx.pc first, then the system's (rtctx.pc requires libffi).
STAGE_PKG := PKG_CONFIG_SYSROOT_DIR=$(STAGE) \
  PKG_CONFIG_LIBDIR=$(STAGE)/usr/lib/pkgconfig:$(shell pkg-config --variable pc_path pkg-config)
CMAKE     ?= cmake

# Every path of the tree with each file's time (a directory's is left out:
# the staging tree's own directory changes build/'s), but for what a check
# writes itself.
tree_listing = find . \( -path './$(BUILD)/stage*' -o -path './$(BUILD)/logs' -o -path './.git' \
  -o -path './$(BUILD)/tree-*' \) -prune -o \( -type d -printf '%p\n' \) -o -printf '%p %T@\n' | LC_ALL=C sort

check-install: all ## install into a staging tree, build 3 consumer projects against it, uninstall
	@$(call ensure,$(CMAKE),cmake)
	rm -rf $(STAGE) $(STAGE)-strip $(CONSUMERS)
	@echo "== install builds nothing and writes nothing in the tree"
	! $(MAKE) --no-print-directory install BUILD=$(BUILD)/never-built DESTDIR=$(STAGE) 2> $(BUILD)/install-unbuilt.err
	grep -q "is not built: run 'make' first" $(BUILD)/install-unbuilt.err
	test ! -e $(STAGE)
	$(tree_listing) > $(BUILD)/tree-before-install.txt
	$(MAKE) --no-print-directory install DESTDIR=$(STAGE) PREFIX=/usr
	$(tree_listing) | diff -u $(BUILD)/tree-before-install.txt -
	@! readelf -d $(STAGE)/usr/lib/librtctx.so.$(VERSION) | grep -E 'R(UN)?PATH'
	@if [ -f $(STAGE)/usr/share/man/man3/rt_block_on.3 ] && command -v man >/dev/null; then \
	  echo "== man rt_block_on opens its own page"; \
	  MANPATH= man -M $(STAGE)/usr/share/man -P cat rt_block_on 2>/dev/null | grep -A1 '^NAME' | grep -q 'rt_block_on'; fi
	cp -R examples-c/consumer $(CONSUMERS)
	@echo "== 1. pkg-config, shared library"
	$(STAGE_PKG) $(MAKE) --no-print-directory -C $(CONSUMERS)/pkg-config
	LD_LIBRARY_PATH=$(STAGE)/usr/lib $(CONSUMERS)/pkg-config/app
	@echo "== 2. CMake, find_package(rtctx CONFIG)"
	$(CMAKE) -S $(CONSUMERS)/cmake -B $(CONSUMERS)/cmake/build -DCMAKE_PREFIX_PATH=$(STAGE)/usr \
	  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_BUILD_TYPE=Release --log-level=WARNING
	$(CMAKE) --build $(CONSUMERS)/cmake/build
	LD_LIBRARY_PATH=$(STAGE)/usr/lib $(CONSUMERS)/cmake/build/app
	$(CONSUMERS)/cmake/build/app_static
	@echo "== 3. static archive, no librtctx.so installed"
	rm -f $(STAGE)/usr/lib/librtctx.so*
	$(STAGE_PKG) $(MAKE) --no-print-directory -C $(CONSUMERS)/static
	$(CONSUMERS)/static/app
	@echo "== uninstall"
	$(MAKE) --no-print-directory uninstall DESTDIR=$(STAGE) PREFIX=/usr
	@left=$$(find $(STAGE) -mindepth 1); if [ -n "$$left" ]; then \
	  echo "make uninstall left behind:"; echo "$$left"; exit 1; fi
	@! readelf -d $(CONSUMERS)/static/app $(CONSUMERS)/cmake/build/app_static | grep -i 'NEEDED.*rtctx'
	$(CONSUMERS)/static/app
	$(CONSUMERS)/cmake/build/app_static
	@echo "== install-strip: no symbol table or debug info, the same exports; the app runs"
	$(MAKE) --no-print-directory install-strip DESTDIR=$(STAGE)-strip PREFIX=/usr MAN=no
	@! readelf -SW $(STAGE)-strip/usr/lib/librtctx.so.$(VERSION) | grep -E '\.symtab|\.debug_'
	@! readelf -SW $(STAGE)-strip/usr/lib/librtctx.a | grep -E '\.debug_'
	nm -D --defined-only $(STAGE)-strip/usr/lib/librtctx.so.$(VERSION) | awk '{print $$3}' | sed 's/@.*//' | sort | \
	  diff -u $(BUILD)/static-exports.txt -
	LD_LIBRARY_PATH=$(STAGE)-strip/usr/lib $(CONSUMERS)/pkg-config/app
	$(MAKE) --no-print-directory uninstall DESTDIR=$(STAGE)-strip PREFIX=/usr
	test -z "$$(find $(STAGE)-strip -mindepth 1)"
	@echo "check-install: installed without building or writing in the tree, no RUNPATH, 3 consumers built and ran, install-strip, uninstalled without a trace"

# The benchmark: bench/Makefile installs the peers, builds, runs (< 5 min).
bench: lib ## the benchmark against libdispatch, tokio, libuv, GLib, SwiftNIO (bench/)
	$(MAKE) -C bench

clean: ## remove build/ and .build/
	rm -rf $(BUILD) .build

include mk/reliability.mk
include mk/abi.mk
include mk/repro.mk
include mk/hardening.mk
include mk/models.mk
