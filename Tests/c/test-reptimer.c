/* test-reptimer.c — repeating timers (rt_timer_*): firings on the grid
 * start + k * period, never early, late ones not made up twice, never
 * concurrent with themselves; re-armed and stopped from the callback and
 * from racing threads; drop once after the last callback; bad arguments.
 * And rt_shutdown_background: returns while a task is blocked, drops what
 * had not started once, memory reclaimed when the blocked task ends. */
#include "harness.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>

static rt_timer_info_t info_of(rt_timer_t *t) {
  rt_timer_info_t info;
  memset(&info, 0, sizeof info);
  info.size = sizeof info;
  CHECK_RC(rt_timer_get_info(t, &info), RT_OK);
  return info;
}

/* --- 10,000 periods ------------------------------------------------------ */

enum { PERIODS = 10000 };
static const uint64_t PERIOD = 200000; /* 200 us */

static struct {
  rt_timer_t *t;
  atomic_int inside;
  int64_t prev_k;
  uint64_t prev_end;
  uint64_t late_max, late_sum;
  uint64_t late[PERIODS + 2];
  int n;
  gate_t done;
} D;

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static void drift_tick(void *arg) {
  (void)arg;
  uint64_t now = now_ns();
  CHECK_EQ(atomic_fetch_add(&D.inside, 1), 0); /* never concurrent with itself */
  rt_timer_info_t info = info_of(D.t);
  CHECK_TRUE(info.running);
  int64_t k = (int64_t)(info.fired + info.skipped) - 1;
  /* Firing k's scheduled time is on the grid: no drift, however late. */
  CHECK_EQ(info.last_due_ns, info.start_ns + (uint64_t)k * PERIOD);
  /* Never earlier than its scheduled time. */
  CHECK_GE(now, info.last_due_ns);
  if (D.prev_k >= 0) {
    CHECK_GE(k, D.prev_k + 1);
    /* Not made up twice: the firing after a late one is the latest due
     * when the previous callback returned (prev_end is a little before
     * that), or a later one; and never a later one than due at its start. */
    int64_t due_at_prev_end = (int64_t)((D.prev_end - info.start_ns) / PERIOD);
    CHECK_GE(k, due_at_prev_end);
    int64_t due_now = (int64_t)((now - info.start_ns) / PERIOD);
    CHECK_LE(k, due_now > D.prev_k + 1 ? due_now : D.prev_k + 1);
  }
  uint64_t late = now - info.last_due_ns;
  if (D.n < PERIODS + 2)
    D.late[D.n++] = late;
  if (late > D.late_max)
    D.late_max = late;
  D.late_sum += late;
  D.prev_k = k;
  if (k + 1 >= PERIODS) {
    CHECK_RC(rt_timer_stop(D.t), RT_OK); /* from its own callback */
    gate_open(&D.done);
  }
  atomic_fetch_sub(&D.inside, 1);
  D.prev_end = now_ns();
}

