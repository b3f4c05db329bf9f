/* test-timers.c — rt_spawn_after: never before the delay (monotonic clock),
 * started in the order they fall due, cancellable, dropped at shutdown. */
#include "harness.h"

#include <stdlib.h>

/* A timer never starts before its delay, measured from before the call. */
TEST(timer_not_before_delay) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  const uint64_t delays[] = {1000, 1 * MS, 5 * MS, 20 * MS, 50 * MS};
  enum { N = sizeof delays / sizeof delays[0] };
  counter_t c[N];
  rt_task_t *t[N];
  uint64_t t0[N];
  for (int i = 0; i < N; i++) {
    counter_init(&c[i]);
    t0[i] = now_ns();
    CHECK_RC(rt_spawn_after(h, delays[i], counter_call, &c[i], counter_drop, &t[i]),
             RT_OK);
  }
  for (int i = 0; i < N; i++) {
    void *res = NULL;
    CHECK_RC(rt_task_join(t[i], -1, &res), RT_OK);
    CHECK_PTR_EQ(res, &c[i]);
    uint64_t waited = atomic_load(&c[i].ran_at) - t0[i];
    if (waited < delays[i])
      FAIL("timer %d with delay %" PRIu64 " ns started after only %" PRIu64 " ns",
           i, delays[i], waited);
    rt_task_release(t[i]);
  }
  CHECK_RC(rt_shutdown(rt), RT_OK);
  for (int i = 0; i < N; i++) {
    CHECK_EQ(atomic_load(&c[i].ran), 1);
    CHECK_EQ(atomic_load(&c[i].dropped), 0);
  }
  rt_handle_release(h);
}

/* Ledger of the order in which timers started. */
static struct {
  atomic_int claimed; /* slots of `order` handed out */
  atomic_int n;       /* slots written: counted after the write, so a
                         reader that sees n sees the first n slots */
  int order[64];
} started;

struct timed {
  int id;
  uint64_t delay, before, after; /* due time is in [before, after] + delay */
  uint64_t ran_at;
};

static void *record_start(void *arg) {
  struct timed *tm = arg;
  tm->ran_at = now_ns();
  int i = atomic_fetch_add(&started.claimed, 1);
  if (i < 64)
    started.order[i] = tm->id;
  atomic_fetch_add(&started.n, 1);
  return NULL;
}

static void spawn_timed(rt_handle_t *h, struct timed *tm, int id, uint64_t delay) {
  tm->id = id;
  tm->delay = delay;
  tm->before = now_ns();
  CHECK_RC(rt_spawn_after(h, delay, record_start, tm, NULL, NULL), RT_OK);
  tm->after = now_ns();
}

/* For every pair whose due times are known to be ordered, whatever the
 * exact instant the library read the clock, the earlier due one started
 * first; and none started before its delay. */
static void check_due_order(struct timed *tm, int n) {
  CHECK_EQ(atomic_load(&started.n), n);
  int pos[64];
  for (int i = 0; i < n; i++)
    pos[started.order[i]] = i;
  for (int i = 0; i < n; i++) {
    CHECK_GE(tm[i].ran_at - tm[i].before, tm[i].delay);
    for (int j = 0; j < n; j++) {
      if (tm[i].after + tm[i].delay < tm[j].before + tm[j].delay &&
          pos[i] > pos[j]) {
        for (int k = 0; k < n; k++)
          printf("timer %d: delay %" PRIu64 " ms, started #%d\n", k,
                 tm[k].delay / MS, pos[k]);
        FAIL("timer %d (due first) started after timer %d", i, j);
      }
    }
  }
}

/* With one worker, timers start in the order they fall due, not the order
 * they were created in. */
TEST(timer_order_one_worker) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  const unsigned ms[] = {50, 10, 40, 20, 30, 60, 5, 45, 15, 35};
  enum { N = sizeof ms / sizeof ms[0] };
  struct timed tm[N];
  for (int i = 0; i < N; i++)
    spawn_timed(h, &tm[i], i, ms[i] * MS);
  WAIT_UNTIL(atomic_load(&started.n) == N);
  check_due_order(tm, N);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

/* Timers that all fall due while the only worker is busy still start in
 * due order once it is free. */
TEST(timer_order_when_overdue) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  blocker_t b;
  blocker_init(&b);
  blocker_start(h, &b);
  const unsigned ms[] = {25, 5, 20, 10, 30, 15, 1, 35};
  enum { N = sizeof ms / sizeof ms[0] };
  struct timed tm[N];
  for (int i = 0; i < N; i++)
    spawn_timed(h, &tm[i], i, ms[i] * MS);
  /* Wait until every one is due, then some. */
  uint64_t last_due = 0;
  for (int i = 0; i < N; i++)
    if (tm[i].after + tm[i].delay > last_due)
      last_due = tm[i].after + tm[i].delay;
  while (now_ns() < last_due + 20 * MS)
    sleep_ms(5);
  CHECK_EQ(atomic_load(&started.n), 0);
  gate_open(&b.gate);
  WAIT_UNTIL(atomic_load(&started.n) == N);
  check_due_order(tm, N);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

