/* test-group.c — groups: rt_group_new, rt_group_spawn, rt_group_wait,
 * rt_group_notify(_full), rt_group_cancel, rt_group_pending,
 * rt_group_release. */
#include "harness.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* Spawns n counter jobs into g, each with a drop; every spawn must be
 * accepted. */
static void spawn_counters(rt_group_t *g, counter_t *c, int n) {
  for (int i = 0; i < n; i++) {
    counter_init(&c[i]);
    CHECK_RC(rt_group_spawn(g, counter_call, &c[i], counter_drop), RT_OK);
  }
}

/* A foreign thread waits for 1000 jobs: each ran once, pending is 0, and
 * the wait sees every job's effect. */
TEST(group_wait_1000_foreign) {
  enum { N = 1000 };
  rt_runtime_t *rt = make_rt(4, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_group_t *g = rt_group_new(h);
  CHECK_NOT_NULL(g);
  CHECK_EQ(rt_group_pending(g), 0);
  counter_t *c = calloc(N, sizeof *c);
  CHECK_NOT_NULL(c);
  spawn_counters(g, c, N);
  CHECK_RC(rt_group_wait(g, -1), RT_OK);
  CHECK_EQ(rt_group_pending(g), 0);
  for (int i = 0; i < N; i++) {
    CHECK_EQ(atomic_load(&c[i].ran), 1);
    CHECK_EQ(atomic_load(&c[i].dropped), 0);
  }
  CHECK_RC(rt_group_wait(g, 0), RT_OK);
  rt_group_release(g);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, N);
  CHECK_EQ(s.completed, N);
  CHECK_EQ(s.dropped, 0);
  free(c);
  rt_handle_release(h);
}

/* Timeout 0 polls; a short timeout returns RT_ETIMEDOUT not before it. */
TEST(group_wait_timeouts) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_group_t *g = rt_group_new(h);
  CHECK_NOT_NULL(g);
  blocker_t b;
  blocker_init(&b);
  CHECK_RC(rt_group_spawn(g, blocker_call, &b, NULL), RT_OK);
  CHECK_EQ(rt_group_pending(g), 1);
  uint64_t t0 = now_ns();
  CHECK_RC(rt_group_wait(g, 0), RT_ETIMEDOUT);
  CHECK_LT(now_ns() - t0, 100 * MS);
  t0 = now_ns();
  CHECK_RC(rt_group_wait(g, 20 * (int64_t)MS), RT_ETIMEDOUT);
  CHECK_GE(now_ns() - t0, 20 * MS);
  pthread_t opener = gate_open_later(&b.gate, 20);
  CHECK_RC(rt_group_wait(g, 20ll * 1000 * (int64_t)MS), RT_OK);
  CHECK_EQ(atomic_load(&b.finished), 1);
  CHECK_EQ(rt_group_pending(g), 0);
  CHECK_RC(rt_group_wait(g, 0), RT_OK);
  pthread_join(opener, NULL);
  rt_group_release(g);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

struct helper {
  counter_t c[200];
  pthread_t worker;
  int rc;
};

static void *fill_and_wait(void *arg) {
  struct helper *hp = arg;
  hp->worker = pthread_self();
  rt_group_t *g = rt_group_new(rt_handle_current());
  CHECK_NOT_NULL(g);
  for (int i = 0; i < 200; i++)
    CHECK_RC(rt_group_spawn(g, counter_call, &hp->c[i], counter_drop), RT_OK);
  /* The only worker is this one: the wait must run the jobs itself. */
  hp->rc = rt_group_wait(g, -1);
  rt_group_release(g);
  return NULL;
}

/* A task waits, on the one worker of its runtime, for a group it filled:
 * no deadlock, every job ran once, inline on that worker. */
