# mk/oom.mk — out of memory is an error, never an abort (included by the Makefile).
#
# Tests/oom/oom-seam.c runs one program over every allocating entry point
# against the debug library, whose allocation funnel (shim.c) can fail the
# Nth allocation: once for each N over the program's whole range, with one
# allocation failing and with every one from N on failing, each run a
# forked child with a watchdog. The RLIMIT_AS half is in the C harness
# (Tests/c/test-oom.c, make check-c), against the release library.
OOM_PARALLEL ?= 4

.PHONY: check-oom

$(BUILD)/debug/oom-seam: Tests/oom/oom-seam.c include/rtctx.h $(DEBUG_LIB)
	$(CC) -std=c11 $(CFLAGS) $(WARN) -Iinclude $< -L$(BUILD)/debug -lrtctx \
	  -Wl,-rpath,$(CURDIR)/$(BUILD)/debug -pthread -o $@

check-oom: $(BUILD)/debug/oom-seam ## every allocation of a program over the whole API failed in turn (debug library)
	timeout -s KILL 600 ./$(BUILD)/debug/oom-seam $(OOM_PARALLEL)
