/* test-block-on.c — rt_block_on: runs on a worker and waits; inline on a
 * worker of the same runtime; blocks a worker of another runtime. */
#include "harness.h"

struct where {
  rt_handle_t *current;
  pthread_t thread;
  bool finished_before_return;
};

static void *sleepy_where(void *arg) {
  struct where *w = arg;
  sleep_ms(20);
  w->current = rt_handle_current();
  w->thread = pthread_self();
  w->finished_before_return = true;
  return (void *)(uintptr_t)42;
}

/* block_on runs fn on a worker, waits for it, and stores its result. */
TEST(block_on_result_from_worker) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  struct where w = {0};
  void *res = NULL;
  CHECK_RC(rt_block_on(h, sleepy_where, &w, &res), RT_OK);
  CHECK_EQ((uintptr_t)res, 42);
  CHECK_TRUE(w.finished_before_return);
  CHECK_PTR_EQ(w.current, h);
  CHECK_FALSE(pthread_equal(w.thread, pthread_self()));
  /* The caller stays outside the runtime. */
  CHECK_NULL(rt_handle_current());
  /* result may be NULL. */
  struct where w2 = {0};
  CHECK_RC(rt_block_on(h, sleepy_where, &w2, NULL), RT_OK);
  CHECK_TRUE(w2.finished_before_return);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, 2);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  s = get_stats(h);
  CHECK_EQ(s.completed, 2);
  rt_handle_release(h);
}

static void *inner(void *arg) {
  pthread_t *outer_thread = arg;
  if (!pthread_equal(*outer_thread, pthread_self()))
    FAIL("block_on on the same runtime's worker did not run inline");
  return (void *)(uintptr_t)7;
}

static void *outer(void *arg) {
  rt_handle_t *h = arg;
  pthread_t self = pthread_self();
  void *res = NULL;
  CHECK_RC(rt_block_on(h, inner, &self, &res), RT_OK);
  CHECK_EQ((uintptr_t)res, 7);
  /* Still the runtime's context after the inline call. */
  CHECK_PTR_EQ(rt_handle_current(), h);
  return (void *)(uintptr_t)8;
}

/* On a worker of the same runtime, block_on runs fn inline: with one worker
 * anything else would deadlock. Inline work is not counted in stats. */
TEST(block_on_inline_on_own_worker) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_task_t *t = NULL;
  CHECK_RC(rt_spawn_full(h, outer, h, NULL, &t), RT_OK);
  void *res = NULL;
  CHECK_RC(rt_task_join(t, -1, &res), RT_OK);
  CHECK_EQ((uintptr_t)res, 8);
  rt_task_release(t);
  /* And a block_on from outside whose fn block_ons again: inline too. */
  res = NULL;
  CHECK_RC(rt_block_on(h, outer, h, &res), RT_OK);
  CHECK_EQ((uintptr_t)res, 8);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, 2); /* the spawn and the outer block_on only */
  CHECK_EQ(s.completed, 2);
  CHECK_EQ(s.dropped, 0);
  rt_handle_release(h);
}

struct cross {
  rt_handle_t *a, *b;
  struct where w;
};

static void *on_a(void *arg) {
  struct cross *x = arg;
  void *res = NULL;
  CHECK_RC(rt_block_on(x->b, sleepy_where, &x->w, &res), RT_OK);
  CHECK_EQ((uintptr_t)res, 42);
  CHECK_PTR_EQ(rt_handle_current(), x->a);
  return NULL;
}

/* On a worker of another runtime, block_on sends fn to the target runtime
 * and blocks that worker. */
TEST(block_on_from_other_runtime_worker) {
  rt_runtime_t *ra = make_rt(1, 0);
  rt_runtime_t *rb = make_rt(1, 0);
  struct cross x = {rt_handle(ra), rt_handle(rb), {0}};
  pthread_t a_thread;
  struct where wa = {0};
  CHECK_RC(rt_block_on(x.a, sleepy_where, &wa, NULL), RT_OK);
  a_thread = wa.thread;
  CHECK_RC(rt_block_on(x.a, on_a, &x, NULL), RT_OK);
  CHECK_TRUE(x.w.finished_before_return);
  CHECK_PTR_EQ(x.w.current, x.b);
  CHECK_FALSE(pthread_equal(x.w.thread, a_thread));
  CHECK_EQ(get_stats(x.b).spawned, 1);
  CHECK_RC(rt_shutdown(ra), RT_OK);
  CHECK_RC(rt_shutdown(rb), RT_OK);
  rt_handle_release(x.a);
  rt_handle_release(x.b);
}

struct many {
  rt_handle_t *h;
  atomic_int sum;
};

static void *add_one(void *arg) { return (void *)((uintptr_t)arg + 1); }

static void *block_on_loop(void *arg) {
  struct many *m = arg;
  for (uintptr_t i = 0; i < 300; i++) {
    void *res = NULL;
    CHECK_RC(rt_block_on(m->h, add_one, (void *)i, &res), RT_OK);
    CHECK_EQ((uintptr_t)res, i + 1);
    atomic_fetch_add(&m->sum, 1);
  }
  return NULL;
}

/* Many foreign threads block_on at once; each gets its own result. */
TEST(block_on_many_threads) {
  enum { THREADS = 6 };
  rt_runtime_t *rt = make_rt(2, 0);
  struct many m = {rt_handle(rt), 0};
  pthread_t th[THREADS];
  for (int i = 0; i < THREADS; i++)
    CHECK_EQ(pthread_create(&th[i], NULL, block_on_loop, &m), 0);
  for (int i = 0; i < THREADS; i++)
    pthread_join(th[i], NULL);
  CHECK_EQ(atomic_load(&m.sum), THREADS * 300);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_stats_t s = get_stats(m.h);
  CHECK_EQ(s.spawned, THREADS * 300);
  CHECK_EQ(s.completed, THREADS * 300);
  rt_handle_release(m.h);
}

/* block_on with a NULL result pointer leaves nothing to store, and a
 * failing block_on (NULL fn) leaves *result untouched. */
TEST(block_on_result_untouched_on_error) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  void *res = (void *)(uintptr_t)0x77;
  CHECK_RC(rt_block_on(h, NULL, NULL, &res), RT_EINVAL);
  CHECK_EQ((uintptr_t)res, 0x77);
  CHECK_RC(rt_block_on(NULL, add_one, NULL, &res), RT_EINVAL);
  CHECK_EQ((uintptr_t)res, 0x77);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_RC(rt_block_on(h, add_one, NULL, &res), RT_ESHUTDOWN);
  CHECK_EQ((uintptr_t)res, 0x77);
  rt_handle_release(h);
}
