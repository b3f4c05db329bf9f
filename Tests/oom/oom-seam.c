/*
 * make check-oom: out of memory is an error, never an abort (docs/guarantees.md,
 * "Out of memory").
 *
 * Runs one program that touches every allocating entry point, first with no
 * failure to count its allocations A, then once for each N in 1..A+margin
 * with the Nth allocation failing (mode "one"), and once for each N with
 * every allocation from the Nth on failing (mode "all"). Each run is a child
 * forked without exec (it makes its own runtime) under a watchdog: every call
 * must answer RT_OK or RT_ENOMEM (NULL for the constructors), every accepted
 * task must run or drop exactly once and every refused one neither, the
 * shutdown must return RT_OK, and no library object may be left alive.
 *
 * Then (run_grow) one child per list that grows with the work queued,
 * grown past 2^14 entries with failures injected at each growth; with the
 * argument "grow" after the parallelism, only those.
 *
 * Links the debug library (build/debug), which has the seam:
 * rtctx_debug_fail_allocations and rtctx_debug_allocations (shim.c).
 */
#define _GNU_SOURCE
#include <rtctx.h>

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void rtctx_debug_fail_allocations(uint64_t nth, uint64_t count);
uint64_t rtctx_debug_allocations(void);
intptr_t rtctx_debug_live_objects(int kind);

enum { TASKS = 512, MANY = 40 };

/* One ledger entry per task the program offers. */
struct entry {
  atomic_int ran, dropped;
  int accepted; /* 1 accepted, 0 refused with RT_ENOMEM */
  int must_run; /* no drop callback: an accepted one must run */
};
static struct entry ledger[TASKS];
static int offered;
static atomic_int callback_calls, slot_runs, slot_drops;

/* Across all runs, in memory the children share: RT_ENOMEM answers, NULL
 * answers of the constructors, and runs whose rt_new gave NULL. */
struct totals {
  atomic_long enomem, nulls, no_runtime;
};
static struct totals *totals;

#define DIE(...)                                                               \
  do {                                                                         \
    fprintf(stderr, "oom-seam: " __VA_ARGS__);                                 \
    fputc('\n', stderr);                                                       \
    _exit(3);                                                                  \
  } while (0)

static void run_fn(void *arg) { atomic_fetch_add(&((struct entry *)arg)->ran, 1); }
static void *call_fn(void *arg) {
  atomic_fetch_add(&((struct entry *)arg)->ran, 1);
  return arg;
}
static void drop_fn(void *arg) { atomic_fetch_add(&((struct entry *)arg)->dropped, 1); }
static void callback_handler(void *result, void **args, void *user) {
  (void)result, (void)args, (void)user;
  atomic_fetch_add(&callback_calls, 1);
}
/* A task that spawns from its worker (the worker path's allocations). */
static rt_handle_t *nested_handle;
static struct entry *offer(int must_run);
static void answer(const char *call, int rc, struct entry *e);
static void *nested_fn(void *arg) {
  atomic_fetch_add(&((struct entry *)arg)->ran, 1);
  for (int i = 0; i < 4; i++) {
    struct entry *e = (struct entry *)arg + 1 + i;
    answer("rt_spawn_full (from a task)", rt_spawn_full(nested_handle, call_fn, e, drop_fn, NULL), e);
  }
  return NULL;
}
static atomic_int apply_calls;
static void apply_fn(void *ctx, size_t index) { (void)ctx, (void)index, atomic_fetch_add(&apply_calls, 1); }
static void slot_fn(void *arg) { (void)arg, atomic_fetch_add(&slot_runs, 1); }
static void slot_drop(void *arg) { (void)arg, atomic_fetch_add(&slot_drops, 1); }

static struct entry *offer(int must_run) {
  if (offered == TASKS) DIE("more than %d tasks offered", TASKS);
  struct entry *e = &ledger[offered++];
  e->must_run = must_run;
  return e;
}

