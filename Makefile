# rtctx — build, test, install.
#
#   make                 the self-contained C library in build/lib
#   make demo            build and run examples-c/hello.c
#   make check           every test: Swift, C harness, header, exports, install
#   make static          also the static archive build/lib/librtctx.a
#   make docs            HTML and man pages from include/rtctx.h (build/docs)
#   make install         PREFIX=/usr/local DESTDIR= LIBDIR= INCLUDEDIR= MANDIR=
#                        (MAN=no: without man pages, so without doxygen)
#   make uninstall       the same variables
#   make bench           the benchmark against the peers (bench/)
#   make check-tsan      the C harness and examples under ThreadSanitizer
#   make check-asan      ... under AddressSanitizer and LeakSanitizer
#   make stress          the API stress test, debug library (STRESS_SECONDS=600 to soak)
#   make fuzz            libFuzzer over the API (FUZZ_SECONDS=30)
#   make valgrind        valgrind --leak-check=full over the C harness
#                        (these five: mk/reliability.mk)
#   make check-repro     two clean builds at other paths give the same bytes
#                        (mk/repro.mk)

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
MAN        ?= yes

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

.PHONY: all lib demo check check-swift check-c check-header check-exports check-size \
        check-examples check-install install uninstall clean bench static docs

all: lib

include mk/embedded.mk

lib: $(LIBFILE)

$(BUILD)/hello: examples-c/hello.c include/rtctx.h $(LIBFILE)
	$(CC) -std=c11 $(CFLAGS) $(WARN) -Iinclude $< $(LINK) -o $@

demo: $(BUILD)/hello
	./$(BUILD)/hello

check: check-header lib check-exports check-size check-swift check-c check-examples check-install stress fuzz
	@echo "make check: all passed"

check-swift:
	$(SWIFT) build --build-tests $(SWIFT_WERROR)
	$(SWIFT) test $(SWIFT_WERROR)
	# The Swift example: sync code -> blockOn(async) -> C -> rt_handle_current.
	$$($(SWIFT) build --show-bin-path)/SwiftBridge

