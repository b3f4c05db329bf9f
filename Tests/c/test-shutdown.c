/* test-shutdown.c — rt_shutdown and rt_shutdown_timeout: the four steps of
 * a graceful shutdown, RT_EDEADLK from a worker, the timeout's drops, and
 * handles that outlive their runtime. */
#include "harness.h"

#include <stdlib.h>

/* rt_shutdown on a thread of its own, so the test can watch it. */
struct async_shutdown {
  rt_runtime_t *rt;
  bool timed;
  uint64_t timeout_ns;
  uint64_t started_at;
  int rc;
  atomic_int done;
  pthread_t th;
};

static void *shutdown_main(void *arg) {
  struct async_shutdown *as = arg;
  as->rc = as->timed ? rt_shutdown_timeout(as->rt, as->timeout_ns)
                     : rt_shutdown(as->rt);
  atomic_store(&as->done, 1);
  return NULL;
}

static void shutdown_async(struct async_shutdown *as, rt_runtime_t *rt, bool timed,
                           uint64_t timeout_ns) {
  as->rt = rt;
  as->timed = timed;
  as->timeout_ns = timeout_ns;
  as->rc = 1;
  atomic_init(&as->done, 0);
  as->started_at = now_ns();
  CHECK_EQ(pthread_create(&as->th, NULL, shutdown_main, as), 0);
}

static int shutdown_wait(struct async_shutdown *as) {
  pthread_join(as->th, NULL);
  return as->rc;
}

static bool is_shutting_down(rt_handle_t *h) { return get_stats(h).shutdown; }

/* NULL runtime: RT_EINVAL from both. */
TEST(shutdown_null) {
  CHECK_RC(rt_shutdown(NULL), RT_EINVAL);
  CHECK_RC(rt_shutdown_timeout(NULL, 0), RT_EINVAL);
  CHECK_RC(rt_shutdown_timeout(NULL, UINT64_MAX), RT_EINVAL);
}

/* An idle runtime shuts down at once, again and again. */
TEST(shutdown_idle) {
  for (int i = 0; i < 20; i++) {
    rt_runtime_t *rt = make_rt(1 + (unsigned)(i % 2), 0);
    if (i % 2)
      CHECK_RC(rt_shutdown(rt), RT_OK);
    else
      CHECK_RC(rt_shutdown_timeout(rt, 10ull * 1000 * MS), RT_OK);
  }
}

/* Step 2: every task accepted before the shutdown runs to completion,
 * however long the queue behind a busy worker. Step 4: nothing dropped. */
TEST(shutdown_drains_queued) {
  enum { N = 300 };
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  blocker_t b;
  blocker_init(&b);
  blocker_start(h, &b);
  counter_t *c = calloc(N, sizeof *c);
  CHECK_NOT_NULL(c);
  for (int i = 0; i < N; i++) {
    counter_init(&c[i]);
    if (i % 2)
      CHECK_RC(rt_spawn(h, counter_fn, &c[i]), RT_OK);
    else
      CHECK_RC(rt_spawn_full(h, counter_call, &c[i], counter_drop, NULL), RT_OK);
  }
  pthread_t opener = gate_open_later(&b.gate, 50);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  pthread_join(opener, NULL);
  CHECK_EQ(atomic_load(&b.finished), 1);
  for (int i = 0; i < N; i++) {
    if (atomic_load(&c[i].ran) != 1 || atomic_load(&c[i].dropped) != 0)
      FAIL("task %d: ran %d, dropped %d; want 1, 0", i, atomic_load(&c[i].ran),
           atomic_load(&c[i].dropped));
  }
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, N + 1);
  CHECK_EQ(s.completed, N + 1);
  CHECK_EQ(s.dropped, 0);
  rt_handle_release(h);
  free(c);
}

/* In-flight work during a graceful shutdown. */
static struct {
  counter_t child[4];
  counter_t grandchild[4];
  atomic_int inline_ran;
} inflight;