TEST(reptimer_10000_periods_on_the_grid) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  gate_init(&D.done);
  D.prev_k = -1;
  D.t = rt_timer_new(h, drift_tick, NULL, NULL);
  CHECK_NOT_NULL(D.t);
  uint64_t before = now_ns();
  CHECK_RC(rt_timer_start(D.t, PERIOD, PERIOD), RT_OK);
  rt_timer_info_t info = info_of(D.t);
  CHECK_GE(info.start_ns, before + PERIOD);
  CHECK_LE(info.start_ns, now_ns() + PERIOD);
  CHECK_EQ(info.period_ns, PERIOD);
  gate_wait(&D.done);
  /* Stopped from the callback: nothing follows it. */
  WAIT_UNTIL(!info_of(D.t).running);
  info = info_of(D.t);
  CHECK_FALSE(info.armed);
  uint64_t n = info.fired + info.skipped;
  CHECK_GE(n, PERIODS); /* the stop came at the first firing of index PERIODS - 1 or later */
  CHECK_LT(n - 1, PERIODS + info.skipped);
  /* Every index up to the last was either fired or skipped, exactly once. */
  CHECK_EQ((info.last_due_ns - info.start_ns) / PERIOD + 1, n);
  uint64_t ns = 1;
  CHECK_RC(rt_timer_due_in(D.t, &ns), RT_ECANCELED);
  CHECK_EQ(ns, 0);
  sleep_us(5 * (unsigned)(PERIOD / 1000));
  CHECK_EQ(info_of(D.t).fired, info.fired);
  qsort(D.late, (size_t)D.n, sizeof D.late[0], cmp_u64);
  printf("reptimer: %d periods of %" PRIu64 " us: drift of scheduled times 0 ns (last due = "
         "start + %" PRIu64 " x period exactly); %" PRIu64 " fired, %" PRIu64
         " skipped; lateness median %" PRIu64 " us, p99 %" PRIu64 " us, max %" PRIu64 " us\n",
         PERIODS, PERIOD / 1000, n - 1, info.fired, info.skipped, D.late[D.n / 2] / 1000,
         D.late[D.n * 99 / 100] / 1000, D.late_max / 1000);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.timers, 0);
  rt_timer_free(D.t);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  s = get_stats(h);
  CHECK_EQ(s.spawned, s.completed + s.dropped);
  CHECK_GE(s.completed, info.fired);
  rt_handle_release(h);
  gate_destroy(&D.done);
}

/* --- Re-arm and stop from the callback ----------------------------------- */

static struct {
  rt_timer_t *t;
  atomic_int fired;
  atomic_int drops;
  gate_t done;
} R;

static void rearm_tick(void *arg) {
  (void)arg;
  int n = atomic_fetch_add(&R.fired, 1) + 1;
  if (n == 3) {
    /* Re-armed from its own callback: a one-shot 1 ms from now. */
    CHECK_RC(rt_timer_start(R.t, 1 * MS, 0), RT_OK);
    uint64_t ns = 0;
    CHECK_RC(rt_timer_due_in(R.t, &ns), RT_OK);
    CHECK_LE(ns, 1 * MS);
  }
  if (n == 4)
    gate_open(&R.done);
}

static void rearm_drop(void *arg) {
  CHECK_PTR_EQ(arg, &R);
  atomic_fetch_add(&R.drops, 1);
}

TEST(reptimer_rearm_from_callback) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  gate_init(&R.done);
  R.t = rt_timer_new(h, rearm_tick, &R, rearm_drop);
  CHECK_NOT_NULL(R.t);
  CHECK_RC(rt_timer_start(R.t, 0, 1 * MS), RT_OK);
  gate_wait(&R.done);
  WAIT_UNTIL(!info_of(R.t).running);
  sleep_ms(5);
  CHECK_EQ(atomic_load(&R.fired), 4); /* the one-shot did not repeat */
  rt_timer_info_t info = info_of(R.t);
  CHECK_FALSE(info.armed);
  CHECK_EQ(info.period_ns, 0);
  uint64_t ns;
  CHECK_RC(rt_timer_due_in(R.t, &ns), RT_ECANCELED);
  /* Again without a period: refused. */
  CHECK_RC(rt_timer_again(R.t), RT_EINVAL);
  /* Started again with a period, and again: armed one period out. */
  CHECK_RC(rt_timer_start(R.t, 3600ull * 1000 * MS, 3600ull * 1000 * MS), RT_OK);
  CHECK_RC(rt_timer_again(R.t), RT_OK);
  CHECK_RC(rt_timer_due_in(R.t, &ns), RT_OK);
  CHECK_GT(ns, 3599ull * 1000 * MS);
  CHECK_EQ(get_stats(h).timers, 1); /* one firing pending, exactly */
  CHECK_EQ(atomic_load(&R.drops), 0);
  rt_timer_free(R.t);
  CHECK_EQ(atomic_load(&R.drops), 1);
  CHECK_EQ(get_stats(h).timers, 0);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&R.drops), 1);
  rt_handle_release(h);
  gate_destroy(&R.done);
}