/* A pending timer can be cancelled: drop runs on the caller, the timer never
 * fires, the join sees RT_ECANCELED, stats count it dropped. */
TEST(timer_cancel) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  counter_t c;
  counter_init(&c);
  rt_task_t *t = NULL;
  CHECK_RC(rt_spawn_after(h, 20 * MS, counter_call, &c, counter_drop, &t), RT_OK);
  CHECK_EQ(get_stats(h).timers, 1);
  CHECK_RC(rt_task_cancel(t), RT_OK);
  CHECK_EQ(atomic_load(&c.dropped), 1);
  CHECK_TRUE(pthread_equal((pthread_t)atomic_load(&c.dropped_on), pthread_self()));
  CHECK_TRUE(rt_task_is_finished(t));
  CHECK_RC(rt_task_join(t, -1, NULL), RT_ECANCELED);
  CHECK_RC(rt_task_cancel(t), RT_EBUSY);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.timers, 0);
  CHECK_EQ(s.dropped, 1);
  sleep_ms(50); /* well past its due time */
  CHECK_EQ(atomic_load(&c.ran), 0);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&c.ran), 0);
  CHECK_EQ(atomic_load(&c.dropped), 1);
  rt_task_release(t);
  rt_handle_release(h);
}

/* A timer that already ran cannot be cancelled. */
TEST(timer_cancel_after_run_is_busy) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  counter_t c;
  counter_init(&c);
  rt_task_t *t = NULL;
  CHECK_RC(rt_spawn_after(h, 1 * MS, counter_call, &c, counter_drop, &t), RT_OK);
  CHECK_RC(rt_task_join(t, -1, NULL), RT_OK);
  CHECK_RC(rt_task_cancel(t), RT_EBUSY);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&c.ran), 1);
  CHECK_EQ(atomic_load(&c.dropped), 0);
  rt_task_release(t);
  rt_handle_release(h);
}

/* Timers still pending when a graceful shutdown has drained are dropped:
 * each drop once, joins see RT_ECANCELED, rt_shutdown still returns RT_OK. */
TEST(timer_pending_at_shutdown_dropped) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  enum { N = 3 };
  counter_t c[N];
  rt_task_t *t[N];
  for (int i = 0; i < N; i++) {
    counter_init(&c[i]);
    CHECK_RC(rt_spawn_after(h, 60ull * 1000 * MS, counter_call, &c[i],
                            counter_drop, &t[i]),
             RT_OK);
  }
  counter_t plain;
  counter_init(&plain);
  CHECK_RC(rt_spawn_full(h, counter_call, &plain, counter_drop, NULL), RT_OK);
  CHECK_EQ(get_stats(h).timers, N);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  for (int i = 0; i < N; i++) {
    CHECK_EQ(atomic_load(&c[i].ran), 0);
    CHECK_EQ(atomic_load(&c[i].dropped), 1);
    CHECK_TRUE(rt_task_is_finished(t[i]));
    CHECK_RC(rt_task_join(t[i], -1, NULL), RT_ECANCELED);
    rt_task_release(t[i]);
  }
  CHECK_EQ(atomic_load(&plain.ran), 1);
  CHECK_EQ(atomic_load(&plain.dropped), 0);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.timers, 0);
  CHECK_EQ(s.dropped, N);
  CHECK_EQ(s.completed, 1);
  CHECK_EQ(s.spawned, s.completed + s.dropped);
  rt_handle_release(h);
}

/* delay 0 is rt_spawn_full: it is queued at once (counted in `queued`, not
 * in `timers`), runs, and hands its result to the joiner. */
TEST(timer_delay_zero) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  blocker_t b;
  blocker_init(&b);
  blocker_start(h, &b);
  counter_t c;
  counter_init(&c);
  rt_task_t *t = NULL;
  CHECK_RC(rt_spawn_after(h, 0, counter_call, &c, counter_drop, &t), RT_OK);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.timers, 0);
  CHECK_EQ(s.queued, 1);
  gate_open(&b.gate);
  void *res = NULL;
  CHECK_RC(rt_task_join(t, -1, &res), RT_OK);
  CHECK_PTR_EQ(res, &c);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&c.ran), 1);
  CHECK_EQ(atomic_load(&c.dropped), 0);
  rt_task_release(t);
  rt_handle_release(h);
}

struct drain {
  gate_t timer_ran;
  counter_t timer;
  bool saw_timer;
};

static void *timer_fn(void *arg) {
  struct drain *d = arg;
  counter_call(&d->timer);
  gate_open(&d->timer_ran);
  return NULL;
}

static void timer_drop(void *arg) {
  struct drain *d = arg;
  counter_drop(&d->timer);
  gate_open(&d->timer_ran);
}

static void wait_for_timer(void *arg) {
  struct drain *d = arg;
  /* Keeps the drain going until the timer fired; bounded so that a broken
   * library fails the checks below instead of hanging. */
  d->saw_timer = gate_wait_ms(&d->timer_ran, 5000);
}

