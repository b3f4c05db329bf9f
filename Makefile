# rtctx — build, test, install.
#
#   make                 the self-contained C library in build/lib
#   make demo            build and run examples-c/hello.c
#   make check           every test: Swift, C harness, header, exports, install
#   make install         PREFIX=/usr/local DESTDIR= LIBDIR= INCLUDEDIR=
#   make uninstall
#   make bench           the benchmark against the peers (bench/)

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

.PHONY: all lib demo check check-swift check-c check-header check-exports \
        check-examples check-install install uninstall clean bench

all: lib

# gold keeps some Swift type metadata in the dynamic symbol table despite
# the export map's `local: *`; lld honours it.
LLD := -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld

# SwiftPM decides what to rebuild, so this always asks it.
lib:
	$(SWIFT) build -c release --product rtctx $(SWIFT_WERROR) \
	  -Xswiftc -static-stdlib $(LLD) \
	  -Xlinker --version-script=$(CURDIR)/Sources/RtctxExports/exports.map \
	  -Xlinker -soname=$(SONAME)
	@mkdir -p $(BUILD)/lib
	# Replace, never rewrite in place: a running program has the old file mapped.
	cp .build/release/librtctx.so $(LIBFILE).tmp && mv -f $(LIBFILE).tmp $(LIBFILE)
	ln -sf librtctx.so.$(VERSION) $(BUILD)/lib/$(SONAME)
	ln -sf $(SONAME) $(BUILD)/lib/librtctx.so

$(BUILD)/hello: examples-c/hello.c include/rtctx.h lib
	$(CC) -std=c11 $(CFLAGS) $(WARN) -Iinclude $< $(LINK) -o $@

demo: $(BUILD)/hello
	./$(BUILD)/hello

check: check-header lib check-exports check-swift check-c check-examples check-install
	@echo "make check: all passed"

check-swift:
	$(SWIFT) build --build-tests $(SWIFT_WERROR)
	$(SWIFT) test $(SWIFT_WERROR)

C_TESTS := $(wildcard Tests/c/*.c)
$(BUILD)/rtctx-tests: $(C_TESTS) $(wildcard Tests/c/*.h) include/rtctx.h lib
	$(CC) -std=c11 $(CFLAGS) $(WARN) -Iinclude $(C_TESTS) $(LINK) -o $@

check-c: $(BUILD)/rtctx-tests
	./$(BUILD)/rtctx-tests

# The header alone, as C99, C11 and C++17, pedantic, warnings as errors.
check-header:
	@mkdir -p $(BUILD)
	printf '#include "rtctx.h"\nint main(void) { return rt_version() == 0; }\n' > $(BUILD)/header.c
	$(CC) -std=c99 -pedantic $(WARN) -Iinclude -fsyntax-only $(BUILD)/header.c
	$(CC) -std=c11 -pedantic $(WARN) -Iinclude -fsyntax-only $(BUILD)/header.c
	$(CXX) -std=c++17 -pedantic $(WARN) -Iinclude -fsyntax-only -x c++ $(BUILD)/header.c

# Exactly the header's functions are exported, and no Swift library is needed.
check-exports: lib
	nm -D --defined-only $(LIBFILE) | awk '$$2 == "T" {print $$3}' | sort > $(BUILD)/exported.txt
	grep '^RT_EXPORT' include/rtctx.h | grep -o 'rt_[a-z_]*(' | tr -d '(' | sort > $(BUILD)/declared.txt
	diff -u $(BUILD)/declared.txt $(BUILD)/exported.txt
	@! nm -D --defined-only $(LIBFILE) | awk '{print $$3}' | grep -v '^rt_' | grep -v -E '^(_init|_fini|__bss_start|_edata|_end)$$'
	@! ldd $(LIBFILE) | grep -i swift
	@echo "exports: $$(wc -l < $(BUILD)/exported.txt) rt_* functions, no Swift libraries needed"

EXAMPLES := $(filter-out examples-c/hello.c,$(wildcard examples-c/*.c))
check-examples: $(BUILD)/hello
	./$(BUILD)/hello
	@set -e; for src in $(EXAMPLES); do \
	  exe=$(BUILD)/$$(basename $$src .c); \
	  echo "== $$exe"; \
	  $(CC) -std=c11 $(CFLAGS) $(WARN) -Iinclude $$src $(LINK) -o $$exe; \
	  ./$$exe; \
	done

# Install into a scratch prefix, then build and run a program with pkg-config.
check-install: lib
	rm -rf $(BUILD)/prefix
	$(MAKE) --no-print-directory install PREFIX=$(CURDIR)/$(BUILD)/prefix
	PKG_CONFIG_PATH=$(CURDIR)/$(BUILD)/prefix/lib/pkgconfig \
	  sh -c '$(CC) -std=c11 $(WARN) examples-c/hello.c $$(pkg-config --cflags --libs rtctx) \
	    -Wl,-rpath,$(CURDIR)/$(BUILD)/prefix/lib -o $(BUILD)/hello-installed'
	./$(BUILD)/hello-installed

install: lib
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 755 $(LIBFILE) $(DESTDIR)$(LIBDIR)/
	ln -sf librtctx.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/librtctx.so
	install -m 644 include/rtctx.h $(DESTDIR)$(INCLUDEDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    rtctx.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/rtctx.pc

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/librtctx.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME) \
	      $(DESTDIR)$(LIBDIR)/librtctx.so $(DESTDIR)$(INCLUDEDIR)/rtctx.h \
	      $(DESTDIR)$(PKGCONFIGDIR)/rtctx.pc

# The benchmark: bench/Makefile installs the peers, builds, runs (< 5 min).
bench: lib
	$(MAKE) -C bench

clean:
	rm -rf $(BUILD) .build
