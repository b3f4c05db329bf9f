/* test-completion.c — rt_spawn_then: the result goes to a loop, a strand
 * or any worker, exactly once, also under cancel and shutdown timeout. */
#include "harness.h"

#include <stdlib.h>

typedef struct done_rec {
  atomic_int calls;
  atomic_int drops;
  atomic_int status;
  void *result;
  atomic_int wrong_place;
  rt_loop_t *loop;     /* where it must run, if set */
  rt_strand_t *strand; /* where it must run, if set */
  rt_handle_t *h;
  atomic_int task_dropped_first; /* the task's drop ran before the completion */
  counter_t *task;
} done_rec_t;

static void done_fn(void *arg, int status, void *result) {
  done_rec_t *d = arg;
  if (d->loop && rt_loop_current() != d->loop) atomic_fetch_add(&d->wrong_place, 1);
  if (d->strand && rt_strand_current() != d->strand) atomic_fetch_add(&d->wrong_place, 1);
  if (d->task && status == RT_ECANCELED && atomic_load(&d->task->dropped) == 1)
    atomic_store(&d->task_dropped_first, 1);
  d->result = result;
  atomic_store(&d->status, status);
  atomic_fetch_add(&d->calls, 1);
}

static void done_drop(void *arg) {
  done_rec_t *d = arg;
  atomic_fetch_add(&d->drops, 1);
}

static rt_completion_t completion_for(done_rec_t *d) {
  rt_completion_t c = {sizeof c, done_fn, d, d->loop, d->strand, done_drop};
  return c;
}

/* Any worker, a strand, a loop: the completion runs there with RT_OK and
 * the result, once; the join handle still works. */
TEST(completion_targets) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_loop_t *l = rt_loop_new(h);
  rt_strand_t *s = rt_strand_new(h);
  counter_t c[3];
  done_rec_t d[3];
  memset(d, 0, sizeof d);
  d[1].strand = s;
  d[2].loop = l;
  for (int i = 0; i < 3; i++) {
    counter_init(&c[i]);
    rt_completion_t comp = completion_for(&d[i]);
    rt_task_t *t = NULL;
    CHECK_RC(rt_spawn_then(h, counter_call, &c[i], counter_drop, &comp, &t), RT_OK);
    void *out = NULL;
    CHECK_RC(rt_task_join(t, -1, &out), RT_OK);
    CHECK_PTR_EQ(out, &c[i]);
    rt_task_release(t);
  }
  WAIT_UNTIL(atomic_load(&d[0].calls) == 1 && atomic_load(&d[1].calls) == 1);
  sleep_ms(2);
  CHECK_EQ(atomic_load(&d[2].calls), 0); /* only the owner runs it */
  while (atomic_load(&d[2].calls) == 0) CHECK_GE(rt_loop_run(l, -1), 0);
  for (int i = 0; i < 3; i++) {
    CHECK_EQ(atomic_load(&d[i].calls), 1);
    CHECK_EQ(atomic_load(&d[i].drops), 0);
    CHECK_RC(atomic_load(&d[i].status), RT_OK);
    CHECK_PTR_EQ(d[i].result, &c[i]);
    CHECK_EQ(atomic_load(&d[i].wrong_place), 0);
  }
  CHECK_RC(rt_loop_free(l), RT_OK);
  rt_strand_release(s);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_stats_t st = get_stats(h);
  CHECK_EQ(st.spawned, 6); /* 3 tasks, 3 completions */
  CHECK_EQ(st.completed, 6);
  rt_handle_release(h);
}