TEST(group_wait_on_worker_helps) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  struct helper *hp = calloc(1, sizeof *hp);
  CHECK_NOT_NULL(hp);
  for (int i = 0; i < 200; i++) counter_init(&hp->c[i]);
  hp->rc = 1;
  CHECK_RC(rt_block_on(h, fill_and_wait, hp, NULL), RT_OK);
  CHECK_RC(hp->rc, RT_OK);
  for (int i = 0; i < 200; i++) {
    CHECK_EQ(atomic_load(&hp->c[i].ran), 1);
    CHECK_EQ(atomic_load(&hp->c[i].dropped), 0);
  }
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, s.completed + s.dropped);
  CHECK_EQ(s.dropped, 0);
  free(hp);
  rt_handle_release(h);
}

static void *fill_and_wait_spawned(void *arg) {
  fill_and_wait(arg);
  return NULL;
}

/* The same from a task queued with rt_spawn_full (not inline in block_on),
 * with a timeout: helping also works with a deadline. */
TEST(group_wait_on_worker_helps_with_timeout) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  struct helper *hp = calloc(1, sizeof *hp);
  CHECK_NOT_NULL(hp);
  for (int i = 0; i < 200; i++) counter_init(&hp->c[i]);
  hp->rc = 1;
  rt_task_t *t = NULL;
  CHECK_RC(rt_spawn_full(h, fill_and_wait_spawned, hp, NULL, &t), RT_OK);
  CHECK_RC(rt_task_join(t, -1, NULL), RT_OK);
  rt_task_release(t);
  CHECK_RC(hp->rc, RT_OK);
  for (int i = 0; i < 200; i++) CHECK_EQ(atomic_load(&hp->c[i].ran), 1);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  free(hp);
  rt_handle_release(h);
}

struct order {
  atomic_int next;
  int seen[16];
  atomic_int runs[16];
  atomic_int drops[16];
  gate_t done;
  int expect;
};

struct note {
  struct order *o;
  int index;
};

static void note_fn(void *arg) {
  struct note *n = arg;
  int at = atomic_fetch_add(&n->o->next, 1);
  n->o->seen[at] = n->index;
  atomic_fetch_add(&n->o->runs[n->index], 1);
  if (at + 1 == n->o->expect) gate_open(&n->o->done);
}

static void note_drop(void *arg) {
  struct note *n = arg;
  atomic_fetch_add(&n->o->drops[n->index], 1);
}

static void order_init(struct order *o, int expect) {
  memset(o, 0, sizeof *o);
  gate_init(&o->done);
  o->expect = expect;
}

/* Several notifications registered while jobs run: each runs once, after
 * the group emptied, in registration order; a later emptying runs none of
 * them again. */
TEST(group_notify_order_and_once) {
  enum { K = 8 };
  rt_runtime_t *rt = make_rt(4, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_group_t *g = rt_group_new(h);
  CHECK_NOT_NULL(g);
  blocker_t b;
  blocker_init(&b);
  CHECK_RC(rt_group_spawn(g, blocker_call, &b, NULL), RT_OK);
  struct order o;
  order_init(&o, K);
  struct note notes[K];
  for (int i = 0; i < K; i++) {
    notes[i] = (struct note){&o, i};
    CHECK_RC(rt_group_notify_full(g, note_fn, &notes[i], note_drop), RT_OK);
  }
  sleep_ms(10);
  CHECK_EQ(atomic_load(&o.next), 0); /* not before the group empties */
  gate_open(&b.gate);
  CHECK_TRUE(gate_wait_ms(&o.done, 10000));
  for (int i = 0; i < K; i++) {
    CHECK_EQ(o.seen[i], i);
    CHECK_EQ(atomic_load(&o.runs[i]), 1);
  }
  /* Fill and empty again: no notification runs twice. */
  counter_t c;
  counter_init(&c);
  CHECK_RC(rt_group_spawn(g, counter_call, &c, NULL), RT_OK);
  CHECK_RC(rt_group_wait(g, -1), RT_OK);
  rt_group_release(g);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  for (int i = 0; i < K; i++) {
    CHECK_EQ(atomic_load(&o.runs[i]), 1);
    CHECK_EQ(atomic_load(&o.drops[i]), 0);
  }
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, s.completed + s.dropped);
  CHECK_EQ(s.spawned, 2 + K);
  gate_destroy(&o.done);
  rt_handle_release(h);
}