/* An answer of a call that took (or not) one ledger entry. */
static void answer(const char *call, int rc, struct entry *e) {
  if (rc == RT_OK) e->accepted = 1;
  else if (rc == RT_ENOMEM) atomic_fetch_add(&totals->enomem, 1);
  else if (rc != RT_ENOMEM) DIE("%s returned %d (%s), neither RT_OK nor RT_ENOMEM", call, rc, rt_strerror(rc));
}

static void check_rc(const char *call, int rc) {
  if (rc == RT_ENOMEM) atomic_fetch_add(&totals->enomem, 1);
  if (rc != RT_OK && rc != RT_ENOMEM) DIE("%s returned %d (%s), neither RT_OK nor RT_ENOMEM", call, rc, rt_strerror(rc));
}

/* Completions owed (by accepted rt_spawn_then calls) and delivered
   (through fn or drop): equal at the end, each exactly once. */
static struct {
  atomic_int owed, delivered;
} completions;
static void completion_fn(void *arg, int status, void *result) {
  (void)status, (void)result;
  atomic_fetch_add(&((__typeof__(completions) *)arg)->delivered, 1);
}
static void completion_drop(void *arg) { atomic_fetch_add(&((__typeof__(completions) *)arg)->delivered, 1); }

static atomic_int timer_firings, timer_drops;
static void timer_fn(void *arg) { (void)arg, atomic_fetch_add(&timer_firings, 1); }
static void timer_drop(void *arg) { atomic_fetch_add((atomic_int *)arg, 1); }

/* Whether every accepted job from ledger entry `from` on ran or was
   dropped. */
static int jobs_done_from(int from) {
  for (int i = from; i < offered; i++) {
    struct entry *x = &ledger[i];
    if (x->accepted && atomic_load(&x->ran) + atomic_load(&x->dropped) == 0) return 0;
  }
  return 1;
}

