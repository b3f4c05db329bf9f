/* test-join.c — join handles: rt_task_join, rt_task_cancel,
 * rt_task_is_finished, rt_task_release. */
#include "harness.h"

/* join with timeout 0 only polls: RT_ETIMEDOUT while the task runs, RT_OK
 * with the result once it ran, as often as asked. */
TEST(join_timeout_zero_polls) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  blocker_t b;
  blocker_init(&b);
  rt_task_t *t = NULL;
  CHECK_RC(rt_spawn_full(h, blocker_call, &b, NULL, &t), RT_OK);
  WAIT_UNTIL(atomic_load(&b.started) == 1);
  void *res = (void *)(uintptr_t)0x99;
  CHECK_RC(rt_task_join(t, 0, &res), RT_ETIMEDOUT);
  CHECK_FALSE(rt_task_is_finished(t));
  gate_open(&b.gate);
  CHECK_RC(rt_task_join(t, -1, &res), RT_OK);
  CHECK_PTR_EQ(res, &b);
  CHECK_TRUE(rt_task_is_finished(t));
  /* Joining a finished task again, with any timeout, gives the result again. */
  res = NULL;
  CHECK_RC(rt_task_join(t, 0, &res), RT_OK);
  CHECK_PTR_EQ(res, &b);
  CHECK_RC(rt_task_join(t, -1, NULL), RT_OK);
  rt_task_release(t);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

/* join with a positive timeout returns RT_ETIMEDOUT, not before the timeout. */
TEST(join_timeout_positive) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  blocker_t b;
  blocker_init(&b);
  rt_task_t *t = NULL;
  CHECK_RC(rt_spawn_full(h, blocker_call, &b, NULL, &t), RT_OK);
  const int64_t timeouts[] = {1000, 5 * (int64_t)MS, 30 * (int64_t)MS};
  for (size_t i = 0; i < 3; i++) {
    uint64_t t0 = now_ns();
    CHECK_RC(rt_task_join(t, timeouts[i], NULL), RT_ETIMEDOUT);
    CHECK_GE(now_ns() - t0, timeouts[i]);
  }
  /* A timeout that does not elapse: the task finishes first. */
  pthread_t opener = gate_open_later(&b.gate, 20);
  void *res = NULL;
  CHECK_RC(rt_task_join(t, 20ll * 1000 * (int64_t)MS, &res), RT_OK);
  CHECK_PTR_EQ(res, &b);
  pthread_join(opener, NULL);
  rt_task_release(t);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

/* Any negative timeout waits forever. */
TEST(join_negative_waits_forever) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  const int64_t forever[] = {-1, -1000, INT64_MIN};
  for (size_t i = 0; i < 3; i++) {
    blocker_t b;
    blocker_init(&b);
    rt_task_t *t = NULL;
    CHECK_RC(rt_spawn_full(h, blocker_call, &b, NULL, &t), RT_OK);
    pthread_t opener = gate_open_later(&b.gate, 30);
    void *res = NULL;
    CHECK_RC(rt_task_join(t, forever[i], &res), RT_OK);
    CHECK_PTR_EQ(res, &b);
    CHECK_TRUE(gate_is_open(&b.gate));
    pthread_join(opener, NULL);
    rt_task_release(t);
  }
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

/* A huge positive timeout is just a long wait, not an overflow into the
 * past: the join returns with the result once the task ran. */
TEST(join_huge_timeout) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  const int64_t huge[] = {INT64_MAX, INT64_MAX - 1, (int64_t)1 << 62};
  for (size_t i = 0; i < 3; i++) {
    blocker_t b;
    blocker_init(&b);
    rt_task_t *t = NULL;
    CHECK_RC(rt_spawn_full(h, blocker_call, &b, NULL, &t), RT_OK);
    pthread_t opener = gate_open_later(&b.gate, 30);
    void *res = NULL;
    int rc = rt_task_join(t, huge[i], &res);
    if (rc != RT_OK)
      FAIL("rt_task_join(t, %" PRId64 ") = %d (%s), want RT_OK", huge[i], rc,
           rt_code_name(rc));
    CHECK_PTR_EQ(res, &b);
    pthread_join(opener, NULL);
    rt_task_release(t);
  }
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

struct joiner {
  rt_task_t *t;
  int64_t timeout;
  int rc;
  void *res;
};

static void *joiner_main(void *arg) {
  struct joiner *j = arg;
  j->rc = rt_task_join(j->t, j->timeout, &j->res);
  return NULL;
}