static atomic_uintptr_t notify_thread;
static void mark_thread(void *arg) {
  atomic_store(&notify_thread, (uintptr_t)pthread_self());
  gate_open(arg);
}

/* A notification on an empty group is queued at once and runs on a worker. */
TEST(group_notify_empty) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_group_t *g = rt_group_new(h);
  CHECK_NOT_NULL(g);
  gate_t ran;
  gate_init(&ran);
  atomic_store(&notify_thread, 0);
  CHECK_RC(rt_group_notify(g, mark_thread, &ran), RT_OK);
  CHECK_TRUE(gate_wait_ms(&ran, 10000));
  CHECK_FALSE(pthread_equal((pthread_t)atomic_load(&notify_thread), pthread_self()));
  /* Several on an empty group: all run, in order. */
  struct order o;
  order_init(&o, 5);
  struct note notes[5];
  for (int i = 0; i < 5; i++) {
    notes[i] = (struct note){&o, i};
    CHECK_RC(rt_group_notify(g, note_fn, &notes[i]), RT_OK);
  }
  CHECK_TRUE(gate_wait_ms(&o.done, 10000));
  for (int i = 0; i < 5; i++) CHECK_EQ(o.seen[i], i);
  rt_group_release(g);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  for (int i = 0; i < 5; i++) CHECK_EQ(atomic_load(&o.runs[i]), 1);
  gate_destroy(&ran);
  gate_destroy(&o.done);
  rt_handle_release(h);
}

/* Cancel while the jobs wait behind a blocked worker: each dropped once,
 * on the calling thread; pending 0; the wait returns; a notification
 * registered before runs; the blocker (not in the group) is untouched. */
TEST(group_cancel_queued) {
  enum { N = 50 };
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  blocker_t b;
  blocker_init(&b);
  blocker_start(h, &b);
  rt_group_t *g = rt_group_new(h);
  CHECK_NOT_NULL(g);
  counter_t c[N];
  spawn_counters(g, c, N);
  CHECK_EQ(rt_group_pending(g), N);
  struct order o;
  order_init(&o, 1);
  struct note n = {&o, 0};
  CHECK_RC(rt_group_notify_full(g, note_fn, &n, note_drop), RT_OK);
  CHECK_EQ(rt_group_cancel(g), N);
  CHECK_EQ(rt_group_pending(g), 0);
  for (int i = 0; i < N; i++) {
    CHECK_EQ(atomic_load(&c[i].dropped), 1);
    CHECK_TRUE(pthread_equal((pthread_t)atomic_load(&c[i].dropped_on), pthread_self()));
  }
  CHECK_RC(rt_group_wait(g, 0), RT_OK);
  CHECK_EQ(rt_group_cancel(g), 0);
  gate_open(&b.gate);
  CHECK_TRUE(gate_wait_ms(&o.done, 10000));
  rt_group_release(g);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  for (int i = 0; i < N; i++) {
    CHECK_EQ(atomic_load(&c[i].ran), 0);
    CHECK_EQ(atomic_load(&c[i].dropped), 1);
  }
  CHECK_EQ(atomic_load(&o.runs[0]), 1);
  CHECK_EQ(atomic_load(&b.finished), 1);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, s.completed + s.dropped);
  CHECK_EQ(s.dropped, N);
  gate_destroy(&o.done);
  rt_handle_release(h);
}

struct waiter {
  rt_group_t *g;
  int rc;
};

static void *waiter_main(void *arg) {
  struct waiter *w = arg;
  w->rc = rt_group_wait(w->g, -1);
  return NULL;
}

/* rt_shutdown runs every job of a group, and the notification registered
 * before it; a thread waiting meanwhile returns RT_OK. */