static void grandchild_fn(void *arg) { counter_fn(arg); }

static void *child_call(void *arg) {
  int i = (int)(intptr_t)arg;
  counter_call(&inflight.child[i]);
  /* Children of in-flight tasks may spawn too. */
  CHECK_RC(rt_spawn(rt_handle_current(), grandchild_fn, &inflight.grandchild[i]),
           RT_OK);
  return NULL;
}

static void child_drop(void *arg) { counter_drop(&inflight.child[(intptr_t)arg]); }

static void *inline_fn(void *arg) {
  (void)arg;
  atomic_fetch_add(&inflight.inline_ran, 1);
  return (void *)(uintptr_t)5;
}

static void spawn_during_shutdown(void *arg) {
  (void)arg;
  rt_handle_t *cur = rt_handle_current();
  CHECK_NOT_NULL(cur);
  WAIT_UNTIL(is_shutting_down(cur));
  /* Shutdown started, but this task is running on the runtime: accepted. */
  CHECK_RC(rt_spawn(cur, grandchild_fn, &inflight.child[0]), RT_OK);
  rt_task_t *t = NULL;
  CHECK_RC(rt_spawn_full(cur, child_call, (void *)1, child_drop, &t), RT_OK);
  CHECK_NOT_NULL(t);
  rt_task_release(t);
  CHECK_RC(rt_spawn_after(cur, 0, child_call, (void *)2, child_drop, NULL), RT_OK);
  CHECK_RC(rt_spawn_full(cur, child_call, (void *)3, child_drop, NULL), RT_OK);
  void *res = NULL;
  CHECK_RC(rt_block_on(cur, inline_fn, NULL, &res), RT_OK);
  CHECK_EQ((uintptr_t)res, 5);
}

/* Step 1: tasks running on the runtime may still spawn onto it after the
 * shutdown started, and step 2 runs those too (and their children). */
TEST(shutdown_accepts_spawns_from_inflight_tasks) {
  for (int i = 0; i < 4; i++) {
    counter_init(&inflight.child[i]);
    counter_init(&inflight.grandchild[i]);
  }
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  CHECK_RC(rt_spawn(h, spawn_during_shutdown, NULL), RT_OK);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&inflight.child[0].ran), 1); /* via grandchild_fn */
  for (int i = 1; i < 4; i++) {
    CHECK_EQ(atomic_load(&inflight.child[i].ran), 1);
    CHECK_EQ(atomic_load(&inflight.child[i].dropped), 0);
    CHECK_EQ(atomic_load(&inflight.grandchild[i].ran), 1);
  }
  CHECK_EQ(atomic_load(&inflight.inline_ran), 1);
  rt_stats_t s = get_stats(h);
  /* 1 + 4 children + 3 grandchildren; the inline block_on is not counted. */
  CHECK_EQ(s.spawned, 8);
  CHECK_EQ(s.completed, 8);
  CHECK_EQ(s.dropped, 0);
  rt_handle_release(h);
}

static void *spawn_onto(void *arg) {
  rt_handle_t *target = arg;
  counter_t c;
  counter_init(&c);
  int rc = rt_spawn(target, counter_fn, &c);
  CHECK_EQ(atomic_load(&c.ran), 0);
  return (void *)(intptr_t)rc;
}

/* Step 1: once shutdown started, spawns and block_on from outside the
 * runtime's workers (foreign threads, threads that merely entered it,
 * workers of another runtime) get RT_ESHUTDOWN, take nothing, and count in
 * `rejected`. */