/* Several threads join the same task; all see the result. */
TEST(join_multiple_joiners) {
  enum { J = 5 };
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  blocker_t b;
  blocker_init(&b);
  rt_task_t *t = NULL;
  CHECK_RC(rt_spawn_full(h, blocker_call, &b, NULL, &t), RT_OK);
  struct joiner js[J];
  pthread_t th[J];
  for (int i = 0; i < J; i++) {
    js[i] = (struct joiner){t, i % 2 ? -1 : 60ll * 1000 * (int64_t)MS, 1, NULL};
    CHECK_EQ(pthread_create(&th[i], NULL, joiner_main, &js[i]), 0);
  }
  sleep_ms(20); /* let the joiners block (not required for correctness) */
  gate_open(&b.gate);
  for (int i = 0; i < J; i++) {
    pthread_join(th[i], NULL);
    CHECK_RC(js[i].rc, RT_OK);
    CHECK_PTR_EQ(js[i].res, &b);
  }
  rt_task_release(t);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

/* Cancelling a task that has not started: RT_OK, drop ran on the calling
 * thread before the return, exactly once; fn never runs; joins see
 * RT_ECANCELED; is_finished is true; a second cancel is RT_EBUSY. */
TEST(cancel_not_started) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  blocker_t b;
  blocker_init(&b);
  blocker_start(h, &b);
  counter_t c;
  counter_init(&c);
  rt_task_t *t = NULL;
  CHECK_RC(rt_spawn_full(h, counter_call, &c, counter_drop, &t), RT_OK);
  /* A joiner already waiting when the cancel comes. */
  struct joiner j = {t, -1, 1, NULL};
  pthread_t jt;
  CHECK_EQ(pthread_create(&jt, NULL, joiner_main, &j), 0);
  CHECK_FALSE(rt_task_is_finished(t));
  CHECK_RC(rt_task_cancel(t), RT_OK);
  CHECK_EQ(atomic_load(&c.dropped), 1);
  CHECK_TRUE(pthread_equal((pthread_t)atomic_load(&c.dropped_on), pthread_self()));
  CHECK_TRUE(rt_task_is_finished(t));
  CHECK_RC(rt_task_join(t, 0, NULL), RT_ECANCELED);
  CHECK_RC(rt_task_join(t, -1, NULL), RT_ECANCELED);
  pthread_join(jt, NULL);
  CHECK_RC(j.rc, RT_ECANCELED);
  CHECK_RC(rt_task_cancel(t), RT_EBUSY);
  CHECK_EQ(atomic_load(&c.dropped), 1);
  gate_open(&b.gate);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&c.ran), 0);
  CHECK_EQ(atomic_load(&c.dropped), 1);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, 2);
  CHECK_EQ(s.completed, 1);
  CHECK_EQ(s.dropped, 1);
  rt_task_release(t);
  rt_handle_release(h);
}

/* A cancel with no drop callback is fine too. */
TEST(cancel_without_drop) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  blocker_t b;
  blocker_init(&b);
  blocker_start(h, &b);
  counter_t c;
  counter_init(&c);
  rt_task_t *t = NULL;
  CHECK_RC(rt_spawn_full(h, counter_call, &c, NULL, &t), RT_OK);
  CHECK_RC(rt_task_cancel(t), RT_OK);
  CHECK_RC(rt_task_join(t, 0, NULL), RT_ECANCELED);
  gate_open(&b.gate);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&c.ran), 0);
  rt_task_release(t);
  rt_handle_release(h);
}

/* Cancel is RT_EBUSY for a running task (which then completes normally)
 * and for a finished one; drop never runs for them. */
TEST(cancel_started_or_finished_is_busy) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  blocker_t b;
  blocker_init(&b);
  counter_t c;
  counter_init(&c);
  rt_task_t *t = NULL;
  CHECK_RC(rt_spawn_full(h, blocker_call, &b, counter_drop, &t), RT_OK);
  WAIT_UNTIL(atomic_load(&b.started) == 1);
  CHECK_RC(rt_task_cancel(t), RT_EBUSY);
  CHECK_FALSE(rt_task_is_finished(t));
  gate_open(&b.gate);
  void *res = NULL;
  CHECK_RC(rt_task_join(t, -1, &res), RT_OK);
  CHECK_PTR_EQ(res, &b);
  CHECK_RC(rt_task_cancel(t), RT_EBUSY);
  CHECK_TRUE(rt_task_is_finished(t));
  CHECK_RC(rt_task_join(t, 0, NULL), RT_OK);
  rt_task_release(t);

  rt_task_t *t2 = NULL;
  CHECK_RC(rt_spawn_full(h, counter_call, &c, counter_drop, &t2), RT_OK);
  CHECK_RC(rt_task_join(t2, -1, NULL), RT_OK);
  CHECK_RC(rt_task_cancel(t2), RT_EBUSY);
  rt_task_release(t2);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&c.ran), 1);
  CHECK_EQ(atomic_load(&c.dropped), 0);
  rt_handle_release(h);
}

/* rt_task_release drops the handle only: queued and running tasks still run. */
TEST(task_release_does_not_cancel) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  blocker_t b;
  blocker_init(&b);
  rt_task_t *running = NULL;
  CHECK_RC(rt_spawn_full(h, blocker_call, &b, NULL, &running), RT_OK);
  WAIT_UNTIL(atomic_load(&b.started) == 1);
  rt_task_release(running); /* released while running */
  counter_t c[3];
  for (int i = 0; i < 3; i++) {
    counter_init(&c[i]);
    rt_task_t *t = NULL;
    CHECK_RC(rt_spawn_full(h, counter_call, &c[i], counter_drop, &t), RT_OK);
    rt_task_release(t); /* released while queued */
  }
  gate_open(&b.gate);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&b.finished), 1);
  for (int i = 0; i < 3; i++) {
    CHECK_EQ(atomic_load(&c[i].ran), 1);
    CHECK_EQ(atomic_load(&c[i].dropped), 0);
  }
  rt_task_release(NULL); /* no-op */
  rt_handle_release(h);
}

