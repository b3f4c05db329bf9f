/*
 * harness.h — the C test harness of rtctx.
 *
 * A test is `TEST(name) { ... }` in a test-<area>.c file, listed once in
 * tests.list. The runner (main.c) runs every test in a fresh process with a
 * watchdog, so a test may crash, hang or leave threads behind without
 * taking the others with it.
 *
 * A failing CHECK prints file:line, the expressions and both values, then
 * ends the whole test process with status 1. CHECKs work on any thread:
 * inside tasks, drop callbacks and worker hooks too.
 *
 * Every runtime a test creates is shut down before the test returns.
 */
#ifndef RTCTX_TEST_HARNESS_H
#define RTCTX_TEST_HARNESS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pthread_getname_np, clock_gettime, nanosleep */
#endif

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rtctx.h"

/* A TEST that is missing from tests.list has no prototype: make that a
 * compile error instead of a test that silently never runs. Helpers in
 * test files are static, so this costs nothing else. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic error "-Wmissing-prototypes"
#endif

#define TEST_ENTRY(name) void test_##name(void);
#include "tests.list"
#undef TEST_ENTRY

#define TEST(name) void test_##name(void)

/* ------------------------------------------------------------------------ */
/* Assertions                                                                */
/* ------------------------------------------------------------------------ */

/* Prints the message (printf-style) and ends the test process with status 1. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noreturn, format(printf, 3, 4)))
#endif
void test_fail(const char *file, int line, const char *fmt, ...);

#define FAIL(...) test_fail(__FILE__, __LINE__, __VA_ARGS__)

#define CHECK_TRUE(expr)                                                       \
  do {                                                                         \
    if (!(expr))                                                               \
      test_fail(__FILE__, __LINE__, "CHECK_TRUE(%s) failed", #expr);           \
  } while (0)

#define CHECK_FALSE(expr)                                                      \
  do {                                                                         \
    if (expr)                                                                  \
      test_fail(__FILE__, __LINE__, "CHECK_FALSE(%s) failed", #expr);          \
  } while (0)

/* The public macros stringify their arguments themselves, before any
 * macro inside them (atomic_load, ...) is expanded. */
#define CHECK_CMP_(a, op, b, name, sa, sb)                                     \
  do {                                                                         \
    int64_t chk_a_ = (int64_t)(a);                                             \
    int64_t chk_b_ = (int64_t)(b);                                             \
    if (!(chk_a_ op chk_b_))                                                   \
      test_fail(__FILE__, __LINE__,                                            \
                name "(%s, %s) failed: %" PRId64 " " #op " %" PRId64           \
                     " is false",                                              \
                sa, sb, chk_a_, chk_b_);                                       \
  } while (0)

#define CHECK_EQ(a, b) CHECK_CMP_(a, ==, b, "CHECK_EQ", #a, #b)
#define CHECK_NE(a, b) CHECK_CMP_(a, !=, b, "CHECK_NE", #a, #b)
#define CHECK_GE(a, b) CHECK_CMP_(a, >=, b, "CHECK_GE", #a, #b)
#define CHECK_LE(a, b) CHECK_CMP_(a, <=, b, "CHECK_LE", #a, #b)
#define CHECK_GT(a, b) CHECK_CMP_(a, >, b, "CHECK_GT", #a, #b)
#define CHECK_LT(a, b) CHECK_CMP_(a, <, b, "CHECK_LT", #a, #b)

#define CHECK_PTR_EQ(a, b) CHECK_PTR_EQ_(a, b, #a, #b)
#define CHECK_PTR_EQ_(a, b, sa, sb)                                            \
  do {                                                                         \
    const void *chk_a_ = (const void *)(a);                                    \
    const void *chk_b_ = (const void *)(b);                                    \
    if (chk_a_ != chk_b_)                                                      \
      test_fail(__FILE__, __LINE__, "CHECK_PTR_EQ(%s, %s) failed: %p != %p",   \
                sa, sb, chk_a_, chk_b_);                                       \
  } while (0)

#define CHECK_PTR_NE(a, b) CHECK_PTR_NE_(a, b, #a, #b)
#define CHECK_PTR_NE_(a, b, sa, sb)                                            \
  do {                                                                         \
    const void *chk_a_ = (const void *)(a);                                    \
    const void *chk_b_ = (const void *)(b);                                    \
    if (chk_a_ == chk_b_)                                                      \
      test_fail(__FILE__, __LINE__, "CHECK_PTR_NE(%s, %s) failed: both %p",    \
                sa, sb, chk_a_);                                               \
  } while (0)

#define CHECK_NULL(p) CHECK_PTR_EQ_(p, NULL, #p, "NULL")
#define CHECK_NOT_NULL(p) CHECK_PTR_NE_(p, NULL, #p, "NULL")

#define CHECK_STR_EQ(a, b)                                                     \
  do {                                                                         \
    const char *chk_a_ = (a);                                                  \
    const char *chk_b_ = (b);                                                  \
    if (chk_a_ == NULL || chk_b_ == NULL || strcmp(chk_a_, chk_b_) != 0)       \
      test_fail(__FILE__, __LINE__,                                            \
                "CHECK_STR_EQ(%s, %s) failed: \"%s\" != \"%s\"", #a, #b,       \
                chk_a_ ? chk_a_ : "(null)", chk_b_ ? chk_b_ : "(null)");       \
  } while (0)

/* The enumerator's name for an rtctx code ("RT_EAGAIN"), "?" if unknown. */
const char *rt_code_name(int code);