/* A cancelled task: its drop, then the completion with RT_ECANCELED. */
TEST(completion_on_cancel) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  blocker_t b;
  blocker_init(&b);
  blocker_start(h, &b);
  counter_t c;
  counter_init(&c);
  done_rec_t d;
  memset(&d, 0, sizeof d);
  d.task = &c;
  rt_completion_t comp = completion_for(&d);
  rt_task_t *t = NULL;
  CHECK_RC(rt_spawn_then(h, counter_call, &c, counter_drop, &comp, &t), RT_OK);
  CHECK_RC(rt_task_cancel(t), RT_OK);
  CHECK_EQ(atomic_load(&c.dropped), 1);
  gate_open(&b.gate);
  WAIT_UNTIL(atomic_load(&d.calls) == 1);
  CHECK_RC(atomic_load(&d.status), RT_ECANCELED);
  CHECK_NULL(d.result);
  CHECK_EQ(atomic_load(&d.task_dropped_first), 1);
  rt_task_release(t);
  /* Again, cancelled from the completion's other side: the worker is
   * blocked anew first, or the task may start before the cancel (it did,
   * under TSan: RT_EBUSY). */
  blocker_t b2;
  blocker_init(&b2);
  blocker_start(h, &b2);
  counter_t c2;
  counter_init(&c2);
  done_rec_t d2;
  memset(&d2, 0, sizeof d2);
  d2.task = &c2;
  rt_completion_t comp2 = completion_for(&d2);
  CHECK_RC(rt_spawn_then(h, counter_call, &c2, counter_drop, &comp2, &t), RT_OK);
  CHECK_RC(rt_task_cancel(t), RT_OK);
  gate_open(&b2.gate);
  WAIT_UNTIL(atomic_load(&d2.calls) == 1);
  CHECK_RC(atomic_load(&d2.status), RT_ECANCELED);
  rt_task_release(t);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&d.calls) + atomic_load(&d.drops), 1);
  CHECK_EQ(atomic_load(&d2.calls) + atomic_load(&d2.drops), 1);
  rt_stats_t st = get_stats(h);
  CHECK_EQ(st.spawned, st.completed + st.dropped);
  gate_destroy(&b.gate);
  gate_destroy(&b2.gate);
  rt_handle_release(h);
}

/* A shutdown timeout drops queued tasks: each task's drop once, and
 * exactly one of its completion's fn (RT_ECANCELED) and drop. For any
 * worker the completion runs where the task was dropped; for a loop it is
 * dropped (the runtime is sealed). */
TEST(completion_shutdown_timeout) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_loop_t *l = rt_loop_new(h);
  blocker_t b;
  blocker_init(&b);
  blocker_start(h, &b);
  enum { N = 50 };
  counter_t c[N];
  done_rec_t d[N];
  memset(d, 0, sizeof d);
  for (int i = 0; i < N; i++) {
    counter_init(&c[i]);
    d[i].loop = i % 2 ? l : NULL;
    rt_completion_t comp = completion_for(&d[i]);
    CHECK_RC(rt_spawn_then(h, counter_call, &c[i], counter_drop, &comp, NULL), RT_OK);
  }
  pthread_t opener = gate_open_later(&b.gate, 30);
  CHECK_RC(rt_shutdown_timeout(rt, 5 * MS), RT_ETIMEDOUT);
  pthread_join(opener, NULL);
  for (int i = 0; i < N; i++) {
    CHECK_EQ(atomic_load(&c[i].ran), 0);
    CHECK_EQ(atomic_load(&c[i].dropped), 1);
    CHECK_EQ(atomic_load(&d[i].calls) + atomic_load(&d[i].drops), 1);
    if (i % 2 == 0) {
      CHECK_EQ(atomic_load(&d[i].calls), 1);
      CHECK_RC(atomic_load(&d[i].status), RT_ECANCELED);
    } else {
      CHECK_EQ(atomic_load(&d[i].drops), 1);
    }
  }
  CHECK_RC(rt_loop_run_pending(l, SIZE_MAX), 0);
  CHECK_RC(rt_loop_free(l), RT_OK);
  rt_stats_t st = get_stats(h);
  CHECK_EQ(st.spawned, st.completed + st.dropped);
  gate_destroy(&b.gate);
  rt_handle_release(h);
}

