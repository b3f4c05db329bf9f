/* test-context.c — rt_handle_current, rt_enter, rt_exit. */
#include "harness.h"

static void *current_on_thread(void *arg) {
  (void)arg;
  return rt_handle_current();
}

static void *current_in_task(void *arg) {
  (void)arg;
  return rt_handle_current();
}

/* Outside any runtime, on any thread, there is no current handle; creating
 * a runtime does not make it current on the creating thread. */
TEST(context_current_null_outside) {
  CHECK_NULL(rt_handle_current());
  rt_runtime_t *rt = make_rt(1, 0);
  CHECK_NULL(rt_handle_current());
  pthread_t th;
  void *res = (void *)1;
  CHECK_EQ(pthread_create(&th, NULL, current_on_thread, NULL), 0);
  pthread_join(th, &res);
  CHECK_NULL(res);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_NULL(rt_handle_current());
}

/* While a task runs on a worker, the current handle is that worker's
 * runtime: for spawn, spawn_full, spawn_after and block_on alike. */
TEST(context_current_in_task) {
  rt_runtime_t *ra = make_rt(1, 0);
  rt_runtime_t *rb = make_rt(2, 0);
  rt_handle_t *ha = rt_handle(ra), *hb = rt_handle(rb);
  rt_handle_t *hs[2] = {ha, hb};
  for (int i = 0; i < 2; i++) {
    void *res = NULL;
    CHECK_RC(rt_block_on(hs[i], current_in_task, NULL, &res), RT_OK);
    CHECK_PTR_EQ(res, hs[i]);
    rt_task_t *t = NULL;
    CHECK_RC(rt_spawn_full(hs[i], current_in_task, NULL, NULL, &t), RT_OK);
    CHECK_RC(rt_task_join(t, -1, &res), RT_OK);
    CHECK_PTR_EQ(res, hs[i]);
    rt_task_release(t);
    CHECK_RC(rt_spawn_after(hs[i], 2 * MS, current_in_task, NULL, NULL, &t), RT_OK);
    CHECK_RC(rt_task_join(t, -1, &res), RT_OK);
    CHECK_PTR_EQ(res, hs[i]);
    rt_task_release(t);
  }
  CHECK_NULL(rt_handle_current());
  CHECK_RC(rt_shutdown(ra), RT_OK);
  CHECK_RC(rt_shutdown(rb), RT_OK);
  rt_handle_release(ha);
  rt_handle_release(hb);
}

/* rt_enter nests: the innermost entered handle is current (that very
 * pointer), rt_exit restores the one before, down to NULL. */
TEST(context_enter_nesting) {
  rt_runtime_t *ra = make_rt(1, 0);
  rt_runtime_t *rb = make_rt(1, 0);
  rt_handle_t *ha = rt_handle(ra), *hb = rt_handle(rb);
  rt_guard_t *g1 = rt_enter(ha);
  CHECK_NOT_NULL(g1);
  CHECK_PTR_EQ(rt_handle_current(), ha);
  rt_guard_t *g2 = rt_enter(hb);
  CHECK_NOT_NULL(g2);
  CHECK_PTR_EQ(rt_handle_current(), hb);
  rt_guard_t *g3 = rt_enter(ha);
  CHECK_NOT_NULL(g3);
  CHECK_PTR_EQ(rt_handle_current(), ha);
  CHECK_RC(rt_exit(g3), RT_OK);
  CHECK_PTR_EQ(rt_handle_current(), hb);
  CHECK_RC(rt_exit(g2), RT_OK);
  CHECK_PTR_EQ(rt_handle_current(), ha);
  CHECK_RC(rt_exit(g1), RT_OK);
  CHECK_NULL(rt_handle_current());
  CHECK_RC(rt_shutdown(ra), RT_OK);
  CHECK_RC(rt_shutdown(rb), RT_OK);
  rt_handle_release(ha);
  rt_handle_release(hb);
}

/* The current handle is usable: a foreign thread that entered a runtime
 * spawns through rt_handle_current(). */
TEST(context_enter_then_spawn_via_current) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_guard_t *g = rt_enter(h);
  CHECK_NOT_NULL(g);
  counter_t c;
  counter_init(&c);
  rt_task_t *t = NULL;
  CHECK_RC(rt_spawn_full(rt_handle_current(), counter_call, &c, NULL, &t), RT_OK);
  CHECK_RC(rt_task_join(t, -1, NULL), RT_OK);
  rt_task_release(t);
  /* Entering does not make this thread a worker: block_on still hands the
   * work to a worker thread. */
  void *res = NULL;
  CHECK_RC(rt_block_on(rt_handle_current(), current_in_task, NULL, &res), RT_OK);
  CHECK_PTR_EQ(res, h);
  CHECK_RC(rt_exit(g), RT_OK);
  CHECK_EQ(atomic_load(&c.ran), 1);
  CHECK_FALSE(pthread_equal((pthread_t)atomic_load(&c.ran_on), pthread_self()));
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