/* An rtctx result code: prints both codes by name, value and rt_strerror. */
#define CHECK_RC(expr, want)                                                   \
  do {                                                                         \
    int got_ = (int)(expr);                                                    \
    int want_ = (int)(want);                                                   \
    if (got_ != want_)                                                         \
      test_fail(__FILE__, __LINE__,                                            \
                "CHECK_RC(%s, %s) failed: got %s (%d, \"%s\"), want %s (%d, "  \
                "\"%s\")",                                                     \
                #expr, #want, rt_code_name(got_), got_, rt_strerror(got_),     \
                rt_code_name(want_), want_, rt_strerror(want_));               \
  } while (0)

/* Polls `cond` every millisecond. This is a liveness bound, not a speed
 * requirement: what we wait for should take microseconds, and 10 s is far
 * below the runner's watchdog, so the failure names the condition. */
#define WAIT_UNTIL(cond)                                                       \
  do {                                                                         \
    uint64_t wu_deadline_ = now_ns() + 10ull * 1000000000ull;                  \
    while (!(cond)) {                                                          \
      if (now_ns() > wu_deadline_)                                             \
        test_fail(__FILE__, __LINE__, "WAIT_UNTIL(%s): still false after 10 s", \
                  #cond);                                                      \
      sleep_ms(1);                                                             \
    }                                                                          \
  } while (0)

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

#define MS ((uint64_t)1000000) /* nanoseconds in a millisecond */

/** CLOCK_MONOTONIC, in nanoseconds. */
uint64_t now_ns(void);
void sleep_ms(unsigned ms);
void sleep_us(unsigned us);

/** A one-shot latch: gate_wait blocks until someone called gate_open. */
typedef struct gate {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool open;
} gate_t;

void gate_init(gate_t *g);
void gate_open(gate_t *g);
void gate_wait(gate_t *g);
/** Waits at most `ms`; true if the gate opened. */
bool gate_wait_ms(gate_t *g, unsigned ms);
bool gate_is_open(gate_t *g);
void gate_destroy(gate_t *g);

/** Opens `g` from a helper thread `ms` milliseconds from now. Join the
 *  returned thread with pthread_join. */
pthread_t gate_open_later(gate_t *g, unsigned ms);

/** rt_new with `workers` workers and `queue_capacity`; fails the test on NULL. */
rt_runtime_t *make_rt(unsigned workers, size_t queue_capacity);

/** rt_stats_get with the full size; fails the test on error. */
rt_stats_t get_stats(rt_handle_t *h);

/** Blocks the calling task until `g` opens; sets *started first. */
typedef struct blocker {
  gate_t gate;
  atomic_int started;
  atomic_int finished;
} blocker_t;

void blocker_init(blocker_t *b);
/** An rt_fn / rt_call_fn body: marks started, waits for the gate, marks finished. */
void blocker_fn(void *b);
void *blocker_call(void *b);
/** Spawns blocker_fn on h and waits until a worker runs it. */
void blocker_start(rt_handle_t *h, blocker_t *b);

/** A task/drop ledger for one arg: how often fn ran and drop ran. */
typedef struct counter {
  atomic_int ran;
  atomic_int dropped;
  atomic_uintptr_t ran_on;     /* pthread_t of the thread that ran fn */
  atomic_uintptr_t dropped_on; /* pthread_t of the thread that ran drop */
  atomic_uint_least64_t ran_at; /* now_ns() when fn started */
} counter_t;

void counter_init(counter_t *c);
void *counter_call(void *c); /* rt_call_fn: counts a run, returns c */
void counter_fn(void *c);    /* rt_fn: counts a run */
void counter_drop(void *c);  /* rt_drop_fn: counts a drop */

/** Threads of this process (from /proc/self/task); with a prefix, only
 *  those whose name starts with it. */
int count_threads(const char *name_prefix);
/** Prints every thread of this process: tid, name, state. */
void print_threads(void);

/** A deterministic-per-seed PRNG (xorshift64*). */
uint64_t rng_next(uint64_t *state);
/** The seed for this process: $RTCTX_SEED, or a fresh one (printed). */
uint64_t test_seed(void);

/* rt_fn and rt_call_fn for calls that must be refused: each fails the test
 * if it ever runs. */
void never_fn(void *arg);
void *never_call(void *arg);
/* The same for rt_apply(): fails the test if any index is ever called. */
void never_apply(void *ctx, size_t index);

/* ------------------------------------------------------------------------ */
/* The build the tests run under, and forked children                        */
/* ------------------------------------------------------------------------ */

/* UNDER_TSAN, UNDER_ASAN: 1 when the tests are built with that sanitizer
 * (gcc defines __SANITIZE_*__, clang has __has_feature). */
#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#ifndef UNDER_TSAN
#define UNDER_TSAN 0
#endif

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

/* Whether `make valgrind` runs the tests ($RTCTX_UNDER_VALGRIND). */
bool under_valgrind(void);

/* Ends a forked child with `code`. Under valgrind not by _exit: the child
 * has a copy of the parent's heap but not its worker threads, so what only
 * their stacks point at would be reported as leaked at the child's exit.
 * Exec'ing a shell ends the child's image without a leak check, and keeps
 * the status. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noreturn))
#endif
void child_exit(int code);

/** A signal storm: installs `handler` for `signo` (SA_SIGINFO,
 *  SA_RESTART) and starts a process-directed timer (the kernel picks any
 *  thread that does not block the signal) sending it every `interval_ns`.
 *  signal_storm_stop() disarms and deletes the timer. */
timer_t signal_storm_start(int signo, void (*handler)(int, siginfo_t *, void *), long interval_ns);
void signal_storm_stop(timer_t timer);

#endif /* RTCTX_TEST_HARNESS_H */