static void stop_tick(void *arg) {
  (void)arg;
  if (atomic_fetch_add(&R.fired, 1) + 1 == 5) {
    CHECK_RC(rt_timer_stop(R.t), RT_OK);
    gate_open(&R.done);
  }
}

TEST(reptimer_stop_from_callback) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  gate_init(&R.done);
  atomic_store(&R.fired, 0);
  atomic_store(&R.drops, 0);
  R.t = rt_timer_new(h, stop_tick, &R, rearm_drop);
  CHECK_RC(rt_timer_start(R.t, 0, 100000), RT_OK);
  gate_wait(&R.done);
  sleep_ms(10); /* a hundred periods */
  CHECK_EQ(atomic_load(&R.fired), 5);
  CHECK_EQ(get_stats(h).timers, 0);
  rt_timer_free(R.t);
  WAIT_UNTIL(atomic_load(&R.drops) == 1);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&R.drops), 1);
  rt_handle_release(h);
  gate_destroy(&R.done);
}

/* --- Stop and start from racing threads ---------------------------------- */

static struct {
  rt_timer_t *t;
  atomic_int inside;
  atomic_int fired;
  atomic_int drops;
  atomic_bool quit;
} X;

static void race_tick(void *arg) {
  (void)arg;
  CHECK_EQ(atomic_fetch_add(&X.inside, 1), 0);
  atomic_fetch_add(&X.fired, 1);
  if (atomic_load(&X.fired) % 7 == 0)
    (void)rt_timer_stop(X.t);
  else if (!atomic_load(&X.quit) && atomic_load(&X.fired) % 5 == 0)
    /* Only while the racers run: a start from here after the final
     * loop's stop would re-arm the timer (the later call wins), and the
     * loop checks that nothing fires after a stop. */
    CHECK_RC(rt_timer_start(X.t, 0, 20000), RT_OK);
  atomic_fetch_sub(&X.inside, 1);
}

static void race_drop(void *arg) {
  (void)arg;
  CHECK_EQ(atomic_load(&X.inside), 0); /* after the last callback */
  atomic_fetch_add(&X.drops, 1);
}

static void *racer(void *arg) {
  uint64_t seed = (uint64_t)(uintptr_t)arg;
  while (!atomic_load(&X.quit)) {
    switch (rng_next(&seed) % 4) {
    case 0:
    case 1:
      CHECK_RC(rt_timer_start(X.t, rng_next(&seed) % 50000, 1 + rng_next(&seed) % 30000), RT_OK);
      break;
    case 2: {
      int rc = rt_timer_stop(X.t);
      CHECK_TRUE(rc == RT_OK || rc == RT_EBUSY);
      break;
    }
    default: {
      uint64_t ns;
      int rc = rt_timer_due_in(X.t, &ns);
      CHECK_TRUE(rc == RT_OK || rc == RT_ECANCELED);
      break;
    }
    }
    sleep_us((unsigned)(rng_next(&seed) % 100));
  }
  return NULL;
}

TEST(reptimer_stop_start_race) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  X.t = rt_timer_new(h, race_tick, &X, race_drop);
  CHECK_NOT_NULL(X.t);
  pthread_t th[3];
  for (int i = 0; i < 3; i++)
    CHECK_EQ(pthread_create(&th[i], NULL, racer, (void *)(uintptr_t)(test_seed() + (uint64_t)i)), 0);
  sleep_ms(300);
  atomic_store(&X.quit, true);
  for (int i = 0; i < 3; i++)
    pthread_join(th[i], NULL);
  for (int round = 0; round < 50; round++) {
    CHECK_RC(rt_timer_start(X.t, 0, 10000), RT_OK);
    sleep_us(200);
    /* After stop returns, no callback starts: at most the one running. */
    if (rt_timer_stop(X.t) == RT_EBUSY)
      WAIT_UNTIL(!info_of(X.t).running);
    int fired = atomic_load(&X.fired);
    CHECK_EQ(atomic_load(&X.inside), 0);
    sleep_us(300);
    CHECK_EQ(atomic_load(&X.fired), fired);
  }
  CHECK_EQ(get_stats(h).timers, 0);
  rt_timer_free(X.t);
  CHECK_EQ(atomic_load(&X.drops), 1);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, s.completed + s.dropped);
  CHECK_EQ(s.timers, 0);
  rt_handle_release(h);
}