TEST(shutdown_refuses_external_spawns) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_runtime_t *other = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt), *ho = rt_handle(other);
  blocker_t b;
  blocker_init(&b);
  blocker_start(h, &b);
  struct async_shutdown as;
  shutdown_async(&as, rt, false, 0);
  WAIT_UNTIL(is_shutting_down(h));
  CHECK_EQ(atomic_load(&as.done), 0); /* still draining: the blocker runs */

  counter_t c;
  counter_init(&c);
  rt_task_t *sentinel = (rt_task_t *)(uintptr_t)0x5151, *t = sentinel;
  void *res = sentinel;
  CHECK_RC(rt_spawn(h, counter_fn, &c), RT_ESHUTDOWN);
  CHECK_RC(rt_spawn_full(h, counter_call, &c, counter_drop, &t), RT_ESHUTDOWN);
  CHECK_PTR_EQ(t, sentinel);
  CHECK_RC(rt_spawn_after(h, 0, counter_call, &c, counter_drop, &t), RT_ESHUTDOWN);
  CHECK_RC(rt_spawn_after(h, 5 * MS, counter_call, &c, counter_drop, &t),
           RT_ESHUTDOWN);
  CHECK_PTR_EQ(t, sentinel);
  CHECK_RC(rt_block_on(h, counter_call, &c, &res), RT_ESHUTDOWN);
  CHECK_PTR_EQ(res, sentinel);
  CHECK_EQ(get_stats(h).rejected, 5);

  /* Entering the runtime does not make this thread one of its workers. */
  rt_guard_t *g = rt_enter(h);
  CHECK_NOT_NULL(g);
  CHECK_RC(rt_spawn(rt_handle_current(), counter_fn, &c), RT_ESHUTDOWN);
  CHECK_RC(rt_exit(g), RT_OK);

  /* A worker of another runtime is outside this one. */
  res = NULL;
  CHECK_RC(rt_block_on(ho, spawn_onto, h, &res), RT_OK);
  CHECK_RC((int)(intptr_t)res, RT_ESHUTDOWN);
  CHECK_EQ(get_stats(h).rejected, 7);

  gate_open(&b.gate);
  CHECK_RC(shutdown_wait(&as), RT_OK);
  CHECK_RC(rt_shutdown(other), RT_OK);
  CHECK_EQ(atomic_load(&c.ran), 0);
  CHECK_EQ(atomic_load(&c.dropped), 0);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, 1);
  CHECK_EQ(s.completed, 1);
  CHECK_EQ(s.dropped, 0);
  CHECK_EQ(s.rejected, 7);
  rt_handle_release(h);
  rt_handle_release(ho);
}

static void *shutdown_self(void *arg) {
  rt_runtime_t *rt = arg;
  CHECK_RC(rt_shutdown(rt), RT_EDEADLK);
  CHECK_RC(rt_shutdown_timeout(rt, 0), RT_EDEADLK);
  CHECK_RC(rt_shutdown_timeout(rt, 1000 * MS), RT_EDEADLK);
  /* Changed nothing: not shutting down, this task can still spawn. */
  CHECK_FALSE(is_shutting_down(rt_handle_current()));
  return (void *)(uintptr_t)1;
}

/* rt_shutdown* called on a worker of the same runtime: RT_EDEADLK and
 * nothing changes; the runtime keeps working and shuts down normally. */
TEST(shutdown_from_own_worker_is_edeadlk) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_task_t *t = NULL;
  CHECK_RC(rt_spawn_full(h, shutdown_self, rt, NULL, &t), RT_OK);
  void *res = NULL;
  CHECK_RC(rt_task_join(t, -1, &res), RT_OK);
  CHECK_EQ((uintptr_t)res, 1);
  rt_task_release(t);
  /* The same through block_on (the fn runs on a worker). */
  res = NULL;
  CHECK_RC(rt_block_on(h, shutdown_self, rt, &res), RT_OK);
  CHECK_EQ((uintptr_t)res, 1);
  rt_stats_t s = get_stats(h);
  CHECK_FALSE(s.shutdown);
  counter_t c;
  counter_init(&c);
  CHECK_RC(rt_spawn(h, counter_fn, &c), RT_OK);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&c.ran), 1);
  rt_handle_release(h);
}

struct cross_shutdown {
  rt_runtime_t *target;
  counter_t *c;
  int n;
};