struct inline_join {
  counter_t child;
  pthread_t parent_thread;
};

static void *join_child_inline(void *arg) {
  struct inline_join *ij = arg;
  ij->parent_thread = pthread_self();
  rt_task_t *t = NULL;
  CHECK_RC(rt_spawn_full(rt_handle_current(), counter_call, &ij->child,
                         counter_drop, &t),
           RT_OK);
  /* The only worker is busy with us: the child cannot start elsewhere, so
   * the join must run it right here. */
  void *res = NULL;
  CHECK_RC(rt_task_join(t, -1, &res), RT_OK);
  CHECK_PTR_EQ(res, &ij->child);
  CHECK_EQ(atomic_load(&ij->child.ran), 1);
  CHECK_TRUE(pthread_equal((pthread_t)atomic_load(&ij->child.ran_on), pthread_self()));
  CHECK_TRUE(rt_task_is_finished(t));
  CHECK_RC(rt_task_cancel(t), RT_EBUSY);
  rt_task_release(t);
  return NULL;
}

/* Joining, on a worker, a task of the same runtime that has not started
 * runs it inline; it never runs a second time. */
TEST(join_on_worker_runs_inline) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  struct inline_join ij;
  counter_init(&ij.child);
  rt_task_t *t = NULL;
  CHECK_RC(rt_spawn_full(h, join_child_inline, &ij, NULL, &t), RT_OK);
  CHECK_RC(rt_task_join(t, -1, NULL), RT_OK);
  rt_task_release(t);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&ij.child.ran), 1);
  CHECK_EQ(atomic_load(&ij.child.dropped), 0);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, s.completed + s.dropped);
  CHECK_EQ(s.dropped, 0);
  rt_handle_release(h);
}

struct cross_join {
  rt_task_t *t;
  int rc;
  void *res;
};

static void *join_other_runtime(void *arg) {
  struct cross_join *cj = arg;
  cj->rc = rt_task_join(cj->t, -1, &cj->res);
  return NULL;
}

/* A worker of runtime A joins a task of runtime B: it simply waits. */
TEST(join_from_other_runtime_worker) {
  rt_runtime_t *ra = make_rt(1, 0);
  rt_runtime_t *rb = make_rt(1, 0);
  rt_handle_t *ha = rt_handle(ra), *hb = rt_handle(rb);
  blocker_t b;
  blocker_init(&b);
  struct cross_join cj = {NULL, 1, NULL};
  CHECK_RC(rt_spawn_full(hb, blocker_call, &b, NULL, &cj.t), RT_OK);
  pthread_t opener = gate_open_later(&b.gate, 30);
  CHECK_RC(rt_block_on(ha, join_other_runtime, &cj, NULL), RT_OK);
  CHECK_RC(cj.rc, RT_OK);
  CHECK_PTR_EQ(cj.res, &b);
  pthread_join(opener, NULL);
  rt_task_release(cj.t);
  CHECK_RC(rt_shutdown(ra), RT_OK);
  CHECK_RC(rt_shutdown(rb), RT_OK);
  rt_handle_release(ha);
  rt_handle_release(hb);
}

/* rt_task_is_finished flips from false to true exactly when the task ran. */
TEST(task_is_finished) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  blocker_t b;
  blocker_init(&b);
  rt_task_t *t = NULL;
  CHECK_RC(rt_spawn_full(h, blocker_call, &b, NULL, &t), RT_OK);
  CHECK_FALSE(rt_task_is_finished(t)); /* queued or running */
  WAIT_UNTIL(atomic_load(&b.started) == 1);
  CHECK_FALSE(rt_task_is_finished(t)); /* running */
  gate_open(&b.gate);
  WAIT_UNTIL(rt_task_is_finished(t));
  CHECK_EQ(atomic_load(&b.finished), 1);
  CHECK_FALSE(rt_task_is_finished(NULL));
  rt_task_release(t);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

/* A join handle outlives the runtime; a task joined after shutdown reports
 * how it ended. */
TEST(join_after_shutdown) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  counter_t c;
  counter_init(&c);
  rt_task_t *t = NULL;
  CHECK_RC(rt_spawn_full(h, counter_call, &c, counter_drop, &t), RT_OK);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_TRUE(rt_task_is_finished(t));
  void *res = NULL;
  CHECK_RC(rt_task_join(t, 0, &res), RT_OK);
  CHECK_PTR_EQ(res, &c);
  CHECK_RC(rt_task_cancel(t), RT_EBUSY);
  rt_task_release(t);
  rt_handle_release(h);
}