/* Exits must be last-in-first-out: exiting an outer guard while an inner
 * one is active is RT_EINVAL and changes nothing. */
TEST(context_exit_not_lifo) {
  rt_runtime_t *ra = make_rt(1, 0);
  rt_runtime_t *rb = make_rt(1, 0);
  rt_handle_t *ha = rt_handle(ra), *hb = rt_handle(rb);
  rt_guard_t *g1 = rt_enter(ha);
  rt_guard_t *g2 = rt_enter(hb);
  CHECK_NOT_NULL(g1);
  CHECK_NOT_NULL(g2);
  CHECK_RC(rt_exit(g1), RT_EINVAL);
  CHECK_PTR_EQ(rt_handle_current(), hb); /* nothing changed */
  CHECK_RC(rt_exit(g1), RT_EINVAL);      /* still refused, still valid */
  CHECK_PTR_EQ(rt_handle_current(), hb);
  CHECK_RC(rt_exit(g2), RT_OK);
  CHECK_PTR_EQ(rt_handle_current(), ha);
  CHECK_RC(rt_exit(g1), RT_OK); /* g1 was not consumed by the refused exits */
  CHECK_NULL(rt_handle_current());
  CHECK_RC(rt_shutdown(ra), RT_OK);
  CHECK_RC(rt_shutdown(rb), RT_OK);
  rt_handle_release(ha);
  rt_handle_release(hb);
}

struct other_exit {
  rt_guard_t *g;
  int rc;
  rt_handle_t *current_before, *current_after;
};

static void *exit_on_other_thread(void *arg) {
  struct other_exit *oe = arg;
  oe->current_before = rt_handle_current();
  oe->rc = rt_exit(oe->g);
  oe->current_after = rt_handle_current();
  return NULL;
}

/* Exits must happen on the entering thread: elsewhere RT_EINVAL, and
 * neither thread's context changes. */
TEST(context_exit_other_thread) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_guard_t *g = rt_enter(h);
  CHECK_NOT_NULL(g);
  struct other_exit oe = {g, 1, (rt_handle_t *)1, (rt_handle_t *)1};
  pthread_t th;
  CHECK_EQ(pthread_create(&th, NULL, exit_on_other_thread, &oe), 0);
  pthread_join(th, NULL);
  CHECK_RC(oe.rc, RT_EINVAL);
  CHECK_NULL(oe.current_before);
  CHECK_NULL(oe.current_after);
  CHECK_PTR_EQ(rt_handle_current(), h);
  CHECK_RC(rt_exit(g), RT_OK);
  CHECK_NULL(rt_handle_current());
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

/* Bad input: rt_enter(NULL) is NULL and changes nothing; rt_exit(NULL) is
 * RT_EINVAL. */
TEST(context_null_arguments) {
  CHECK_NULL(rt_enter(NULL));
  CHECK_NULL(rt_handle_current());
  CHECK_RC(rt_exit(NULL), RT_EINVAL);
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_guard_t *g = rt_enter(h);
  CHECK_NOT_NULL(g);
  CHECK_NULL(rt_enter(NULL));
  CHECK_PTR_EQ(rt_handle_current(), h);
  CHECK_RC(rt_exit(NULL), RT_EINVAL);
  CHECK_PTR_EQ(rt_handle_current(), h);
  CHECK_RC(rt_exit(g), RT_OK);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

/* The guard keeps its own reference: the caller may release its handle
 * while entered, and the current handle stays usable until rt_exit. */
TEST(context_guard_keeps_reference) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_handle_t *extra = rt_handle_clone(h);
  CHECK_PTR_EQ(extra, h);
  rt_guard_t *g = rt_enter(extra);
  CHECK_NOT_NULL(g);
  rt_handle_release(extra);
  CHECK_PTR_EQ(rt_handle_current(), h);
  counter_t c;
  counter_init(&c);
  CHECK_RC(rt_spawn(rt_handle_current(), counter_fn, &c), RT_OK);
  CHECK_EQ(get_stats(rt_handle_current()).workers, 1);
  CHECK_RC(rt_exit(g), RT_OK);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&c.ran), 1);
  rt_handle_release(h);
}

struct in_task_enter {
  rt_handle_t *a, *b;
};