static void program(void) {
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = 2;
  cfg.max_blocking_threads = 2;
  rt_runtime_t *rt = rt_new(&cfg);
  if (rt == NULL) {
    atomic_fetch_add(&totals->no_runtime, 1);
    return;
  }
  rt_handle_t *h = rt_handle(rt);
  if (h == NULL) DIE("rt_handle returned NULL");

  struct entry *e = offer(1);
  answer("rt_spawn", rt_spawn(h, run_fn, e), e);

  rt_task_t *task = NULL;
  e = offer(0);
  answer("rt_spawn_full", rt_spawn_full(h, call_fn, e, drop_fn, &task), e);
  if (task != NULL) {
    void *result = NULL;
    int rc = rt_task_join(task, -1, &result);
    if (rc != RT_OK && rc != RT_ECANCELED) DIE("rt_task_join returned %d", rc);
    rt_task_release(task);
  }
  e = offer(0);
  answer("rt_spawn_after", rt_spawn_after(h, 1000000, call_fn, e, drop_fn, NULL), e);
  e = offer(0);
  answer("rt_spawn_after (1 hour)", rt_spawn_after(h, 3600ull * 1000000000ull, call_fn, e, drop_fn, NULL), e);

  e = offer(1);
  void *result = NULL;
  int rc = rt_block_on(h, call_fn, e, &result);
  answer("rt_block_on", rc, e);
  if (rc == RT_OK && result != e) DIE("rt_block_on gave a wrong result");

  e = offer(0);
  task = NULL;
  answer("rt_spawn_blocking", rt_spawn_blocking(h, call_fn, e, drop_fn, &task), e);
  if (task != NULL) {
    rc = rt_task_join(task, -1, NULL);
    if (rc != RT_OK && rc != RT_ECANCELED) DIE("rt_task_join (blocking) returned %d", rc);
    rt_task_release(task);
  }

  /* Growth on the caller's path: the timer heap, the blocking queue. */
  for (int i = 0; i < MANY; i++) {
    e = offer(0);
    answer("rt_spawn_after (many)", rt_spawn_after(h, 3600ull * 1000000000ull, call_fn, e, drop_fn, NULL), e);
  }
  for (int i = 0; i < MANY / 4; i++) {
    e = offer(0);
    answer("rt_spawn_blocking (many)", rt_spawn_blocking(h, call_fn, e, drop_fn, NULL), e);
  }

  /* Spawns from a worker, the block_on waiting for the first. */
  nested_handle = h;
  e = offer(1);
  for (int i = 0; i < 4; i++) offer(0);
  rc = rt_block_on(h, nested_fn, e, NULL);
  answer("rt_block_on (nested)", rc, e);

  rc = rt_apply(h, 8, apply_fn, NULL);
  check_rc("rt_apply", rc);
  if (rc == RT_OK && atomic_load(&apply_calls) != 8) DIE("rt_apply made %d calls of 8", atomic_load(&apply_calls));

  rt_strand_t *s = rt_strand_new(h);
  if (s == NULL) atomic_fetch_add(&totals->nulls, 1);
  if (s != NULL) {
    e = offer(1);
    answer("rt_strand_spawn", rt_strand_spawn(s, run_fn, e), e);
    e = offer(0);
    answer("rt_strand_spawn_full", rt_strand_spawn_full(s, call_fn, e, drop_fn, NULL), e);
    for (int i = 0; i < MANY; i++) {
      e = offer(0);
      answer("rt_strand_spawn_full (many)", rt_strand_spawn_full(s, call_fn, e, drop_fn, NULL), e);
    }
    e = offer(1);
    answer("rt_strand_block_on", rt_strand_block_on(s, call_fn, e, NULL), e);
    rt_strand_release(s);
  }

  rt_group_t *g = rt_group_new(h);
  if (g == NULL) atomic_fetch_add(&totals->nulls, 1);
  if (g != NULL) {
    for (int i = 0; i < MANY; i++) {
      e = offer(0);
      answer("rt_group_spawn", rt_group_spawn(g, call_fn, e, drop_fn), e);
    }
    e = offer(1);
    answer("rt_group_notify", rt_group_notify(g, run_fn, e), e);
    rc = rt_group_wait(g, -1);
    if (rc != RT_OK) DIE("rt_group_wait returned %d", rc);
    rt_group_release(g);
  }

  void *code = NULL;
  rt_callback_t *cb = rt_callback_new(h, RT_CALLBACK_POST, RT_TYPE_VOID, NULL, 0, callback_handler, NULL, &code);
  if (cb == NULL) atomic_fetch_add(&totals->nulls, 1);
  if (cb != NULL) {
    for (int i = 0; i < 3; i++) ((void (*)(void))code)();
    rt_callback_free(cb);
  }

  rt_signal_slot_t *slot = rt_signal_slot_new(h, slot_fn, NULL, slot_drop);
  if (slot == NULL) atomic_fetch_add(&totals->nulls, 1);
  if (slot != NULL) {
    rc = rt_signal_slot_post(slot);
    if (rc != RT_OK) DIE("rt_signal_slot_post returned %d", rc);
    rt_signal_slot_free(slot);
  }

  /* A loop on this thread: posts of each shape, a completion onto it. */
  rt_loop_t *l = rt_loop_new(h);
  if (l == NULL) atomic_fetch_add(&totals->nulls, 1);
  if (l != NULL) {
    int first = offered;
    e = offer(1);
    answer("rt_loop_spawn", rt_loop_spawn(l, run_fn, e), e);
    for (int i = 0; i < MANY; i++) {
      e = offer(0);
      answer("rt_loop_spawn_full (many)", rt_loop_spawn_full(l, call_fn, e, drop_fn, NULL), e);
    }
    e = offer(0);
    answer("rt_loop_spawn_after", rt_loop_spawn_after(l, 1000, call_fn, e, drop_fn, NULL), e);
    e = offer(0);
    rt_completion_t c = {.size = sizeof c, .fn = completion_fn, .arg = &completions, .loop = l, .drop = completion_drop};
    rc = rt_spawn_then(h, call_fn, e, drop_fn, &c, NULL);
    answer("rt_spawn_then", rc, e);
    if (rc == RT_OK) atomic_fetch_add(&completions.owed, 1);
    /* Until every accepted job ran: the delayed one and the completion
       come back from workers. */
    for (int spins = 0; spins < 20000 && rt_loop_run_pending(l, 64) >= 0; spins++) {
      if (jobs_done_from(first) && atomic_load(&completions.delivered) == atomic_load(&completions.owed)) break;
      usleep(100);
    }
    rc = rt_loop_free(l);
    if (rc != RT_OK) DIE("rt_loop_free returned %d", rc);
  }

  /* A repeating timer: armed, fired a few times, freed. */
  atomic_store(&timer_firings, 0);
  rt_timer_t *t = rt_timer_new(h, timer_fn, &timer_drops, timer_drop);
  if (t == NULL) atomic_fetch_add(&totals->nulls, 1);
  if (t != NULL) {
    rc = rt_timer_start(t, 0, 200000);
    check_rc("rt_timer_start", rc);
    for (int spins = 0; rc == RT_OK && spins < 2000 && atomic_load(&timer_firings) < 3; spins++) usleep(100);
    rt_timer_free(t);
  }

  rt_stats_t stats;
  memset(&stats, 0, sizeof stats);
  stats.size = sizeof stats;
  check_rc("rt_stats_get", rt_stats_get(h, &stats));

  rt_handle_release(h);
  rc = rt_shutdown(rt);
  if (rc != RT_OK) DIE("rt_shutdown returned %d", rc);

  for (int i = 0; i < offered; i++) {
    struct entry *x = &ledger[i];
    int ran = atomic_load(&x->ran), dropped = atomic_load(&x->dropped);
    if (x->accepted && ran + dropped != 1) DIE("task %d accepted, ran %d times, dropped %d times", i, ran, dropped);
    if (x->accepted && x->must_run && ran != 1) DIE("task %d accepted (no drop callback), ran %d times", i, ran);
    if (!x->accepted && ran + dropped != 0) DIE("task %d refused, ran %d times, dropped %d times", i, ran, dropped);
  }
  if (t != NULL && atomic_load(&timer_drops) != 1) DIE("a repeating timer's arg dropped %d times", atomic_load(&timer_drops));
  if (t == NULL && atomic_load(&timer_drops) != 0) DIE("a refused repeating timer's arg dropped");
  if (atomic_load(&completions.delivered) != atomic_load(&completions.owed))
    DIE("%d completions owed, %d delivered", atomic_load(&completions.owed), atomic_load(&completions.delivered));
  if (atomic_load(&callback_calls) > 3) DIE("3 callback calls ran %d times", atomic_load(&callback_calls));
  if (slot != NULL && atomic_load(&slot_drops) != 1) DIE("a signal slot's arg dropped %d times", atomic_load(&slot_drops));
  if (slot == NULL && atomic_load(&slot_drops) != 0) DIE("a refused signal slot's arg dropped");
}