/* A timer that falls due while a graceful shutdown is draining runs. */
TEST(timer_due_while_draining_runs) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  struct drain d;
  gate_init(&d.timer_ran);
  counter_init(&d.timer);
  d.saw_timer = false;
  CHECK_RC(rt_spawn(h, wait_for_timer, &d), RT_OK);
  CHECK_RC(rt_spawn_after(h, 30 * MS, timer_fn, &d, timer_drop, NULL), RT_OK);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_TRUE(d.saw_timer);
  CHECK_EQ(atomic_load(&d.timer.ran), 1);
  CHECK_EQ(atomic_load(&d.timer.dropped), 0);
  rt_handle_release(h);
}

/* A delay too large to ever fire: either refused as out of range, or
 * accepted and then never started early, and dropped by the shutdown. */
TEST(timer_huge_delay) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  const uint64_t delays[] = {UINT64_MAX, (uint64_t)INT64_MAX + 1, (uint64_t)INT64_MAX};
  counter_t c[3];
  int rc[3];
  for (int i = 0; i < 3; i++) {
    counter_init(&c[i]);
    rc[i] = rt_spawn_after(h, delays[i], counter_call, &c[i], counter_drop, NULL);
    if (rc[i] != RT_OK && rc[i] != RT_EINVAL)
      FAIL("rt_spawn_after(delay %" PRIu64 ") = %d (%s), want RT_OK or RT_EINVAL",
           delays[i], rc[i], rt_code_name(rc[i]));
  }
  sleep_ms(50);
  for (int i = 0; i < 3; i++)
    if (atomic_load(&c[i].ran) != 0)
      FAIL("timer with delay %" PRIu64 " ns (rt_spawn_after returned %s) ran "
           "within 50 ms",
           delays[i], rt_code_name(rc[i]));
  CHECK_RC(rt_shutdown(rt), RT_OK);
  for (int i = 0; i < 3; i++) {
    CHECK_EQ(atomic_load(&c[i].ran), 0);
    CHECK_EQ(atomic_load(&c[i].dropped), rc[i] == RT_OK ? 1 : 0);
  }
  rt_handle_release(h);
}

struct many_timers {
  rt_handle_t *h;
  uint64_t seed;
  counter_t c[400];
  uint64_t before[400], delay[400];
};

static void *timer_spawner(void *arg) {
  struct many_timers *m = arg;
  uint64_t rng = m->seed;
  for (int i = 0; i < 400; i++) {
    counter_init(&m->c[i]);
    m->delay[i] = rng_next(&rng) % (20 * MS);
    m->before[i] = now_ns();
    CHECK_RC(rt_spawn_after(m->h, m->delay[i], counter_call, &m->c[i],
                            counter_drop, NULL),
             RT_OK);
  }
  return NULL;
}

/* Hundreds of timers from several threads: each runs once, none early. */
TEST(timer_many_from_threads) {
  enum { THREADS = 3 };
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  uint64_t seed = test_seed();
  struct many_timers *m = calloc(THREADS, sizeof *m);
  CHECK_NOT_NULL(m);
  pthread_t th[THREADS];
  for (int i = 0; i < THREADS; i++) {
    m[i].h = h;
    m[i].seed = seed + (uint64_t)i * 7919;
    CHECK_EQ(pthread_create(&th[i], NULL, timer_spawner, &m[i]), 0);
  }
  for (int i = 0; i < THREADS; i++)
    pthread_join(th[i], NULL);
  for (int i = 0; i < THREADS; i++)
    for (int k = 0; k < 400; k++)
      WAIT_UNTIL(atomic_load(&m[i].c[k].ran) == 1);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  for (int i = 0; i < THREADS; i++) {
    for (int k = 0; k < 400; k++) {
      CHECK_EQ(atomic_load(&m[i].c[k].ran), 1);
      CHECK_EQ(atomic_load(&m[i].c[k].dropped), 0);
      CHECK_GE(atomic_load(&m[i].c[k].ran_at) - m[i].before[k], m[i].delay[k]);
    }
  }
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, THREADS * 400);
  CHECK_EQ(s.completed, THREADS * 400);
  rt_handle_release(h);
  free(m);
}

static void *schedule_from_task(void *arg) {
  counter_t *c = arg;
  rt_task_t *t = NULL;
  uint64_t t0 = now_ns();
  CHECK_RC(rt_spawn_after(rt_handle_current(), 10 * MS, counter_call, c,
                          counter_drop, &t),
           RT_OK);
  /* Joining a timer that has not started, on a worker: it may run inline,
   * but still not before its delay. */
  CHECK_RC(rt_task_join(t, -1, NULL), RT_OK);
  CHECK_GE(atomic_load(&c->ran_at) - t0, 10 * MS);
  rt_task_release(t);
  return NULL;
}

/* Timers scheduled from inside a task (and joined there) keep their delay. */
TEST(timer_from_task) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  counter_t c;
  counter_init(&c);
  CHECK_RC(rt_block_on(h, schedule_from_task, &c, NULL), RT_OK);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&c.ran), 1);
  CHECK_EQ(atomic_load(&c.dropped), 0);
  rt_handle_release(h);
}