C_TESTS := $(wildcard Tests/c/*.c)
$(BUILD)/rtctx-tests: $(C_TESTS) $(wildcard Tests/c/*.h) Tests/c/tests.list include/rtctx.h $(LIBFILE)
	$(CC) -std=c11 $(CFLAGS) $(WARN) -Iinclude $(C_TESTS) $(LINK) -o $@

check-c: $(BUILD)/rtctx-tests
	./$(BUILD)/rtctx-tests

# The header alone, pedantic, warnings as errors: as C89 (like curl.h and
# sqlite3.h), C99, C11 and C++17; and the versioned structs laid out the
# same in C89 as in C11 (RT_BOOL is bool there, _Bool or unsigned char here).
check-header:
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
check-exports: $(LIBFILE)
	nm -D --defined-only $(LIBFILE) | awk '$$2 == "T" {print $$3}' | sort > $(BUILD)/exported.txt
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
check-size: $(LIBFILE) $(STATICLIB)
	strip -o $(BUILD)/librtctx-stripped.so $(LIBFILE)
	strip -g -o $(BUILD)/librtctx-stripped.a $(STATICLIB)
	@so=$$(stat -c %s $(BUILD)/librtctx-stripped.so); a=$$(stat -c %s $(BUILD)/librtctx-stripped.a); \
	echo "size: librtctx.so $$so bytes stripped, librtctx.a $$a bytes stripped"; size $(LIBFILE); \
	test $$so -le 409600 || { echo "librtctx.so is over 400 KB stripped"; exit 1; }; \
	test $$a -le 1048576 || { echo "librtctx.a is over 1 MB stripped"; exit 1; }

EXAMPLES := $(filter-out examples-c/hello.c,$(wildcard examples-c/*.c))
check-examples: $(BUILD)/hello
	./$(BUILD)/hello
	@set -e; for src in $(EXAMPLES); do \
	  exe=$(BUILD)/$$(basename $$src .c); \
	  echo "== $$exe"; \
	  $(CC) -std=c11 $(CFLAGS) $(WARN) -Iinclude $$src $(LINK) -o $$exe; \
	  ./$$exe; \
	done

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

static: $(STATICLIB)

# --- Documentation ----------------------------------------------------------
#
# Doxygen reads include/rtctx.h (and docs/mainpage.md) and fails on any
# warning (docs/Doxyfile). The man pages installed are the header's page,
# rtctx.h(3), and one link per function and type (rt_spawn(3), ...).
DOCS := $(BUILD)/docs
MAN_SED := -e 's/^RT_EXPORT [^(]*[ *]\(rt_[a-z_]*\)(.*/\1/p' \
           -e 's/^} \(rt_[a-z_]*_t\);/\1/p' \
           -e 's/^typedef struct rt_[a-z_]* \(rt_[a-z_]*_t\);/\1/p' \
           -e 's/^typedef [^(]*(\*\(rt_[a-z_]*\))(.*/\1/p'
MAN_NAMES := $(shell sed -n $(MAN_SED) include/rtctx.h)
MAN_PAGES := rtctx.h.3 rtctx.3 $(MAN_NAMES:%=%.3)

docs:
	@$(call ensure,doxygen,doxygen)
	rm -rf $(DOCS)
	RTCTX_VERSION=$(VERSION) RTCTX_DOCS_OUT=$(CURDIR)/$(DOCS) doxygen docs/Doxyfile
	printf '.so man3/rtctx.h.3\n' > $(DOCS)/man/man3/rtctx.3
	@cd $(DOCS)/man/man3 && for page in $(MAN_PAGES); do \
	  test -f $$page || { echo "docs: Doxygen made no man page $$page" >&2; exit 1; }; done
	@echo "docs: $(DOCS)/html/index.html and $(words $(MAN_PAGES)) man pages in $(DOCS)/man/man3, no warnings"

# --- Install ----------------------------------------------------------------

# The CMake package finds the library and header relative to itself.
relpath = $(shell realpath -m --relative-to=$(1) $(2))
CMAKE_SUBST := -e 's|@VERSION@|$(VERSION)|g' -e 's|@MAJOR@|$(MAJOR)|g' \
  -e 's|@CMAKE_TO_LIBDIR@|$(call relpath,$(CMAKEDIR),$(LIBDIR))|g' \
  -e 's|@CMAKE_TO_INCLUDEDIR@|$(call relpath,$(CMAKEDIR),$(INCLUDEDIR))|g'

install: lib static $(if $(filter yes,$(MAN)),docs)
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(CMAKEDIR)
	install -m 755 $(LIBFILE) $(DESTDIR)$(LIBDIR)/
	ln -sf librtctx.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/librtctx.so
	install -m 644 $(STATICLIB) $(DESTDIR)$(LIBDIR)/
	install -m 644 include/rtctx.h $(DESTDIR)$(INCLUDEDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' rtctx.pc.in > $(BUILD)/rtctx.pc
	install -m 644 $(BUILD)/rtctx.pc $(DESTDIR)$(PKGCONFIGDIR)/
	sed $(CMAKE_SUBST) cmake/rtctxConfig.cmake.in > $(BUILD)/rtctxConfig.cmake
	sed $(CMAKE_SUBST) cmake/rtctxConfigVersion.cmake.in > $(BUILD)/rtctxConfigVersion.cmake
	install -m 644 $(BUILD)/rtctxConfig.cmake $(BUILD)/rtctxConfigVersion.cmake $(DESTDIR)$(CMAKEDIR)/
ifeq ($(MAN),yes)
	install -d $(DESTDIR)$(MANDIR)/man3
	cd $(DOCS)/man/man3 && install -m 644 $(MAN_PAGES) $(DESTDIR)$(MANDIR)/man3/
endif

# Removes every file install puts down. With DESTDIR (a staging tree) the
# directories left empty are removed too, up to DESTDIR itself; without it,
# system directories such as $(PREFIX)/lib stay.
INSTALL_DIRS = $(CMAKEDIR) $(PKGCONFIGDIR) $(MANDIR)/man3 $(INCLUDEDIR) $(LIBDIR)
uninstall:
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

check-install: lib
	@$(call ensure,$(CMAKE),cmake)
	rm -rf $(STAGE) $(CONSUMERS)
	$(MAKE) --no-print-directory install DESTDIR=$(STAGE) PREFIX=/usr
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
	@echo "check-install: installed, 3 consumers built and ran, uninstalled without a trace"

# The benchmark: bench/Makefile installs the peers, builds, runs (< 5 min).
bench: lib
	$(MAKE) -C bench

clean:
	rm -rf $(BUILD) .build

include mk/reliability.mk
include mk/repro.mk