static void *shutdown_other(void *arg) {
  struct cross_shutdown *x = arg;
  return (void *)(intptr_t)rt_shutdown(x->target);
}

/* A worker of another runtime may shut a runtime down (no deadlock there). */
TEST(shutdown_from_other_runtime_worker) {
  rt_runtime_t *ra = make_rt(1, 0);
  rt_runtime_t *rb = make_rt(1, 0);
  rt_handle_t *ha = rt_handle(ra), *hb = rt_handle(rb);
  counter_t c[20];
  for (int i = 0; i < 20; i++) {
    counter_init(&c[i]);
    CHECK_RC(rt_spawn(ha, counter_fn, &c[i]), RT_OK);
  }
  struct cross_shutdown x = {ra, c, 20};
  void *res = (void *)(intptr_t)1;
  CHECK_RC(rt_block_on(hb, shutdown_other, &x, &res), RT_OK);
  CHECK_RC((int)(intptr_t)res, RT_OK);
  for (int i = 0; i < 20; i++)
    CHECK_EQ(atomic_load(&c[i].ran), 1);
  CHECK_TRUE(is_shutting_down(ha));
  CHECK_RC(rt_shutdown(rb), RT_OK);
  rt_handle_release(ha);
  rt_handle_release(hb);
}

/* A block_on already accepted when a graceful shutdown starts completes. */
static void *slow_answer(void *arg) {
  (void)arg;
  sleep_ms(50);
  return (void *)(uintptr_t)42;
}

struct bg_block_on {
  rt_handle_t *h;
  rt_call_fn fn;
  void *arg;
  int rc;
  void *res;
};

static void *bg_block_on_main(void *arg) {
  struct bg_block_on *bb = arg;
  bb->rc = rt_block_on(bb->h, bb->fn, bb->arg, &bb->res);
  return NULL;
}

TEST(shutdown_waits_for_inflight_block_on) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  struct bg_block_on bb = {h, slow_answer, NULL, 1, NULL};
  pthread_t th;
  CHECK_EQ(pthread_create(&th, NULL, bg_block_on_main, &bb), 0);
  WAIT_UNTIL(get_stats(h).spawned == 1);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  pthread_join(th, NULL);
  CHECK_RC(bb.rc, RT_OK);
  CHECK_EQ((uintptr_t)bb.res, 42);
  rt_handle_release(h);
}

/* shutdown_timeout, in-flight side: a task that runs past the timeout. */
static struct {
  blocker_t b;
  atomic_int spawn_after_timeout_rc;
} late;

static void late_task(void *arg) {
  (void)arg;
  blocker_fn(&late.b);
  /* The gate opens long after the timeout elapsed: this running task can no
   * longer spawn. */
  counter_t c;
  counter_init(&c);
  atomic_store(&late.spawn_after_timeout_rc,
               rt_spawn(rt_handle_current(), counter_fn, &c));
  CHECK_EQ(atomic_load(&c.ran), 0);
}

/* rt_shutdown_timeout: after the timeout, tasks not yet started are dropped
 * (each drop exactly once, fn never), running tasks are waited for, joins
 * see RT_ECANCELED, and the result is RT_ETIMEDOUT. From the timeout on,
 * running tasks can no longer spawn. */
