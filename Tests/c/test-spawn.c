/* test-spawn.c — rt_spawn and rt_spawn_full: each accepted task runs once,
 * on a worker, with its arg; failed spawns take nothing. */
#include "harness.h"

#include <stdlib.h>

static atomic_int ran;

static void bump(void *arg) {
  (void)arg;
  atomic_fetch_add(&ran, 1);
}

/* rt_spawn: every accepted task runs exactly once, with its own arg. */
TEST(spawn_runs_each_task_once) {
  enum { N = 2000 };
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  counter_t *c = calloc(N, sizeof *c);
  CHECK_NOT_NULL(c);
  for (int i = 0; i < N; i++) {
    counter_init(&c[i]);
    CHECK_RC(rt_spawn(h, counter_fn, &c[i]), RT_OK);
  }
  CHECK_RC(rt_shutdown(rt), RT_OK);
  for (int i = 0; i < N; i++) {
    if (atomic_load(&c[i].ran) != 1 || atomic_load(&c[i].dropped) != 0)
      FAIL("task %d: ran %d times, dropped %d times; want 1 and 0", i,
           atomic_load(&c[i].ran), atomic_load(&c[i].dropped));
  }
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, N);
  CHECK_EQ(s.completed, N);
  CHECK_EQ(s.dropped, 0);
  rt_handle_release(h);
  free(c);
}

struct where {
  rt_handle_t *current;
  pthread_t thread;
  atomic_int done;
};

static void *record_where(void *arg) {
  struct where *w = arg;
  w->current = rt_handle_current();
  w->thread = pthread_self();
  atomic_store(&w->done, 1);
  return arg;
}

static void record_where_fn(void *arg) { (void)record_where(arg); }

/* Tasks run on a worker thread (not the caller), with the runtime current. */
TEST(spawn_runs_on_worker) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  struct where w1 = {0}, w2 = {0};
  CHECK_RC(rt_spawn(h, record_where_fn, &w1), RT_OK);
  rt_task_t *t = NULL;
  CHECK_RC(rt_spawn_full(h, record_where, &w2, NULL, &t), RT_OK);
  void *res = NULL;
  CHECK_RC(rt_task_join(t, -1, &res), RT_OK);
  CHECK_PTR_EQ(res, &w2);
  rt_task_release(t);
  WAIT_UNTIL(atomic_load(&w1.done));
  CHECK_PTR_EQ(w1.current, h);
  CHECK_PTR_EQ(w2.current, h);
  CHECK_FALSE(pthread_equal(w1.thread, pthread_self()));
  /* One worker: both ran on it. */
  CHECK_TRUE(pthread_equal(w1.thread, w2.thread));
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

static void *forty_two(void *arg) {
  (void)arg;
  return (void *)(uintptr_t)42;
}

/* rt_spawn_full: the result reaches the joiner; drop is not called for a
 * task that ran; task_out may be NULL. */
TEST(spawn_full_result_and_no_drop) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_task_t *t = NULL;
  counter_t c;
  counter_init(&c);
  CHECK_RC(rt_spawn_full(h, forty_two, &c, counter_drop, &t), RT_OK);
  CHECK_NOT_NULL(t);
  void *res = NULL;
  CHECK_RC(rt_task_join(t, -1, &res), RT_OK);
  CHECK_EQ((uintptr_t)res, 42);
  rt_task_release(t);

  counter_t c2;
  counter_init(&c2);
  CHECK_RC(rt_spawn_full(h, counter_call, &c2, counter_drop, NULL), RT_OK);
  WAIT_UNTIL(atomic_load(&c2.ran) == 1);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&c.dropped), 0);
  CHECK_EQ(atomic_load(&c2.ran), 1);
  CHECK_EQ(atomic_load(&c2.dropped), 0);
  rt_handle_release(h);
}

/* The same arg pointer, byte for byte, reaches fn (also NULL and odd values). */
static void *echo(void *arg) { return arg; }