TEST(group_shutdown_runs_all) {
  enum { N = 100 };
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  blocker_t b[2];
  blocker_init(&b[0]);
  blocker_init(&b[1]);
  blocker_start(h, &b[0]);
  blocker_start(h, &b[1]);
  rt_group_t *g = rt_group_new(h);
  CHECK_NOT_NULL(g);
  counter_t c[N];
  spawn_counters(g, c, N);
  struct order o;
  order_init(&o, 1);
  struct note n = {&o, 0};
  CHECK_RC(rt_group_notify_full(g, note_fn, &n, note_drop), RT_OK);
  struct waiter w = {g, 1};
  pthread_t wt;
  CHECK_EQ(pthread_create(&wt, NULL, waiter_main, &w), 0);
  pthread_t o1 = gate_open_later(&b[0].gate, 30);
  pthread_t o2 = gate_open_later(&b[1].gate, 30);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  pthread_join(wt, NULL);
  CHECK_RC(w.rc, RT_OK);
  for (int i = 0; i < N; i++) {
    CHECK_EQ(atomic_load(&c[i].ran), 1);
    CHECK_EQ(atomic_load(&c[i].dropped), 0);
  }
  CHECK_EQ(atomic_load(&o.runs[0]), 1);
  CHECK_EQ(atomic_load(&o.drops[0]), 0);
  CHECK_EQ(rt_group_pending(g), 0);
  CHECK_RC(rt_group_wait(g, -1), RT_OK);
  pthread_join(o1, NULL);
  pthread_join(o2, NULL);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, s.completed + s.dropped);
  CHECK_EQ(s.dropped, 0);
  rt_group_release(g);
  gate_destroy(&o.done);
  rt_handle_release(h);
}

/* rt_shutdown_timeout: each job exactly once, ran or dropped; the
 * notification exactly once, ran or dropped; a waiter returns RT_OK. */
TEST(group_shutdown_timeout_exactly_once) {
  enum { N = 200 };
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  blocker_t b;
  blocker_init(&b);
  blocker_start(h, &b);
  rt_group_t *g = rt_group_new(h);
  CHECK_NOT_NULL(g);
  counter_t c[N];
  spawn_counters(g, c, N);
  struct order o;
  order_init(&o, 1);
  struct note n = {&o, 0};
  CHECK_RC(rt_group_notify_full(g, note_fn, &n, note_drop), RT_OK);
  struct waiter w = {g, 1};
  pthread_t wt;
  CHECK_EQ(pthread_create(&wt, NULL, waiter_main, &w), 0);
  pthread_t opener = gate_open_later(&b.gate, 50);
  CHECK_RC(rt_shutdown_timeout(rt, 10 * MS), RT_ETIMEDOUT);
  pthread_join(wt, NULL);
  CHECK_RC(w.rc, RT_OK);
  int dropped = 0;
  for (int i = 0; i < N; i++) {
    CHECK_EQ(atomic_load(&c[i].ran) + atomic_load(&c[i].dropped), 1);
    dropped += atomic_load(&c[i].dropped);
  }
  CHECK_EQ(dropped, N);
  CHECK_EQ(atomic_load(&o.runs[0]) + atomic_load(&o.drops[0]), 1);
  CHECK_EQ(rt_group_pending(g), 0);
  pthread_join(opener, NULL);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, s.completed + s.dropped);
  rt_group_release(g);
  gate_destroy(&o.done);
  rt_handle_release(h);
}

/* After shutdown: spawns and notifies give RT_ESHUTDOWN and take nothing;
 * wait on the (empty) group is RT_OK; cancel finds nothing; rt_group_new
 * gives NULL. */
TEST(group_after_shutdown) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_group_t *g = rt_group_new(h);
  CHECK_NOT_NULL(g);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  counter_t c;
  counter_init(&c);
  CHECK_RC(rt_group_spawn(g, never_call, &c, counter_drop), RT_ESHUTDOWN);
  CHECK_RC(rt_group_notify(g, never_fn, &c), RT_ESHUTDOWN);
  CHECK_RC(rt_group_notify_full(g, never_fn, &c, counter_drop), RT_ESHUTDOWN);
  CHECK_EQ(atomic_load(&c.dropped), 0);
  CHECK_EQ(rt_group_pending(g), 0);
  CHECK_RC(rt_group_wait(g, -1), RT_OK);
  CHECK_RC(rt_group_wait(g, 0), RT_OK);
  CHECK_EQ(rt_group_cancel(g), 0);
  CHECK_NULL(rt_group_new(h));
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.rejected, 1);
  rt_group_release(g);
  rt_handle_release(h);
}