TEST(shutdown_timeout_drops_unstarted) {
  enum { N = 20 };
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  blocker_init(&late.b);
  atomic_init(&late.spawn_after_timeout_rc, 1);
  CHECK_RC(rt_spawn(h, late_task, NULL), RT_OK);
  WAIT_UNTIL(atomic_load(&late.b.started) == 1);
  counter_t c[N];
  rt_task_t *t[N];
  for (int i = 0; i < N; i++) {
    counter_init(&c[i]);
    CHECK_RC(rt_spawn_full(h, counter_call, &c[i], counter_drop, &t[i]), RT_OK);
  }
  counter_t nodrop;
  counter_init(&nodrop);
  CHECK_RC(rt_spawn(h, counter_fn, &nodrop), RT_OK);
  /* The only worker stays busy until 1 s after the call started, so with
   * a 20 ms timeout none of the queued tasks can start in time. */
  pthread_t opener = gate_open_later(&late.b.gate, 1000);
  CHECK_RC(rt_shutdown_timeout(rt, 20 * MS), RT_ETIMEDOUT);
  pthread_join(opener, NULL);
  CHECK_EQ(atomic_load(&late.b.finished), 1); /* running task waited for */
  CHECK_RC(atomic_load(&late.spawn_after_timeout_rc), RT_ESHUTDOWN);
  for (int i = 0; i < N; i++) {
    if (atomic_load(&c[i].ran) != 0 || atomic_load(&c[i].dropped) != 1)
      FAIL("queued task %d: ran %d, dropped %d; want 0, 1", i,
           atomic_load(&c[i].ran), atomic_load(&c[i].dropped));
    CHECK_TRUE(rt_task_is_finished(t[i]));
    CHECK_RC(rt_task_join(t[i], -1, NULL), RT_ECANCELED);
    CHECK_RC(rt_task_cancel(t[i]), RT_EBUSY);
    rt_task_release(t[i]);
  }
  CHECK_EQ(atomic_load(&nodrop.ran), 0);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, N + 2);
  CHECK_EQ(s.completed, 1);
  CHECK_EQ(s.dropped, N + 1);
  CHECK_EQ(s.queued, 0);
  CHECK_TRUE(s.shutdown);
  rt_handle_release(h);
}

/* Timeout 0: give up draining at once; running tasks are still waited for. */
TEST(shutdown_timeout_zero) {
  enum { N = 10 };
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  blocker_t b;
  blocker_init(&b);
  blocker_start(h, &b);
  counter_t c[N];
  for (int i = 0; i < N; i++) {
    counter_init(&c[i]);
    CHECK_RC(rt_spawn_full(h, counter_call, &c[i], counter_drop, NULL), RT_OK);
  }
  pthread_t opener = gate_open_later(&b.gate, 300);
  CHECK_RC(rt_shutdown_timeout(rt, 0), RT_ETIMEDOUT);
  pthread_join(opener, NULL);
  CHECK_EQ(atomic_load(&b.finished), 1);
  for (int i = 0; i < N; i++) {
    CHECK_EQ(atomic_load(&c[i].ran), 0);
    CHECK_EQ(atomic_load(&c[i].dropped), 1);
  }
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, s.completed + s.dropped);
  CHECK_EQ(s.dropped, N);
  rt_handle_release(h);
}

/* A timeout that is not reached: RT_OK and everything ran. */
TEST(shutdown_timeout_not_reached) {
  enum { N = 100 };
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  counter_t c[N];
  for (int i = 0; i < N; i++) {
    counter_init(&c[i]);
    CHECK_RC(rt_spawn_full(h, counter_call, &c[i], counter_drop, NULL), RT_OK);
  }
  CHECK_RC(rt_shutdown_timeout(rt, 20ull * 1000 * MS), RT_OK);
  for (int i = 0; i < N; i++) {
    CHECK_EQ(atomic_load(&c[i].ran), 1);
    CHECK_EQ(atomic_load(&c[i].dropped), 0);
  }
  CHECK_EQ(get_stats(h).completed, N);
  rt_handle_release(h);
}

/* A huge timeout is a long one, not an overflow into the past: nothing is
 * dropped, RT_OK. */
