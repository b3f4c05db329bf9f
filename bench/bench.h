/*
 * bench.h — the interface between the benchmark driver (driver.c) and one
 * adapter per system (one adapters/<system>.c each). Each bench-<system> executable is
 * driver.c linked with exactly one adapter, which defines `bench_adapter`.
 *
 * An adapter exposes only what every system can do through its ordinary
 * public API: post fn(arg) to a worker from an outside thread, post it from
 * a task already running on a worker, and run fn(arg) on a worker while the
 * calling thread waits (one or more round-trip variants). The driver owns
 * the workloads, the clocks, the counters and the output format.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stddef.h>

typedef void (*task_fn)(void *arg);

/* One way of running fn(arg) on the system and waiting for it (W3). */
struct roundtrip {
  const char *label;  /* e.g. "rt_block_on", "dispatch_sync_f" */
  int is_inline;      /* 1 if the system may run fn on the calling thread
                         (no hop): reported in a separate, labelled row */
  void (*call)(void *ctx, task_fn fn, void *arg);
};

/* One way of running W5's mixed stream: how its short tasks and its
 * blocking ones (1 in 10, a 1 ms nanosleep) are posted, and whether the
 * blocking ones mark their sleep as a blocking region. */
struct mixed {
  const char *label;  /* e.g. "rt_spawn + rt_spawn_blocking" */
  int informative;    /* 1: shown, not compared (a run without any hint) */
  void (*spawn_short)(void *ctx, task_fn fn, void *arg);
  void (*spawn_blocking)(void *ctx, task_fn fn, void *arg);
  void (*region_begin)(void); /* may be NULL; called around the sleep */
  void (*region_end)(void);
};

struct adapter {
  const char *name;    /* "rtctx", "dispatch", ... */
  const char *api;     /* one line: which public API the adapter uses */
  const char *(*version)(void); /* may be NULL */
  /* Threads that run tasks (what M1 has to block to keep tasks queued). */
  unsigned (*task_threads)(void *ctx);
  void *(*init)(unsigned workers);
  /* Posts fn(arg) from a thread the system does not own. Dies on failure. */
  void (*spawn)(void *ctx, task_fn fn, void *arg);
  /* Posts fn(arg) from a task running on the system (W4). */
  void (*spawn_from_task)(void *ctx, task_fn fn, void *arg);
  const struct roundtrip *roundtrips;
  size_t n_roundtrips;
  /* Waits for queued work, stops the threads, frees everything. */
  void (*shutdown)(void *ctx);
  /* W5's variants; none (NULL, 0): the system has no W5 row. */
  const struct mixed *mixed;
  size_t n_mixed;
  /* May be NULL: prints `,"key":value...` JSON members about the runtime's
   * threads after W5 (before shutdown), for the notes. */
  void (*mixed_facts)(void *ctx);
};

extern const struct adapter bench_adapter;

/* Prints "bench-<name>: <what>" to stderr and exits with status 2. */
void bench_die(const char *what) __attribute__((noreturn));

#endif
