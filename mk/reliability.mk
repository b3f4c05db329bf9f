# mk/reliability.mk — the tools that find what tests miss (included by the
# Makefile; docs/guarantees.md says what each one shows).
#
#   make check-tsan    ThreadSanitizer: the library built with -sanitize=thread,
#                      the C harness and every example with -fsanitize=thread;
#                      any report fails
#   make check-asan    the same with AddressSanitizer and LeakSanitizer
#   make stress        the random-API stress test against the debug library,
#                      whose live-object counts it checks; STRESS_SECONDS (10),
#                      e.g. STRESS_SECONDS=600 make stress for a soak
#   make fuzz          libFuzzer over the whole API for FUZZ_SECONDS (30), from
#                      the seed corpus in fuzz/corpus (new finds stay in build/)
#   make fuzz-merge    fold the finds of build/fuzz/corpus into fuzz/corpus
#   make valgrind      valgrind --leak-check=full over the C harness, with the
#                      self-contained release library; a definite leak fails
#
# Each tool runs over the embedded library itself, built as its own variant
# of the same sources (mk/embedded.mk): $(BUILD)/tsan/lib, $(BUILD)/asan/lib
# (which also carries libFuzzer's coverage counters, harmless without
# libFuzzer, so that check-asan and fuzz share one build), $(BUILD)/debug.
# valgrind runs the release library.

SAN_CC     ?= $(TOOL_CC)
SWIFT_RT   := $(realpath $(SWIFT_BIN)../lib/swift/linux)
SAN_CFLAGS := -std=c11 -O1 -g -fno-omit-frame-pointer $(WARN) -Iinclude -fuse-ld=lld -pthread
SAN_SUPP   := $(CURDIR)/sanitizers
# Sanitizers slow the tests several times over: a hang is still caught.
SAN_TIMEOUT ?= 180

# The toolchain's TSan runtime carries libdispatch interceptors, so a
# program linked with it needs the toolchain's libdispatch (the library
# does not).
TSAN_LINK := -L$(SWIFT_RT) -ldispatch -lBlocksRuntime -Wl,-rpath,$(SWIFT_RT)

# Any report fails: the process exits with status 66 (TSan) or 1 (ASan).
TSAN_OPTS := halt_on_error=0 exitcode=66 second_deadlock_stack=1 \
  suppressions=$(SAN_SUPP)/tsan.supp
ASAN_OPTS := detect_leaks=1 halt_on_error=1 detect_stack_use_after_return=1 \
  strict_init_order=1 check_initialization_order=1
LSAN_OPTS := suppressions=$(SAN_SUPP)/lsan.supp print_suppressions=0
check-tsan: export TSAN_OPTIONS = $(TSAN_OPTS)
check-asan fuzz fuzz-merge: export ASAN_OPTIONS = $(ASAN_OPTS)
check-asan fuzz fuzz-merge: export LSAN_OPTIONS = $(LSAN_OPTS)