TEST(shutdown_timeout_huge) {
  const uint64_t huge[] = {UINT64_MAX, (uint64_t)INT64_MAX + 1, (uint64_t)INT64_MAX};
  for (int k = 0; k < 3; k++) {
    rt_runtime_t *rt = make_rt(1, 0);
    rt_handle_t *h = rt_handle(rt);
    blocker_t b;
    blocker_init(&b);
    blocker_start(h, &b);
    counter_t c[5];
    for (int i = 0; i < 5; i++) {
      counter_init(&c[i]);
      CHECK_RC(rt_spawn_full(h, counter_call, &c[i], counter_drop, NULL), RT_OK);
    }
    pthread_t opener = gate_open_later(&b.gate, 30);
    int rc = rt_shutdown_timeout(rt, huge[k]);
    pthread_join(opener, NULL);
    if (rc != RT_OK)
      FAIL("rt_shutdown_timeout(rt, %" PRIu64 ") = %d (%s), want RT_OK", huge[k], rc,
           rt_code_name(rc));
    for (int i = 0; i < 5; i++) {
      CHECK_EQ(atomic_load(&c[i].ran), 1);
      CHECK_EQ(atomic_load(&c[i].dropped), 0);
    }
    rt_handle_release(h);
  }
}

/* Pending timers dropped when draining ends do not make it RT_ETIMEDOUT. */
TEST(shutdown_timeout_pending_timer_not_counted) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  counter_t c;
  counter_init(&c);
  rt_task_t *t = NULL;
  CHECK_RC(rt_spawn_after(h, 60ull * 1000 * MS, counter_call, &c, counter_drop, &t),
           RT_OK);
  CHECK_RC(rt_shutdown_timeout(rt, 20ull * 1000 * MS), RT_OK);
  CHECK_EQ(atomic_load(&c.ran), 0);
  CHECK_EQ(atomic_load(&c.dropped), 1);
  CHECK_RC(rt_task_join(t, -1, NULL), RT_ECANCELED);
  rt_task_release(t);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.dropped, 1);
  CHECK_EQ(s.timers, 0);
  rt_handle_release(h);
}

static atomic_int never_ran;

static void *must_not_run(void *arg) {
  (void)arg;
  atomic_fetch_add(&never_ran, 1);
  return NULL;
}

/* A rt_block_on whose task the timeout dropped returns RT_ECANCELED. */
TEST(shutdown_timeout_cancels_block_on) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  blocker_t b;
  blocker_init(&b);
  blocker_start(h, &b);
  struct bg_block_on bb = {h, must_not_run, NULL, 1, (void *)(uintptr_t)0x77};
  pthread_t th;
  CHECK_EQ(pthread_create(&th, NULL, bg_block_on_main, &bb), 0);
  WAIT_UNTIL(get_stats(h).spawned == 2); /* the block_on was accepted */
  pthread_t opener = gate_open_later(&b.gate, 600);
  CHECK_RC(rt_shutdown_timeout(rt, 10 * MS), RT_ETIMEDOUT);
  pthread_join(th, NULL);
  pthread_join(opener, NULL);
  CHECK_RC(bb.rc, RT_ECANCELED);
  CHECK_EQ(atomic_load(&never_ran), 0);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, 2);
  CHECK_EQ(s.completed, 1);
  CHECK_EQ(s.dropped, 1);
  rt_handle_release(h);
}

/* Step 4: handles outlive the runtime. Spawning or waiting through them is
 * RT_ESHUTDOWN (and counted as rejected); clone, release, enter, exit and
 * stats keep working; stats say shutdown, the configured worker count,
 * nothing queued, no timers, and spawned == completed + dropped. */