/* A loop freed before its completion is posted: the completion's drop. */
TEST(completion_loop_freed) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_loop_t *l = rt_loop_new(h);
  blocker_t b;
  blocker_init(&b);
  blocker_start(h, &b);
  counter_t c;
  counter_init(&c);
  done_rec_t d;
  memset(&d, 0, sizeof d);
  d.loop = l;
  rt_completion_t comp = completion_for(&d);
  CHECK_RC(rt_spawn_then(h, counter_call, &c, counter_drop, &comp, NULL), RT_OK);
  CHECK_RC(rt_loop_free(l), RT_OK);
  gate_open(&b.gate);
  WAIT_UNTIL(atomic_load(&d.drops) == 1);
  CHECK_EQ(atomic_load(&c.ran), 1);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&d.calls), 0);
  CHECK_EQ(atomic_load(&d.drops), 1);
  rt_stats_t st = get_stats(h);
  CHECK_EQ(st.spawned, st.completed + st.dropped);
  gate_destroy(&b.gate);
  rt_handle_release(h);
}

static void cfn(void *arg, int status, void *result) { (void)arg, (void)status, (void)result; }

/* Bad arguments get RT_EINVAL and queue nothing. */
TEST(completion_bad_arguments) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_runtime_t *rt2 = make_rt(1, 0);
  rt_handle_t *h2 = rt_handle(rt2);
  rt_loop_t *l = rt_loop_new(h), *l2 = rt_loop_new(h2);
  rt_strand_t *s = rt_strand_new(h), *s2 = rt_strand_new(h2);
  rt_completion_t ok = {sizeof ok, cfn, NULL, NULL, NULL, NULL};
  rt_task_t *t = NULL;
  CHECK_RC(rt_spawn_then(NULL, never_call, NULL, NULL, &ok, &t), RT_EINVAL);
  CHECK_RC(rt_spawn_then(h, NULL, NULL, NULL, &ok, &t), RT_EINVAL);
  CHECK_RC(rt_spawn_then(h, never_call, NULL, NULL, NULL, &t), RT_EINVAL);
  rt_completion_t bad = ok;
  bad.size = 0;
  CHECK_RC(rt_spawn_then(h, never_call, NULL, NULL, &bad, &t), RT_EINVAL);
  bad = ok;
  bad.fn = NULL;
  CHECK_RC(rt_spawn_then(h, never_call, NULL, NULL, &bad, &t), RT_EINVAL);
  bad = ok;
  bad.loop = l;
  bad.strand = s;
  CHECK_RC(rt_spawn_then(h, never_call, NULL, NULL, &bad, &t), RT_EINVAL);
  bad = ok;
  bad.loop = l2;
  CHECK_RC(rt_spawn_then(h, never_call, NULL, NULL, &bad, &t), RT_EINVAL);
  bad = ok;
  bad.strand = s2;
  CHECK_RC(rt_spawn_then(h, never_call, NULL, NULL, &bad, &t), RT_EINVAL);
  CHECK_NULL(t);
  CHECK_RC(rt_loop_free(l), RT_OK);
  CHECK_RC(rt_loop_free(l2), RT_OK);
  rt_strand_release(s);
  rt_strand_release(s2);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_RC(rt_shutdown(rt2), RT_OK);
  CHECK_EQ(get_stats(h).spawned, 0);
  CHECK_RC(rt_spawn_then(h, never_call, NULL, NULL, &ok, &t), RT_ESHUTDOWN);
  rt_handle_release(h);
  rt_handle_release(h2);
}

/* A shutdown in the background with completions queued: it returns at
 * once; each task that never ran gets its drop, then its completion with
 * RT_ECANCELED on a worker target; the running one completes with RT_OK
 * once released. */