/* Growth past several doublings, with failures injected where each list
 * grows: the blocking pool's queue, a strand's and a group's job lists and
 * the signal-slot registry, each held from draining by a gate job, grown
 * to GROW entries (past 2^14: growths beyond the 128 KiB reserve). One
 * child per list and per d in 1..GROW_TRIES: within 3 of every power of
 * two of its size, each post is made with every allocation from its dth
 * on failing (if refused, a plain post follows, so the list still grows).
 * For some d that is the growth itself, which before it moved ahead of
 * acceptance ran out of the reserve and trapped. */
enum { GROW = 17000, GROW_TRIES = 6, GROW_CAP = 2 * GROW };
static struct entry *big;
static int big_offered, big_accepted;
static atomic_int gate_open, gate_started;

static void gate_fn(void *arg) {
  (void)arg;
  atomic_store(&gate_started, 1);
  while (!atomic_load(&gate_open)) usleep(200);
}
static void *gate_call(void *arg) {
  gate_fn(arg);
  return NULL;
}
static void slot_run_e(void *arg) { atomic_fetch_add(&((struct entry *)arg)->ran, 1); }
static void slot_drop_e(void *arg) { atomic_fetch_add(&((struct entry *)arg)->dropped, 1); }

static int near_doubling(int size) {
  for (int k = 4; k <= 15; k++)
    if (size >= (1 << k) - 3 && size <= (1 << k) + 3) return 1;
  return 0;
}