/* NULL everywhere: RT_EINVAL, NULL, 0, or a no-op. */
TEST(group_null_arguments) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  CHECK_NULL(rt_group_new(NULL));
  rt_group_t *g = rt_group_new(h);
  CHECK_NOT_NULL(g);
  CHECK_RC(rt_group_spawn(NULL, counter_call, NULL, NULL), RT_EINVAL);
  CHECK_RC(rt_group_spawn(g, NULL, NULL, NULL), RT_EINVAL);
  CHECK_RC(rt_group_wait(NULL, -1), RT_EINVAL);
  CHECK_RC(rt_group_notify(NULL, never_fn, NULL), RT_EINVAL);
  CHECK_RC(rt_group_notify(g, NULL, NULL), RT_EINVAL);
  CHECK_RC(rt_group_notify_full(NULL, never_fn, NULL, NULL), RT_EINVAL);
  CHECK_RC(rt_group_notify_full(g, NULL, NULL, NULL), RT_EINVAL);
  CHECK_RC(rt_group_cancel(NULL), RT_EINVAL);
  CHECK_EQ(rt_group_pending(NULL), 0);
  rt_group_release(NULL);
  CHECK_EQ(rt_group_pending(g), 0);
  rt_group_release(g);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, 0);
  rt_handle_release(h);
}

/* Released with jobs pending: they still run, and so does a notification
 * registered before the release. */
TEST(group_release_with_pending) {
  enum { N = 20 };
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  blocker_t b;
  blocker_init(&b);
  blocker_start(h, &b);
  rt_group_t *g = rt_group_new(h);
  CHECK_NOT_NULL(g);
  counter_t c[N];
  spawn_counters(g, c, N);
  struct order o;
  order_init(&o, 1);
  struct note n = {&o, 0};
  CHECK_RC(rt_group_notify(g, note_fn, &n), RT_OK);
  rt_group_release(g);
  gate_open(&b.gate);
  CHECK_TRUE(gate_wait_ms(&o.done, 10000));
  CHECK_RC(rt_shutdown(rt), RT_OK);
  for (int i = 0; i < N; i++) {
    CHECK_EQ(atomic_load(&c[i].ran), 1);
    CHECK_EQ(atomic_load(&c[i].dropped), 0);
  }
  CHECK_EQ(atomic_load(&o.runs[0]), 1);
  gate_destroy(&o.done);
  rt_handle_release(h);
}

/* A full bounded queue refuses a group spawn with RT_EAGAIN, taking
 * nothing and leaving the group as it was. */
