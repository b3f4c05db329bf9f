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

/* ---- Cancelling frees at once ------------------------------------------- */

#include <unistd.h>

#define HOUR_NS (3600ull * 1000 * MS)

/* Resident bytes of this process, from /proc/self/statm. */
static int64_t rss_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  CHECK_NOT_NULL(f);
  unsigned long size = 0, resident = 0;
  CHECK_EQ(fscanf(f, "%lu %lu", &size, &resident), 2);
  fclose(f);
  return (int64_t)resident * (int64_t)sysconf(_SC_PAGESIZE);
}

enum { CANCEL_BATCH = 1000 };
static atomic_int batch_drops[CANCEL_BATCH];
static atomic_long cancel_drops;

static void count_slot_drop(void *slot) {
  atomic_fetch_add((atomic_int *)slot, 1);
  atomic_fetch_add(&cancel_drops, 1);
}

/* Sets `cycles` one-hour timers (every other one on `s`) a batch at a time,
 * with due times spread over an hour so that the heap is not in insertion
 * order, then cancels each batch in a scattered order (from the middle of
 * the heap, not only its root or last leaf) and releases the handles. */
static void set_and_cancel(rt_handle_t *h, rt_strand_t *s, long cycles, uint64_t *rng) {
  static rt_task_t *t[CANCEL_BATCH];
  for (long done = 0; done < cycles; done += CANCEL_BATCH) {
    for (int i = 0; i < CANCEL_BATCH; i++) {
      atomic_store(&batch_drops[i], 0);
      uint64_t delay = HOUR_NS + rng_next(rng) % HOUR_NS;
      if (i % 2)
        CHECK_RC(rt_strand_spawn_after(s, delay, never_call, &batch_drops[i],
                                       count_slot_drop, &t[i]),
                 RT_OK);
      else
        CHECK_RC(rt_spawn_after(h, delay, never_call, &batch_drops[i], count_slot_drop,
                                &t[i]),
                 RT_OK);
    }
    for (int k = 0; k < CANCEL_BATCH; k++) {
      int i = (k * 389) % CANCEL_BATCH; /* 389 is prime to 1000: each once */
      CHECK_RC(rt_task_cancel(t[i]), RT_OK);
      CHECK_EQ(atomic_load(&batch_drops[i]), 1); /* the drop ran in the call */
      rt_task_release(t[i]);
    }
  }
}

/* 1,000,000 one-hour timers set and cancelled: each cancel frees its timer
 * (and drops its arg) in the call, so memory stays flat. Before, each kept
 * about 160 bytes until its due time: 1 M held 152 MiB. The bound, 4 MiB,
 * is under 3% of that and well above the live set, which is one batch of
 * 1000 timers (about 0.2 MiB) plus the heap's array (32 KB); the warm-up
 * first grows the allocator's arenas and that array to their working size.
 * Sanitizers keep freed memory in quarantine, so there only the counts are
 * checked. */
TEST(timer_cancel_frees_at_once) {
  const bool instrumented = UNDER_TSAN || UNDER_ASAN || under_valgrind();
  const long cycles = instrumented ? 100000 : 1000000;
  const long warmup = 20 * CANCEL_BATCH;
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_strand_t *s = rt_strand_new(h);
  CHECK_NOT_NULL(s);
  uint64_t rng = test_seed();
  set_and_cancel(h, s, warmup, &rng);
  int64_t before = rss_bytes();
  set_and_cancel(h, s, cycles, &rng);
  int64_t after = rss_bytes();
  printf("timers set and cancelled: %ld; RSS before %" PRId64 " KiB, after %" PRId64
         " KiB, growth %" PRId64 " KiB\n",
         cycles, before / 1024, after / 1024, (after - before) / 1024);
  if (!instrumented)
    CHECK_LT(after - before, 4 * 1024 * 1024);
  CHECK_EQ(atomic_load(&cancel_drops), warmup + cycles);
  rt_stats_t st = get_stats(h);
  CHECK_EQ(st.timers, 0);
  CHECK_EQ(st.spawned, warmup + cycles);
  CHECK_EQ(st.dropped, warmup + cycles);
  rt_strand_release(s);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  st = get_stats(h);
  CHECK_EQ(st.completed, 0);
  CHECK_EQ(st.spawned, st.completed + st.dropped);
  CHECK_EQ(atomic_load(&cancel_drops), warmup + cycles);
  rt_handle_release(h);
}

static void spin_ns(uint64_t ns) {
  uint64_t end = now_ns() + ns;
  while (now_ns() < end) {
  }
}

/* Timers due as they are set, cancelled a moment later: each cancel meets
 * the timer in the heap, fired and queued, running or done. Exactly one of
 * the cancel (RT_OK, dropped in the call) and the run happens, never both,
 * and every heap entry is let go (timers ends at 0). */