/* --- Free while firing --------------------------------------------------- */

static struct {
  blocker_t b;
  atomic_int returned;
  atomic_int drops;
  atomic_int fired;
} F;

static void blocking_tick(void *arg) {
  (void)arg;
  if (atomic_fetch_add(&F.fired, 1) == 0)
    blocker_fn(&F.b);
  atomic_store(&F.returned, 1);
}

static void free_drop(void *arg) {
  CHECK_PTR_EQ(arg, &F);
  CHECK_EQ(atomic_load(&F.returned), 1); /* after the last callback returned */
  atomic_fetch_add(&F.drops, 1);
}

TEST(reptimer_free_while_firing) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  blocker_init(&F.b);
  rt_timer_t *t = rt_timer_new(h, blocking_tick, &F, free_drop);
  CHECK_RC(rt_timer_start(t, 0, 100000), RT_OK);
  WAIT_UNTIL(atomic_load(&F.b.started) == 1);
  CHECK_RC(rt_timer_stop(t), RT_EBUSY); /* its callback runs on a worker */
  rt_timer_free(t);
  sleep_ms(2);
  CHECK_EQ(atomic_load(&F.drops), 0);
  gate_open(&F.b.gate);
  WAIT_UNTIL(atomic_load(&F.drops) == 1);
  CHECK_EQ(atomic_load(&F.fired), 1);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&F.drops), 1);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, s.completed + s.dropped);
  rt_handle_release(h);
}

/* --- Shutdown ------------------------------------------------------------ */

static atomic_int shut_fired;
static void count_tick(void *arg) {
  (void)arg;
  atomic_fetch_add(&shut_fired, 1);
}

TEST(reptimer_shutdown_stops_it) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  counter_t c;
  counter_init(&c);
  rt_timer_t *fast = rt_timer_new(h, count_tick, &c, counter_drop);
  rt_timer_t *slow = rt_timer_new(h, count_tick, &c, counter_drop);
  CHECK_RC(rt_timer_start(fast, 0, 50000), RT_OK);
  CHECK_RC(rt_timer_start(slow, 3600ull * 1000 * MS, 1 * MS), RT_OK);
  WAIT_UNTIL(atomic_load(&shut_fired) >= 10);
  /* Graceful: does not wait for future firings. */
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.timers, 0);
  CHECK_EQ(s.spawned, s.completed + s.dropped);
  int fired = atomic_load(&shut_fired);
  uint64_t ns;
  CHECK_RC(rt_timer_due_in(fast, &ns), RT_ECANCELED);
  CHECK_RC(rt_timer_due_in(slow, &ns), RT_ECANCELED);
  CHECK_RC(rt_timer_start(fast, 0, 1000), RT_ESHUTDOWN);
  CHECK_RC(rt_timer_again(slow), RT_ESHUTDOWN);
  CHECK_NULL(rt_timer_new(h, never_fn, NULL, NULL));
  CHECK_EQ(atomic_load(&c.dropped), 0);
  rt_timer_free(fast);
  rt_timer_free(slow);
  CHECK_EQ(atomic_load(&c.dropped), 2);
  CHECK_EQ(atomic_load(&shut_fired), fired);
  rt_handle_release(h);
}