TEST(group_spawn_queue_full) {
  rt_runtime_t *rt = make_rt(1, 2);
  rt_handle_t *h = rt_handle(rt);
  blocker_t b;
  blocker_init(&b);
  blocker_start(h, &b);
  rt_group_t *g = rt_group_new(h);
  CHECK_NOT_NULL(g);
  counter_t c[3];
  for (int i = 0; i < 3; i++) counter_init(&c[i]);
  CHECK_RC(rt_group_spawn(g, counter_call, &c[0], counter_drop), RT_OK);
  CHECK_RC(rt_group_spawn(g, counter_call, &c[1], counter_drop), RT_OK);
  CHECK_RC(rt_group_spawn(g, counter_call, &c[2], counter_drop), RT_EAGAIN);
  CHECK_EQ(rt_group_pending(g), 2);
  gate_open(&b.gate);
  CHECK_RC(rt_group_wait(g, -1), RT_OK);
  CHECK_EQ(atomic_load(&c[2].ran) + atomic_load(&c[2].dropped), 0);
  rt_group_release(g);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

struct spawner {
  rt_group_t *g;
  atomic_int *ran;
  int n;
};

static void *count_call(void *arg) {
  atomic_fetch_add((atomic_int *)arg, 1);
  return NULL;
}

static void *spawner_main(void *arg) {
  struct spawner *sp = arg;
  for (int i = 0; i < sp->n; i++) {
    int rc;
    while ((rc = rt_group_spawn(sp->g, count_call, sp->ran, NULL)) == RT_EAGAIN) sleep_us(10);
    CHECK_RC(rc, RT_OK);
    if (i % 64 == 0) {
      int w = rt_group_wait(sp->g, 0);
      CHECK_TRUE(w == RT_OK || w == RT_ETIMEDOUT);
    }
  }
  return NULL;
}

/* Several threads fill one group while others cancel and wait: at the end
 * every job ran or was dropped once, and the counts add up. */
TEST(group_many_threads) {
  enum { T = 4, N = 2000 };
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_group_t *g = rt_group_new(h);
  CHECK_NOT_NULL(g);
  atomic_int ran = 0;
  struct spawner sp[T];
  pthread_t th[T];
  for (int i = 0; i < T; i++) {
    sp[i] = (struct spawner){g, &ran, N};
    CHECK_EQ(pthread_create(&th[i], NULL, spawner_main, &sp[i]), 0);
  }
  int cancelled = 0;
  for (int k = 0; k < 20; k++) {
    int n = rt_group_cancel(g);
    CHECK_GE(n, 0);
    cancelled += n;
    sleep_us(200);
  }
  for (int i = 0; i < T; i++) pthread_join(th[i], NULL);
  CHECK_RC(rt_group_wait(g, -1), RT_OK);
  CHECK_EQ(rt_group_pending(g), 0);
  CHECK_EQ(atomic_load(&ran) + cancelled, T * N);
  rt_group_release(g);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, T * N);
  CHECK_EQ(s.completed, atomic_load(&ran));
  CHECK_EQ(s.dropped, cancelled);
  rt_handle_release(h);
}

/* A forked child's view of a group whose runtime runs in the parent: every
 * call that would need a worker refuses with RT_ESHUTDOWN, none hangs, no
 * job or drop runs in the child; the parent is untouched. */
TEST(group_fork_child_refuses) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  blocker_t b;
  blocker_init(&b);
  blocker_start(h, &b);
  rt_group_t *g = rt_group_new(h);
  CHECK_NOT_NULL(g);
  counter_t c;
  counter_init(&c);
  CHECK_RC(rt_group_spawn(g, counter_call, &c, counter_drop), RT_OK);
  fflush(NULL);
  pid_t pid = fork();
  CHECK_GE(pid, 0);
  if (pid == 0) {
    int ok = rt_group_spawn(g, never_call, NULL, NULL) == RT_ESHUTDOWN &&
             rt_group_wait(g, -1) == RT_ESHUTDOWN && rt_group_wait(g, 0) == RT_ETIMEDOUT &&
             rt_group_cancel(g) == RT_ESHUTDOWN && rt_group_notify(g, never_fn, NULL) == RT_ESHUTDOWN &&
             rt_group_pending(g) == 1 && rt_group_new(h) == NULL && atomic_load(&c.ran) == 0 &&
             atomic_load(&c.dropped) == 0;
    if (!ok) fprintf(stderr, "group_fork_child_refuses: a group call in the child did not refuse\n");
    child_exit(ok ? 0 : 1);
  }
  int status = 0;
  CHECK_EQ(waitpid(pid, &status, 0), pid);
  CHECK_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  gate_open(&b.gate);
  CHECK_RC(rt_group_wait(g, -1), RT_OK);
  CHECK_EQ(atomic_load(&c.ran), 1);
  rt_group_release(g);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

/* rt_stats_t counts the groups alive. */
TEST(group_stats_groups_alive) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  CHECK_EQ(get_stats(h).groups, 0);
  rt_group_t *a = rt_group_new(h), *b = rt_group_new(h);
  CHECK_EQ(get_stats(h).groups, 2);
  rt_group_release(a);
  CHECK_EQ(get_stats(h).groups, 1);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(get_stats(h).groups, 1); /* outlives the runtime */
  rt_group_release(b);
  CHECK_EQ(get_stats(h).groups, 0);
  rt_handle_release(h);
}