TEST(timer_cancel_races_firing) {
  enum { BATCH = 64 };
  const int rounds = (UNDER_TSAN || UNDER_ASAN || under_valgrind()) ? 100 : 1000;
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_strand_t *s = rt_strand_new(h);
  CHECK_NOT_NULL(s);
  counter_t *c = calloc((size_t)rounds * BATCH, sizeof *c);
  rt_task_t **t = calloc(BATCH, sizeof *t);
  bool *cancelled = calloc((size_t)rounds * BATCH, sizeof *cancelled);
  CHECK_NOT_NULL(c);
  CHECK_NOT_NULL(t);
  CHECK_NOT_NULL(cancelled);
  uint64_t rng = test_seed();
  long oks = 0;
  for (int r = 0; r < rounds; r++) {
    counter_t *rc = &c[(size_t)r * BATCH];
    for (int i = 0; i < BATCH; i++) {
      counter_init(&rc[i]);
      uint64_t delay = 1 + rng_next(&rng) % 50000; /* up to 50 us */
      if (i % 3 == 0)
        CHECK_RC(rt_strand_spawn_after(s, delay, counter_call, &rc[i], counter_drop, &t[i]),
                 RT_OK);
      else
        CHECK_RC(rt_spawn_after(h, delay, counter_call, &rc[i], counter_drop, &t[i]), RT_OK);
    }
    spin_ns(rng_next(&rng) % 200000);
    for (int i = 0; i < BATCH; i++) {
      int rc_ = rt_task_cancel(t[i]);
      if (rc_ == RT_OK) {
        oks++;
        cancelled[(size_t)r * BATCH + i] = true;
        CHECK_EQ(atomic_load(&rc[i].dropped), 1);
        CHECK_RC(rt_task_join(t[i], -1, NULL), RT_ECANCELED);
      } else {
        CHECK_RC(rc_, RT_EBUSY);
        CHECK_RC(rt_task_join(t[i], -1, NULL), RT_OK);
      }
      rt_task_release(t[i]);
    }
  }
  rt_stats_t st = get_stats(h);
  CHECK_EQ(st.timers, 0);
  rt_strand_release(s);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  long total = (long)rounds * BATCH;
  for (long i = 0; i < total; i++) {
    CHECK_EQ(atomic_load(&c[i].ran) + atomic_load(&c[i].dropped), 1);
    CHECK_EQ(atomic_load(&c[i].dropped), cancelled[i] ? 1 : 0);
  }
  st = get_stats(h);
  CHECK_EQ(st.spawned, total);
  CHECK_EQ(st.dropped, oks);
  CHECK_EQ(st.completed, total - oks);
  CHECK_EQ(st.timers, 0);
  printf("cancels that won: %ld of %ld\n", oks, total);
  rt_handle_release(h);
  free(cancelled);
  free(t);
  free(c);
}

struct cancel_all {
  rt_task_t **t;
  int n;
  gate_t go;
  atomic_int oks;
  pthread_t self;
};

static void *cancel_all_main(void *p) {
  struct cancel_all *ca = p;
  gate_wait(&ca->go);
  for (int i = ca->n - 1; i >= 0; i--) {
    int rc = rt_task_cancel(ca->t[i]);
    if (rc == RT_OK)
      atomic_fetch_add(&ca->oks, 1);
    else
      CHECK_RC(rc, RT_EBUSY);
  }
  return NULL;
}

/* Cancels racing a shutdown, which closes the timers and drops those still
 * pending: each timer is run, cancelled or dropped by the shutdown, once;
 * a successful cancel dropped it on the cancelling thread. */
TEST(timer_cancel_races_shutdown) {
  enum { N = 200 };
  const int rounds = (UNDER_TSAN || UNDER_ASAN || under_valgrind()) ? 10 : 60;
  uint64_t rng = test_seed();
  for (int r = 0; r < rounds; r++) {
    rt_runtime_t *rt = make_rt(2, 0);
    rt_handle_t *h = rt_handle(rt);
    rt_strand_t *s = rt_strand_new(h);
    CHECK_NOT_NULL(s);
    counter_t c[N];
    rt_task_t *t[N];
    for (int i = 0; i < N; i++) {
      counter_init(&c[i]);
      /* A third due within 200 us, the rest in an hour. */
      uint64_t delay = i % 3 == 0 ? 1 + rng_next(&rng) % 200000 : HOUR_NS;
      if (i % 2)
        CHECK_RC(rt_strand_spawn_after(s, delay, counter_call, &c[i], counter_drop, &t[i]),
                 RT_OK);
      else
        CHECK_RC(rt_spawn_after(h, delay, counter_call, &c[i], counter_drop, &t[i]), RT_OK);
    }
    rt_strand_release(s);
    struct cancel_all ca = {.t = t, .n = N};
    gate_init(&ca.go);
    atomic_init(&ca.oks, 0);
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, cancel_all_main, &ca), 0);
    gate_open(&ca.go);
    spin_ns(rng_next(&rng) % 50000);
    CHECK_RC(rt_shutdown(rt), RT_OK);
    pthread_join(th, NULL);
    int dropped = 0;
    for (int i = 0; i < N; i++) {
      CHECK_EQ(atomic_load(&c[i].ran) + atomic_load(&c[i].dropped), 1);
      dropped += atomic_load(&c[i].dropped);
      rt_task_release(t[i]);
    }
    CHECK_GE(dropped, atomic_load(&ca.oks));
    rt_stats_t st = get_stats(h);
    CHECK_EQ(st.spawned, N);
    CHECK_EQ(st.dropped, dropped);
    CHECK_EQ(st.spawned, st.completed + st.dropped);
    CHECK_EQ(st.timers, 0);
    gate_destroy(&ca.go);
    rt_handle_release(h);
  }
}