ALL_EXAMPLES := $(wildcard examples-c/*.c)
# timer_callbacks.c uses SIGEV_THREAD timers, whose glibc helper thread
# crashes TSan itself, with or without rtctx: see sanitizers/tsan-sigev-thread.c.
TSAN_EXAMPLES := $(filter-out examples-c/timer_callbacks.c,$(ALL_EXAMPLES))
ASAN_EXAMPLES := $(ALL_EXAMPLES)

TSAN_LIB := $(BUILD)/tsan/lib/librtctx.so.$(VERSION)
ASAN_LIB := $(BUILD)/asan/lib/librtctx.so.$(VERSION)
DEBUG_LIB := $(BUILD)/debug/librtctx.so.$(VERSION)

.PHONY: check-tsan check-asan tsan-lib asan-lib stress fuzz fuzz-merge valgrind clean-reliability

tsan-lib: $(TSAN_LIB)
asan-lib: $(ASAN_LIB)

# $(call sanitized_run,tsan|asan,thread|address,extra link flags,examples):
# builds the harness and the examples against $(BUILD)/<1>/lib, runs them all.
define sanitized_run
	@mkdir -p $(BUILD)/$(1)
	$(SAN_CC) $(SAN_CFLAGS) -fsanitize=$(2) $(C_TESTS) -L$(BUILD)/$(1)/lib -lrtctx $(3) \
	  -Wl,-rpath,$(CURDIR)/$(BUILD)/$(1)/lib -o $(BUILD)/$(1)/rtctx-tests
	RTCTX_TEST_TIMEOUT=$(SAN_TIMEOUT) ./$(BUILD)/$(1)/rtctx-tests
	@set -e; for src in $(4); do \
	  exe=$(BUILD)/$(1)/$$(basename $$src .c); \
	  echo "== $$exe"; \
	  $(SAN_CC) $(SAN_CFLAGS) -fsanitize=$(2) $$src -L$(BUILD)/$(1)/lib -lrtctx $(3) \
	    -Wl,-rpath,$(CURDIR)/$(BUILD)/$(1)/lib -o $$exe; \
	  ./$$exe > $$exe.out 2>&1 || { cat $$exe.out; exit 1; }; \
	done
	@echo "check-$(1): the C harness and $(words $(4)) examples ran clean under -fsanitize=$(2)"
endef

check-tsan: tsan-lib ## the C harness and examples under ThreadSanitizer
	$(call sanitized_run,tsan,thread,$(TSAN_LINK),$(TSAN_EXAMPLES))

check-asan: asan-lib ## the same under AddressSanitizer and LeakSanitizer
	$(call sanitized_run,asan,address,,$(ASAN_EXAMPLES))

# --- Stress -----------------------------------------------------------------
#
# The debug library ($(BUILD)/debug: -Onone, DEBUG defined) counts its
# live runtimes, task cells, guards and callbacks; the stress test reads the
# counts through dlsym and requires zero after each round. The test runs in
# one process, with its output, under a hard time limit.
STRESS_SECONDS ?= 10
STRESS_TESTS   := stress_api_random

stress: $(DEBUG_LIB) ## the random-API stress test on the debug library (STRESS_SECONDS=10)
	$(CC) -std=c11 $(CFLAGS) $(WARN) -Iinclude $(C_TESTS) -L$(BUILD)/debug -lrtctx \
	  -Wl,-rpath,$(CURDIR)/$(BUILD)/debug -pthread -o $(BUILD)/debug/rtctx-tests
	@set -e; for t in $(STRESS_TESTS); do \
	  RTCTX_STRESS_NEED_LEDGER=1 STRESS_SECONDS=$(STRESS_SECONDS) timeout -s KILL $$(($(STRESS_SECONDS) + 120)) \
	    ./$(BUILD)/debug/rtctx-tests --run $$t; \
	done

# --- Fuzzing ----------------------------------------------------------------
FUZZ_SECONDS ?= 30
FUZZ_FLAGS   ?= -timeout=20 -rss_limit_mb=4096 -max_len=1024 -print_final_stats=1

$(BUILD)/fuzz/fuzz_api: fuzz/fuzz_api.c include/rtctx.h $(ASAN_LIB)
	@mkdir -p $(BUILD)/fuzz/corpus
	$(SAN_CC) $(SAN_CFLAGS) -fsanitize=fuzzer,address $< -L$(BUILD)/asan/lib -lrtctx \
	  -Wl,-rpath,$(CURDIR)/$(BUILD)/asan/lib -o $@

# New inputs go to build/fuzz/corpus; fuzz/corpus is only read. A crash
# leaves crash-<sha1> in build/fuzz: `build/fuzz/fuzz_api <file>` replays it.
fuzz: $(BUILD)/fuzz/fuzz_api ## libFuzzer over the whole API (FUZZ_SECONDS=30)
	cd $(BUILD)/fuzz && ./fuzz_api $(FUZZ_FLAGS) -max_total_time=$(FUZZ_SECONDS) \
	  corpus $(CURDIR)/fuzz/corpus

fuzz-merge: $(BUILD)/fuzz/fuzz_api ## fold new fuzzer finds into fuzz/corpus
	./$(BUILD)/fuzz/fuzz_api -merge=1 $(FUZZ_FLAGS) fuzz/corpus $(BUILD)/fuzz/corpus

# --- Valgrind ---------------------------------------------------------------
#
# The harness runs each test in its own process (fork, exec): valgrind
# follows the exec. A definite leak, or any memory error, fails that test.
# 1024-worker tests need more threads than valgrind's default 500.
VALGRIND ?= valgrind
VALGRIND_FLAGS ?= -q --trace-children=yes --leak-check=full --errors-for-leak-kinds=definite \
  --error-exitcode=99 --max-threads=1100

valgrind: $(BUILD)/rtctx-tests ## valgrind --leak-check=full over the C harness
	@$(call ensure,$(VALGRIND),valgrind)
	RTCTX_TEST_TIMEOUT=900 RTCTX_UNDER_VALGRIND=1 $(VALGRIND) $(VALGRIND_FLAGS) ./$(BUILD)/rtctx-tests