TEST(shutdown_handle_outlives_runtime) {
  rt_runtime_t *rt = make_rt(3, 0);
  rt_handle_t *h = rt_handle(rt);
  counter_t c[5];
  for (int i = 0; i < 5; i++)
    counter_init(&c[i]);
  CHECK_RC(rt_spawn(h, counter_fn, &c[0]), RT_OK);
  CHECK_RC(rt_spawn_after(h, 60ull * 1000 * MS, counter_call, &c[1], counter_drop,
                          NULL),
           RT_OK);
  rt_task_t *t = NULL;
  CHECK_RC(rt_spawn_after(h, 60ull * 1000 * MS, counter_call, &c[2], counter_drop,
                          &t),
           RT_OK);
  CHECK_RC(rt_task_cancel(t), RT_OK);
  rt_task_release(t);
  CHECK_RC(rt_shutdown(rt), RT_OK);

  rt_stats_t s = get_stats(h);
  CHECK_TRUE(s.shutdown);
  CHECK_EQ(s.workers, 3);
  CHECK_EQ(s.queued, 0);
  CHECK_EQ(s.timers, 0);
  CHECK_EQ(s.spawned, 3);
  CHECK_EQ(s.completed, 1);
  CHECK_EQ(s.dropped, 2);
  CHECK_EQ(s.spawned, s.completed + s.dropped);
  uint64_t rejected = s.rejected;

  rt_task_t *sentinel = (rt_task_t *)(uintptr_t)0x5151;
  t = sentinel;
  CHECK_RC(rt_spawn(h, counter_fn, &c[3]), RT_ESHUTDOWN);
  CHECK_RC(rt_spawn_full(h, counter_call, &c[3], counter_drop, &t), RT_ESHUTDOWN);
  CHECK_RC(rt_spawn_after(h, 0, counter_call, &c[3], counter_drop, &t), RT_ESHUTDOWN);
  CHECK_RC(rt_spawn_after(h, MS, counter_call, &c[3], counter_drop, &t), RT_ESHUTDOWN);
  CHECK_RC(rt_block_on(h, counter_call, &c[3], NULL), RT_ESHUTDOWN);
  CHECK_PTR_EQ(t, sentinel);
  CHECK_EQ(atomic_load(&c[3].ran), 0);
  CHECK_EQ(atomic_load(&c[3].dropped), 0);

  rt_handle_t *h2 = rt_handle_clone(h);
  CHECK_PTR_EQ(h2, h);
  rt_guard_t *g = rt_enter(h2);
  CHECK_NOT_NULL(g);
  CHECK_PTR_EQ(rt_handle_current(), h);
  CHECK_RC(rt_spawn(rt_handle_current(), counter_fn, &c[3]), RT_ESHUTDOWN);
  CHECK_RC(rt_exit(g), RT_OK);
  CHECK_NULL(rt_handle_current());
  rt_handle_release(h2);

  s = get_stats(h);
  CHECK_EQ(s.rejected, rejected + 6);
  CHECK_EQ(s.spawned, 3);
  CHECK_EQ(s.workers, 3);
  CHECK_EQ(atomic_load(&c[0].ran), 1);
  CHECK_EQ(atomic_load(&c[1].dropped), 1);
  CHECK_EQ(atomic_load(&c[2].dropped), 1);
  rt_handle_release(h);
}

/* Steps 2-4 in order: pending timers are dropped when draining ends, then
 * on_thread_stop runs on each worker, and rt_shutdown returns after both. */
static atomic_int stops;
static counter_t stop_timers[5];
static atomic_int drops_seen_by_stop[8];

static void count_stop(void *user) {
  (void)user;
  int drops = 0;
  for (int i = 0; i < 5; i++)
    drops += atomic_load(&stop_timers[i].dropped);
  int i = atomic_fetch_add(&stops, 1);
  if (i < 8)
    atomic_store(&drops_seen_by_stop[i], drops);
}

TEST(shutdown_runs_stop_hooks_and_drops_before_return) {
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = 2;
  cfg.on_thread_stop = count_stop;
  rt_runtime_t *rt = rt_new(&cfg);
  CHECK_NOT_NULL(rt);
  rt_handle_t *h = rt_handle(rt);
  for (int i = 0; i < 5; i++) {
    counter_init(&stop_timers[i]);
    CHECK_RC(rt_spawn_after(h, 60ull * 1000 * MS, counter_call, &stop_timers[i],
                            counter_drop, NULL),
             RT_OK);
  }
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&stops), 2);
  for (int i = 0; i < 2; i++)
    CHECK_EQ(atomic_load(&drops_seen_by_stop[i]), 5);
  for (int i = 0; i < 5; i++) {
    CHECK_EQ(atomic_load(&stop_timers[i].dropped), 1);
    CHECK_EQ(atomic_load(&stop_timers[i].ran), 0);
  }
  rt_handle_release(h);
}