TEST(reptimer_bad_args) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  CHECK_NULL(rt_timer_new(NULL, never_fn, NULL, NULL));
  CHECK_NULL(rt_timer_new(h, NULL, NULL, NULL));
  CHECK_RC(rt_timer_start(NULL, 0, 0), RT_EINVAL);
  CHECK_RC(rt_timer_again(NULL), RT_EINVAL);
  CHECK_RC(rt_timer_stop(NULL), RT_EINVAL);
  uint64_t ns;
  CHECK_RC(rt_timer_due_in(NULL, &ns), RT_EINVAL);
  rt_timer_info_t info;
  info.size = sizeof info;
  CHECK_RC(rt_timer_get_info(NULL, &info), RT_EINVAL);
  rt_timer_free(NULL);
  rt_timer_t *t = rt_timer_new(h, never_fn, NULL, NULL);
  CHECK_NOT_NULL(t);
  CHECK_RC(rt_timer_due_in(t, NULL), RT_EINVAL);
  CHECK_RC(rt_timer_get_info(t, NULL), RT_EINVAL);
  info.size = 1;
  CHECK_RC(rt_timer_get_info(t, &info), RT_EINVAL);
  info.size = sizeof info + 8;
  CHECK_RC(rt_timer_get_info(t, &info), RT_EINVAL);
  /* An older caller's smaller struct: only its fields are written. */
  struct {
    rt_timer_info_t i;
    uint64_t canary;
  } small;
  memset(&small, 0xAB, sizeof small);
  small.i.size = offsetof(rt_timer_info_t, period_ns);
  CHECK_RC(rt_timer_get_info(t, &small.i), RT_OK);
  CHECK_EQ(small.canary, 0xABABABABABABABABull);
  CHECK_RC(rt_timer_again(t), RT_EINVAL); /* never started */
  CHECK_RC(rt_timer_due_in(t, &ns), RT_ECANCELED);
  CHECK_RC(rt_timer_stop(t), RT_OK); /* stopping a stopped timer */
  /* Huge values do not overflow: such a firing never falls due. */
  CHECK_RC(rt_timer_start(t, UINT64_MAX, UINT64_MAX), RT_OK);
  CHECK_RC(rt_timer_due_in(t, &ns), RT_OK);
  CHECK_TRUE(ns > 1000ull * 3600 * 1000 * MS);
  rt_timer_free(t);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

/* --- rt_shutdown_background ---------------------------------------------- */

static long live(int kind) {
  long (*fn)(int) = NULL;
  *(void **)&fn = dlsym(RTLD_DEFAULT, "rtctx_debug_live_objects");
  return fn == NULL ? -1 : fn(kind);
}

static int stuck_pipe[2];
static atomic_int stuck_started, stuck_finished;

static void *stuck_on_pipe(void *arg) {
  (void)arg;
  atomic_store(&stuck_started, 1);
  char byte;
  CHECK_EQ(read(stuck_pipe[0], &byte, 1), 1); /* blocks until the test writes */
  atomic_store(&stuck_finished, 1);
  return NULL;
}

static atomic_int stop_hooks;
static void on_stop(void *u) {
  (void)u;
  atomic_fetch_add(&stop_hooks, 1);
}