TEST(spawn_full_passes_arg_through) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  void *args[] = {NULL, (void *)(uintptr_t)1, (void *)(uintptr_t)UINTPTR_MAX, h};
  for (size_t i = 0; i < 4; i++) {
    rt_task_t *t = NULL;
    CHECK_RC(rt_spawn_full(h, echo, args[i], NULL, &t), RT_OK);
    void *res = (void *)(uintptr_t)0xdead;
    CHECK_RC(rt_task_join(t, -1, &res), RT_OK);
    CHECK_PTR_EQ(res, args[i]);
    rt_task_release(t);
  }
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

static void spawn_children(void *arg) {
  int depth = (int)(intptr_t)arg;
  atomic_fetch_add(&ran, 1);
  if (depth == 0)
    return;
  rt_handle_t *cur = rt_handle_current();
  if (cur == NULL)
    FAIL("rt_handle_current() is NULL inside a task");
  for (int i = 0; i < 3; i++)
    CHECK_RC(rt_spawn(cur, spawn_children, (void *)(intptr_t)(depth - 1)), RT_OK);
}

/* Tasks spawn onto their own runtime through rt_handle_current(). */
TEST(spawn_from_task) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  CHECK_RC(rt_spawn(h, spawn_children, (void *)(intptr_t)4), RT_OK);
  /* 1 + 3 + 9 + 27 + 81 tasks. */
  WAIT_UNTIL(atomic_load(&ran) == 121);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&ran), 121);
  CHECK_EQ(get_stats(h).spawned, 121);
  rt_handle_release(h);
}

struct spawner {
  rt_handle_t *h;
  int n;
};

static void *spawner_main(void *arg) {
  struct spawner *sp = arg;
  for (int i = 0; i < sp->n; i++) {
    if (i % 2)
      CHECK_RC(rt_spawn(sp->h, bump, NULL), RT_OK);
    else
      CHECK_RC(rt_spawn_full(sp->h, forty_two, NULL, NULL, NULL), RT_OK);
  }
  return NULL;
}

/* Foreign threads spawn concurrently; nothing is lost or run twice. */
TEST(spawn_from_foreign_threads) {
  enum { THREADS = 6, PER = 3000 };
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  pthread_t th[THREADS];
  struct spawner sp = {h, PER};
  for (int i = 0; i < THREADS; i++)
    CHECK_EQ(pthread_create(&th[i], NULL, spawner_main, &sp), 0);
  for (int i = 0; i < THREADS; i++)
    pthread_join(th[i], NULL);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  /* Half of them bumped. */
  CHECK_EQ(atomic_load(&ran), THREADS * PER / 2);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, THREADS * PER);
  CHECK_EQ(s.completed, THREADS * PER);
  rt_handle_release(h);
}

/* A failed spawn (NULL fn) leaves task_out untouched and calls nothing. */
TEST(spawn_failure_takes_nothing) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  counter_t c;
  counter_init(&c);
  rt_task_t *sentinel = (rt_task_t *)(uintptr_t)0x5151;
  rt_task_t *t = sentinel;
  CHECK_RC(rt_spawn_full(h, NULL, &c, counter_drop, &t), RT_EINVAL);
  CHECK_PTR_EQ(t, sentinel);
  CHECK_RC(rt_spawn_after(h, 1000, NULL, &c, counter_drop, &t), RT_EINVAL);
  CHECK_PTR_EQ(t, sentinel);
  CHECK_RC(rt_spawn(h, NULL, &c), RT_EINVAL);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&c.dropped), 0);
  CHECK_EQ(atomic_load(&c.ran), 0);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, 0);
  CHECK_EQ(s.dropped, 0);
  rt_handle_release(h);
}

/* A task may release its join handle before it even ran: it still runs. */
TEST(spawn_full_release_before_run) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  blocker_t b;
  blocker_init(&b);
  blocker_start(h, &b);
  counter_t c;
  counter_init(&c);
  rt_task_t *t = NULL;
  CHECK_RC(rt_spawn_full(h, counter_call, &c, counter_drop, &t), RT_OK);
  rt_task_release(t);
  CHECK_EQ(atomic_load(&c.ran), 0);
  gate_open(&b.gate);
  WAIT_UNTIL(atomic_load(&c.ran) == 1);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&c.ran), 1);
  CHECK_EQ(atomic_load(&c.dropped), 0);
  rt_handle_release(h);
}