static void big_answer(const char *what, int rc, struct entry *e) {
  if (rc == RT_OK) {
    e->accepted = 1;
    big_accepted++;
  } else if (rc == RT_ENOMEM) {
    atomic_fetch_add(&totals->enomem, 1);
  } else {
    DIE("%s returned %d (%s), neither RT_OK nor RT_ENOMEM", what, rc, rt_strerror(rc));
  }
}

enum grow_kind { GROW_BLOCKING, GROW_STRAND, GROW_GROUP, GROW_SLOTS, GROW_KINDS };
static const char *const grow_names[GROW_KINDS] = {"blocking queue", "strand", "group", "signal slots"};

static rt_signal_slot_t **grown_slots;

static int grow_post(enum grow_kind kind, rt_handle_t *h, rt_strand_t *s, rt_group_t *g, struct entry *e) {
  switch (kind) {
  case GROW_BLOCKING: return rt_spawn_blocking(h, call_fn, e, drop_fn, NULL);
  case GROW_STRAND: return rt_strand_spawn_full(s, call_fn, e, drop_fn, NULL);
  case GROW_GROUP: return rt_group_spawn(g, call_fn, e, drop_fn);
  default: {
    rt_signal_slot_t *slot = rt_signal_slot_new(h, slot_run_e, e, slot_drop_e);
    grown_slots[e - big] = slot;
    return slot != NULL ? RT_OK : RT_ENOMEM;
  }
  }
}

static void grow_program(enum grow_kind kind, int d) {
  const char *what = grow_names[kind];
  big = calloc(GROW_CAP, sizeof *big);
  grown_slots = calloc(GROW_CAP, sizeof *grown_slots);
  if (big == NULL || grown_slots == NULL) DIE("no memory for the test's own ledger");
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = 1;
  cfg.max_blocking_threads = 1;
  rt_runtime_t *rt = rt_new(&cfg);
  if (rt == NULL) DIE("%s: rt_new returned NULL with no failure injected", what);
  rt_handle_t *h = rt_handle(rt);
  rt_strand_t *s = kind == GROW_STRAND ? rt_strand_new(h) : NULL;
  rt_group_t *g = kind == GROW_GROUP ? rt_group_new(h) : NULL;
  if (h == NULL || (kind == GROW_STRAND && s == NULL) || (kind == GROW_GROUP && g == NULL))
    DIE("%s: a constructor returned NULL with no failure injected", what);
  /* The gate holds what would drain the list: the one blocking thread,
     the strand (on the one worker), the one worker. */
  int rc = kind == GROW_BLOCKING ? rt_spawn_blocking(h, gate_call, NULL, NULL, NULL)
           : kind == GROW_STRAND ? rt_strand_spawn(s, gate_fn, NULL)
                                 : rt_spawn(h, gate_fn, NULL);
  if (rc != RT_OK) DIE("%s: the gate job was refused (%d)", what, rc);
  while (!atomic_load(&gate_started)) usleep(100);

  while (big_accepted < GROW) {
    if (big_offered + 2 > GROW_CAP) DIE("%s: %d posts refused with no failure injected", what, big_offered - big_accepted);
    if (near_doubling(big_accepted)) {
      struct entry *e = &big[big_offered++];
      rtctx_debug_fail_allocations((uint64_t)d, UINT64_MAX);
      rc = grow_post(kind, h, s, g, e);
      rtctx_debug_fail_allocations(0, 0);
      big_answer(what, rc, e);
      if (rc == RT_OK) continue;
    }
    struct entry *e = &big[big_offered++];
    big_answer(what, grow_post(kind, h, s, g, e), e);
  }

  if (kind == GROW_SLOTS) {
    /* One worker's scan of the grown registry, every allocation failing
       meanwhile; as many runs as the run queues take from one reserve. */
    int posted = 0;
    for (int i = 0; i < big_offered && posted < 3000; i++)
      if (grown_slots[i] != NULL) {
        if (rt_signal_slot_post(grown_slots[i]) != RT_OK) DIE("rt_signal_slot_post refused");
        posted++;
      }
    rtctx_debug_fail_allocations(1, UINT64_MAX);
    atomic_store(&gate_open, 1);
    int ran = 0;
    for (int spins = 0; spins < 100000 && ran < posted; spins++) {
      ran = 0;
      for (int i = 0; i < big_offered; i++) ran += atomic_load(&big[i].ran);
      if (ran < posted) usleep(100);
    }
    rtctx_debug_fail_allocations(0, 0);
    if (ran != posted) DIE("%s: %d of %d posted slots ran", what, ran, posted);
    for (int i = big_offered - 1; i >= 0; i--) rt_signal_slot_free(grown_slots[i]); /* newest first: O(1) each */
  }
  atomic_store(&gate_open, 1);
  if (g != NULL) {
    rc = rt_group_wait(g, -1);
    if (rc != RT_OK) DIE("rt_group_wait returned %d", rc);
    rt_group_release(g);
  }
  if (s != NULL) rt_strand_release(s);
  rt_handle_release(h);
  rc = rt_shutdown(rt);
  if (rc != RT_OK) DIE("%s: rt_shutdown returned %d", what, rc);
  for (int i = 0; i < big_offered; i++) {
    struct entry *x = &big[i];
    int ran = atomic_load(&x->ran), dropped = atomic_load(&x->dropped);
    int want_ran = x->accepted && (kind != GROW_SLOTS || ran > 0), want_dropped = x->accepted && kind == GROW_SLOTS;
    if (kind != GROW_SLOTS && x->accepted && ran + dropped != 1)
      DIE("%s: job %d accepted, ran %d times, dropped %d times", what, i, ran, dropped);
    if (kind == GROW_SLOTS && x->accepted && (ran != want_ran || dropped != want_dropped))
      DIE("%s: slot %d ran %d times, its arg dropped %d times", what, i, ran, dropped);
    if (!x->accepted && ran + dropped != 0) DIE("%s: %d refused, ran %d times, dropped %d times", what, i, ran, dropped);
  }
}