TEST(completion_shutdown_background) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  blocker_t b;
  blocker_init(&b);
  blocker_start(h, &b);
  enum { N = 50 };
  counter_t c[N];
  done_rec_t d[N];
  memset(d, 0, sizeof d);
  for (int i = 0; i < N; i++) {
    counter_init(&c[i]);
    rt_completion_t comp = completion_for(&d[i]);
    CHECK_RC(rt_spawn_then(h, counter_call, &c[i], counter_drop, &comp, NULL), RT_OK);
  }
  CHECK_RC(rt_shutdown_background(rt), RT_OK);
  for (int i = 0; i < N; i++) {
    CHECK_EQ(atomic_load(&c[i].ran), 0);
    CHECK_EQ(atomic_load(&c[i].dropped), 1);
    CHECK_EQ(atomic_load(&d[i].calls), 1);
    CHECK_EQ(atomic_load(&d[i].drops), 0);
    CHECK_RC(atomic_load(&d[i].status), RT_ECANCELED);
  }
  CHECK_RC(rt_spawn(h, counter_fn, &c[0]), RT_ESHUTDOWN);
  gate_open(&b.gate);
  WAIT_UNTIL(count_threads("rt-worker") == 0);
  gate_destroy(&b.gate);
  rt_handle_release(h);
}

/* rt_callback_new_then: each POST call's handler result reaches the
 * completion on the loop, once per call; a call after the shutdown is
 * never run and its loop completion is dropped; bad arguments give NULL. */
typedef struct then_rec {
  atomic_int calls, sum, cancelled, drops, wrong_place;
  rt_loop_t *loop;
} then_rec_t;

static void then_handler(void *result, void **args, void *user) {
  (void)user;
  *(void **)result = (void *)(intptr_t)(*(int *)args[0] + 1);
}

static void then_done(void *arg, int status, void *result) {
  then_rec_t *r = arg;
  if (rt_loop_current() != r->loop) atomic_fetch_add(&r->wrong_place, 1);
  if (status == RT_OK) atomic_fetch_add(&r->sum, (int)(intptr_t)result);
  else atomic_fetch_add(&r->cancelled, 1);
  atomic_fetch_add(&r->calls, 1);
}

static void then_drop(void *arg) { atomic_fetch_add(&((then_rec_t *)arg)->drops, 1); }

static void *then_caller(void *code) {
  for (int i = 0; i < 100; i++) ((void (*)(int))code)(i);
  return NULL;
}

TEST(completion_from_post_trampoline) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_loop_t *l = rt_loop_new(h);
  CHECK_NOT_NULL(l);
  then_rec_t r;
  memset(&r, 0, sizeof r);
  r.loop = l;
  rt_completion_t c = {sizeof c, then_done, &r, l, NULL, then_drop};
  static const rt_type_t arg = RT_TYPE_INT;
  void *code = NULL;
  CHECK_NULL(rt_callback_new_then(h, &arg, 1, then_handler, NULL, NULL, &code));
  rt_completion_t bad = c;
  bad.fn = NULL;
  CHECK_NULL(rt_callback_new_then(h, &arg, 1, then_handler, NULL, &bad, &code));
  bad = c;
  bad.size = 1;
  CHECK_NULL(rt_callback_new_then(h, &arg, 1, then_handler, NULL, &bad, &code));
  rt_callback_t *cb = rt_callback_new_then(h, &arg, 1, then_handler, NULL, &c, &code);
  CHECK_NOT_NULL(cb);
  pthread_t th;
  CHECK_EQ(pthread_create(&th, NULL, then_caller, code), 0);
  CHECK_EQ(pthread_join(th, NULL), 0);
  for (int spins = 0; atomic_load(&r.calls) < 100 && spins < 10000; spins++) (void)rt_loop_run(l, 1000000);
  CHECK_EQ(atomic_load(&r.calls), 100);
  CHECK_EQ(atomic_load(&r.sum), 100 * 101 / 2);
  CHECK_EQ(atomic_load(&r.cancelled), 0);
  CHECK_EQ(atomic_load(&r.wrong_place), 0);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  ((void (*)(int))code)(7); /* refused: never runs; the loop takes no completion */
  CHECK_EQ(atomic_load(&r.calls), 100);
  CHECK_EQ(atomic_load(&r.drops), 1);
  rt_callback_free(cb);
  CHECK_RC(rt_loop_free(l), RT_OK);
  rt_handle_release(h);
}