TEST(shutdown_background_leaves_a_blocked_task) {
  CHECK_EQ(pipe(stuck_pipe), 0);
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = 1;
  cfg.thread_name = "bgsd";
  cfg.on_thread_stop = on_stop;
  rt_runtime_t *rt = rt_new(&cfg);
  CHECK_NOT_NULL(rt);
  rt_handle_t *h = rt_handle(rt);
  rt_task_t *stuck = NULL;
  CHECK_RC(rt_spawn_full(h, stuck_on_pipe, NULL, NULL, &stuck), RT_OK);
  WAIT_UNTIL(atomic_load(&stuck_started) == 1);
  enum { QUEUED = 100 };
  static counter_t c[QUEUED];
  rt_task_t *later = NULL;
  for (int i = 0; i < QUEUED; i++) {
    counter_init(&c[i]);
    CHECK_RC(rt_spawn_full(h, counter_call, &c[i], counter_drop, i == 0 ? &later : NULL), RT_OK);
  }
  counter_t tc;
  counter_init(&tc);
  CHECK_RC(rt_spawn_after(h, 3600ull * 1000 * MS, counter_call, &tc, counter_drop, NULL), RT_OK);
  rt_timer_t *rep = rt_timer_new(h, never_fn, &tc, counter_drop);
  CHECK_RC(rt_timer_start(rep, 3600ull * 1000 * MS, 1 * MS), RT_OK);

  /* Returns although the one worker is blocked in read(). */
  CHECK_RC(rt_shutdown_background(rt), RT_OK);
  CHECK_EQ(atomic_load(&stuck_finished), 0);
  /* Everything not started was dropped exactly once. */
  for (int i = 0; i < QUEUED; i++) {
    WAIT_UNTIL(atomic_load(&c[i].dropped) == 1);
    CHECK_EQ(atomic_load(&c[i].ran), 0);
  }
  CHECK_EQ(atomic_load(&tc.dropped), 1); /* the one-shot timer; not the repeating one yet */
  CHECK_RC(rt_task_join(later, -1, NULL), RT_ECANCELED);
  CHECK_FALSE(rt_task_is_finished(stuck));
  /* Calls through handles answer RT_ESHUTDOWN. */
  CHECK_RC(rt_spawn(h, never_fn, NULL), RT_ESHUTDOWN);
  CHECK_RC(rt_spawn_full(h, never_call, NULL, NULL, NULL), RT_ESHUTDOWN);
  CHECK_RC(rt_block_on(h, never_call, NULL, NULL), RT_ESHUTDOWN);
  CHECK_RC(rt_timer_start(rep, 0, 1 * MS), RT_ESHUTDOWN);
  CHECK_NULL(rt_timer_new(h, never_fn, NULL, NULL));
  rt_stats_t s = get_stats(h);
  CHECK_TRUE(s.shutdown);
  CHECK_EQ(s.timers, 0);
  CHECK_EQ(s.queued, 0);
  /* A second shutdown is refused (the handle keeps the object alive). */
  CHECK_RC(rt_shutdown(rt), RT_EINVAL);
  CHECK_RC(rt_shutdown_background(rt), RT_EINVAL);
  CHECK_EQ(atomic_load(&stop_hooks), 0);
  CHECK_EQ(count_threads("bgsd-0"), 1);
  rt_timer_free(rep);
  CHECK_EQ(atomic_load(&tc.dropped), 2);

  /* Release the blocked task: its thread finishes, runs its stop hook
   * and exits; the runtime's memory goes with the last reference. */
  CHECK_EQ(write(stuck_pipe[1], "x", 1), 1);
  CHECK_RC(rt_task_join(stuck, -1, NULL), RT_OK);
  rt_task_release(stuck);
  rt_task_release(later);
  WAIT_UNTIL(atomic_load(&stop_hooks) == 1);
  WAIT_UNTIL(count_threads("bgsd") == 0);
  s = get_stats(h);
  CHECK_EQ(s.spawned, s.completed + s.dropped);
  CHECK_EQ(s.dropped, QUEUED + 2); /* and the two timers' firings */
  rt_handle_release(h);
  if (live(0) >= 0) {
    WAIT_UNTIL(live(0) == 0 && live(1) == 0 && live(8) == 0);
    printf("shutdown_background: debug library: no runtime, task cell or timer left\n");
  }
  close(stuck_pipe[0]);
  close(stuck_pipe[1]);
}

static rt_runtime_t *self_rt;
static atomic_int self_rc = 1;
static void shut_myself_down(void *arg) {
  (void)arg;
  atomic_store(&self_rc, rt_shutdown_background(self_rt));
  /* The task goes on; its own runtime takes no more work. */
  CHECK_RC(rt_spawn(rt_handle_current(), never_fn, NULL), RT_ESHUTDOWN);
}

TEST(shutdown_background_from_its_own_worker) {
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = 2;
  cfg.thread_name = "bgself";
  self_rt = rt_new(&cfg);
  CHECK_NOT_NULL(self_rt);
  rt_handle_t *h = rt_handle(self_rt);
  CHECK_RC(rt_spawn(h, shut_myself_down, NULL), RT_OK);
  WAIT_UNTIL(atomic_load(&self_rc) != 1);
  CHECK_RC(atomic_load(&self_rc), RT_OK);
  WAIT_UNTIL(count_threads("bgself") == 0);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, s.completed + s.dropped);
  rt_handle_release(h);
  CHECK_RC(rt_shutdown_background(NULL), RT_EINVAL);
}