/* A shutdown racing an external spawn: the spawn is either refused with
 * RT_ESHUTDOWN (and never runs) or accepted (and runs), never lost. */
struct racer {
  rt_handle_t *h;
  counter_t c[2000];
  int rc[2000];
  int n;
};

static void *race_spawns(void *arg) {
  struct racer *r = arg;
  for (r->n = 0; r->n < 2000; r->n++) {
    counter_init(&r->c[r->n]);
    r->rc[r->n] =
        rt_spawn_full(r->h, counter_call, &r->c[r->n], counter_drop, NULL);
    if (r->rc[r->n] == RT_ESHUTDOWN) {
      r->n++;
      break;
    }
    CHECK_RC(r->rc[r->n], RT_OK);
  }
  return NULL;
}

TEST(shutdown_races_external_spawn) {
  rt_runtime_t *rt = make_rt(2, 0);
  struct racer *r = calloc(1, sizeof *r);
  CHECK_NOT_NULL(r);
  r->h = rt_handle(rt);
  pthread_t th;
  CHECK_EQ(pthread_create(&th, NULL, race_spawns, r), 0);
  sleep_ms(2);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  pthread_join(th, NULL);
  int accepted = 0;
  for (int i = 0; i < r->n; i++) {
    int ran = atomic_load(&r->c[i].ran), dropped = atomic_load(&r->c[i].dropped);
    if (r->rc[i] == RT_OK) {
      accepted++;
      if (ran != 1 || dropped != 0)
        FAIL("accepted spawn %d: ran %d, dropped %d; want 1, 0", i, ran, dropped);
    } else if (ran != 0 || dropped != 0) {
      FAIL("refused spawn %d (%s): ran %d, dropped %d; want 0, 0", i,
           rt_code_name(r->rc[i]), ran, dropped);
    }
  }
  rt_stats_t s = get_stats(r->h);
  CHECK_EQ(s.spawned, accepted);
  CHECK_EQ(s.completed, accepted);
  rt_handle_release(r->h);
  free(r);
}

static atomic_int stops_finished;

static void slow_stop(void *user) {
  (void)user;
  sleep_ms(20);
  atomic_fetch_add(&stops_finished, 1);
}

/* Step 3: the workers are joined by the time rt_shutdown returns: every
 * on_thread_stop has returned (even a slow one), and the worker threads go
 * away. rt_new started exactly `workers` of them, and the monitor
 * ("jointest-m", which names itself once it runs). */
TEST(shutdown_joins_worker_threads) {
  for (int timed = 0; timed < 2; timed++) {
    atomic_store(&stops_finished, 0);
    rt_config_t cfg;
    rt_config_init(&cfg);
    cfg.workers = 3;
    cfg.thread_name = "jointest";
    cfg.on_thread_stop = slow_stop;
    rt_runtime_t *rt = rt_new(&cfg);
    CHECK_NOT_NULL(rt);
    WAIT_UNTIL(count_threads("jointest-m") == 1);
    CHECK_EQ(count_threads("jointest-"), 4);
    rt_handle_t *h = rt_handle(rt);
    counter_t c;
    counter_init(&c);
    CHECK_RC(rt_spawn(h, counter_fn, &c), RT_OK);
    if (timed)
      CHECK_RC(rt_shutdown_timeout(rt, 10ull * 1000 * MS), RT_OK);
    else
      CHECK_RC(rt_shutdown(rt), RT_OK);
    CHECK_EQ(atomic_load(&stops_finished), 3);
    CHECK_EQ(atomic_load(&c.ran), 1);
    /* A joined thread may linger in /proc for a moment after pthread_join;
     * a thread that was never joined (still running) stays. */
    WAIT_UNTIL(count_threads("jointest-") == 0);
    rt_handle_release(h);
  }
}