static void *enter_in_task(void *arg) {
  struct in_task_enter *x = arg;
  CHECK_PTR_EQ(rt_handle_current(), x->a);
  rt_guard_t *g = rt_enter(x->b);
  CHECK_NOT_NULL(g);
  CHECK_PTR_EQ(rt_handle_current(), x->b);
  /* Entered B on A's worker: B's block_on blocks this worker like any
   * foreign thread, and its fn runs on B. */
  void *res = NULL;
  CHECK_RC(rt_block_on(x->b, current_in_task, NULL, &res), RT_OK);
  CHECK_PTR_EQ(res, x->b);
  CHECK_RC(rt_exit(g), RT_OK);
  CHECK_PTR_EQ(rt_handle_current(), x->a); /* back to the worker's runtime */
  return NULL;
}

/* rt_enter works on a worker thread too, and rt_exit restores the worker's
 * own runtime. */
TEST(context_enter_on_worker) {
  rt_runtime_t *ra = make_rt(1, 0);
  rt_runtime_t *rb = make_rt(1, 0);
  struct in_task_enter x = {rt_handle(ra), rt_handle(rb)};
  CHECK_RC(rt_block_on(x.a, enter_in_task, &x, NULL), RT_OK);
  /* The worker is still A's after the task: the next task sees A. */
  void *res = NULL;
  CHECK_RC(rt_block_on(x.a, current_in_task, NULL, &res), RT_OK);
  CHECK_PTR_EQ(res, x.a);
  CHECK_RC(rt_shutdown(ra), RT_OK);
  CHECK_RC(rt_shutdown(rb), RT_OK);
  rt_handle_release(x.a);
  rt_handle_release(x.b);
}

struct per_thread {
  rt_handle_t *h;
  atomic_int *entered;
  int rounds;
};

static void *enter_exit_loop(void *arg) {
  struct per_thread *pt = arg;
  CHECK_NULL(rt_handle_current());
  for (int i = 0; i < pt->rounds; i++) {
    rt_guard_t *g1 = rt_enter(pt->h);
    CHECK_NOT_NULL(g1);
    rt_guard_t *g2 = rt_enter(pt->h);
    CHECK_NOT_NULL(g2);
    CHECK_PTR_EQ(rt_handle_current(), pt->h);
    CHECK_RC(rt_exit(g1), RT_EINVAL);
    CHECK_RC(rt_exit(g2), RT_OK);
    CHECK_PTR_EQ(rt_handle_current(), pt->h);
    CHECK_RC(rt_exit(g1), RT_OK);
    CHECK_NULL(rt_handle_current());
  }
  atomic_fetch_add(pt->entered, 1);
  return NULL;
}

/* The context is per thread: many threads entering the same handle at once
 * never see each other's guards. */
TEST(context_is_per_thread) {
  enum { THREADS = 6 };
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  atomic_int entered = 0;
  struct per_thread pt = {h, &entered, 2000};
  pthread_t th[THREADS];
  for (int i = 0; i < THREADS; i++)
    CHECK_EQ(pthread_create(&th[i], NULL, enter_exit_loop, &pt), 0);
  for (int i = 0; i < THREADS; i++)
    pthread_join(th[i], NULL);
  CHECK_EQ(atomic_load(&entered), THREADS);
  CHECK_NULL(rt_handle_current());
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

/* rt_handle_clone returns the same pointer, one more reference each; NULL
 * gives NULL; rt_handle_release(NULL) is a no-op. */
TEST(context_handle_clone_release) {
  CHECK_NULL(rt_handle_clone(NULL));
  rt_handle_release(NULL);
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_handle_t *clones[16];
  for (int i = 0; i < 16; i++) {
    clones[i] = rt_handle_clone(h);
    CHECK_PTR_EQ(clones[i], h);
  }
  rt_handle_release(h);
  for (int i = 0; i < 15; i++)
    rt_handle_release(clones[i]);
  /* One reference left: still fully usable. */
  void *res = NULL;
  CHECK_RC(rt_block_on(clones[15], current_in_task, NULL, &res), RT_OK);
  CHECK_PTR_EQ(res, clones[15]);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(clones[15]);
}

/* A guard entered before the shutdown stays valid after it: the handle is
 * still current (and refuses work), and rt_exit still restores. */
TEST(context_guard_across_shutdown) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_guard_t *g = rt_enter(h);
  CHECK_NOT_NULL(g);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_PTR_EQ(rt_handle_current(), h);
  CHECK_TRUE(get_stats(rt_handle_current()).shutdown);
  counter_t c;
  counter_init(&c);
  CHECK_RC(rt_spawn(rt_handle_current(), counter_fn, &c), RT_ESHUTDOWN);
  CHECK_RC(rt_exit(g), RT_OK);
  CHECK_NULL(rt_handle_current());
  CHECK_EQ(atomic_load(&c.ran), 0);
  rt_handle_release(h);
}