static void child_body(uint64_t nth, uint64_t count) {
  alarm(30); /* the watchdog: SIGALRM fails the run */
  rtctx_debug_fail_allocations(nth, count);
  program();
  rtctx_debug_fail_allocations(0, 0);
  for (int kind = 0; kind <= 8; kind++)
    if (rtctx_debug_live_objects(kind) != 0)
      DIE("%ld live objects of kind %d after the shutdown", (long)rtctx_debug_live_objects(kind), kind);
}

static pid_t spawn_grow(enum grow_kind kind, int d) {
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    exit(2);
  }
  if (pid == 0) {
    alarm(30);
    grow_program(kind, d);
    for (int k = 0; k <= 8; k++)
      if (rtctx_debug_live_objects(k) != 0)
        DIE("%s: %ld live objects of kind %d after the shutdown", grow_names[kind], (long)rtctx_debug_live_objects(k), k);
    _exit(0);
  }
  return pid;
}

/* Forks one run; returns its pid. With `out`, the child writes its
 * allocation count there. */
static pid_t spawn_run(uint64_t nth, uint64_t count, int out) {
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    exit(2);
  }
  if (pid == 0) {
    uint64_t before = rtctx_debug_allocations();
    child_body(nth, count);
    if (out >= 0) {
      uint64_t used = rtctx_debug_allocations() - before;
      if (write(out, &used, sizeof used) != (ssize_t)sizeof used) _exit(4);
    }
    _exit(0);
  }
  return pid;
}

static int failed_runs;

static void reap(pid_t pid, const char *mode, uint64_t nth) {
  int status;
  if (waitpid(pid, &status, 0) != pid) {
    perror("waitpid");
    exit(2);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  failed_runs++;
  if (WIFSIGNALED(status))
    fprintf(stderr, "oom-seam: mode %s, N=%llu: killed by signal %d\n", mode, (unsigned long long)nth, WTERMSIG(status));
  else
    fprintf(stderr, "oom-seam: mode %s, N=%llu: exit status %d\n", mode, (unsigned long long)nth, WEXITSTATUS(status));
}

/* Growth, one child per list, all at once. */
static void run_grow(void) {
  struct timespec g0, g1;
  clock_gettime(CLOCK_MONOTONIC, &g0);
  pid_t grown[GROW_KINDS][GROW_TRIES];
  /* OOM_GROW_ONLY=K runs the Kth list alone (to follow in a debugger). */
  const char *only = getenv("OOM_GROW_ONLY");
  int children = 0;
  for (int k = 0; k < GROW_KINDS; k++)
    for (int d = 0; d < GROW_TRIES; d++) {
      grown[k][d] = only && atoi(only) != k ? 0 : spawn_grow((enum grow_kind)k, d + 1);
      children += grown[k][d] != 0;
    }
  for (int k = 0; k < GROW_KINDS; k++)
    for (int d = 0; d < GROW_TRIES; d++)
      if (grown[k][d] != 0) reap(grown[k][d], grow_names[k], (uint64_t)d + 1);
  clock_gettime(CLOCK_MONOTONIC, &g1);
  printf("oom-seam: %d children grew a list to %d entries (%s, %s, %s, %s), each post within 3 of a power of two "
         "made with its allocations from the dth on failing, d = 1..%d; %.1f s\n",
         children, GROW, grow_names[0], grow_names[1], grow_names[2], grow_names[3], GROW_TRIES,
         (double)(g1.tv_sec - g0.tv_sec) + (double)(g1.tv_nsec - g0.tv_nsec) / 1e9);
}

int main(int argc, char **argv) {
  int parallel = argc > 1 ? atoi(argv[1]) : 4;
  if (parallel < 1) parallel = 1;
  int fds[2];
  if (pipe(fds) != 0) return 2;
  totals = mmap(NULL, sizeof *totals, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (totals == MAP_FAILED) return 2;
  if (argc > 2 && strcmp(argv[2], "grow") == 0) { /* only the growth runs */
    run_grow();
    return failed_runs ? 1 : 0;
  }
  uint64_t most = 0;
  for (int i = 0; i < 3; i++) { /* the count varies with thread timing */
    pid_t pid = spawn_run(0, 0, fds[1]);
    reap(pid, "count", 0);
    uint64_t used = 0;
    if (read(fds[0], &used, sizeof used) != (ssize_t)sizeof used) return 2;
    if (used > most) most = used;
  }
  if (failed_runs) return 1;
  memset(totals, 0, sizeof *totals);
  uint64_t last = most + most / 10 + 10;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  static const struct { const char *name; uint64_t count; } modes[] = {{"one", 1}, {"all", UINT64_MAX}};
  uint64_t runs = 0;
  for (int m = 0; m < 2; m++) {
    pid_t pids[64];
    uint64_t ns[64];
    int live = 0;
    if (parallel > 64) parallel = 64;
    for (uint64_t n = 1; n <= last; n++) {
      if (live == parallel) {
        reap(pids[0], modes[m].name, ns[0]);
        memmove(pids, pids + 1, sizeof pids[0] * (size_t)(live - 1));
        memmove(ns, ns + 1, sizeof ns[0] * (size_t)(live - 1));
        live--;
      }
      pids[live] = spawn_run(n, modes[m].count, -1);
      ns[live++] = n;
      runs++;
    }
    while (live > 0) {
      reap(pids[0], modes[m].name, ns[0]);
      memmove(pids, pids + 1, sizeof pids[0] * (size_t)(live - 1));
      memmove(ns, ns + 1, sizeof ns[0] * (size_t)(live - 1));
      live--;
    }
  }
  run_grow();
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  printf("oom-seam: the program makes up to %llu allocations; %llu runs (N = 1..%llu, one failure and every one "
         "from N on), %d failed, %.1f s; answers: %ld RT_ENOMEM, %ld NULL from a constructor, %ld NULL from rt_new\n",
         (unsigned long long)most, (unsigned long long)runs, (unsigned long long)last, failed_runs, seconds,
         atomic_load(&totals->enomem), atomic_load(&totals->nulls), atomic_load(&totals->no_runtime));
  return failed_runs ? 1 : 0;
}
