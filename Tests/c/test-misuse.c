/* test-misuse.c — bad input to every function: RT_EINVAL or NULL, never a
 * crash, never a callback, never a taken argument. */
#include "harness.h"

static void never_drop(void *arg) {
  (void)arg;
  FAIL("drop of a refused spawn ran");
}

/* Every function given NULL where a pointer is required. */
TEST(misuse_null_everything) {
  rt_task_t *t = (rt_task_t *)(uintptr_t)0x5151;
  void *res = (void *)(uintptr_t)0x77;
  rt_stats_t s;
  memset(&s, 0, sizeof s);
  s.size = sizeof s;

  CHECK_NOT_NULL(rt_code_name(RT_OK));
  rt_config_init(NULL);
  CHECK_NULL(rt_handle(NULL));
  CHECK_RC(rt_shutdown(NULL), RT_EINVAL);
  CHECK_RC(rt_shutdown_timeout(NULL, 0), RT_EINVAL);
  CHECK_NULL(rt_handle_clone(NULL));
  rt_handle_release(NULL);
  CHECK_NULL(rt_enter(NULL));
  CHECK_RC(rt_exit(NULL), RT_EINVAL);
  CHECK_RC(rt_spawn(NULL, never_fn, NULL), RT_EINVAL);
  CHECK_RC(rt_spawn_full(NULL, never_call, NULL, never_drop, &t), RT_EINVAL);
  CHECK_RC(rt_spawn_after(NULL, 0, never_call, NULL, never_drop, &t), RT_EINVAL);
  CHECK_RC(rt_spawn_after(NULL, MS, never_call, NULL, never_drop, &t), RT_EINVAL);
  CHECK_RC(rt_block_on(NULL, never_call, NULL, &res), RT_EINVAL);
  CHECK_RC(rt_task_join(NULL, -1, &res), RT_EINVAL);
  CHECK_RC(rt_task_join(NULL, 0, NULL), RT_EINVAL);
  CHECK_RC(rt_task_cancel(NULL), RT_EINVAL);
  CHECK_FALSE(rt_task_is_finished(NULL));
  rt_task_release(NULL);
  CHECK_RC(rt_stats_get(NULL, &s), RT_EINVAL);
  CHECK_RC(rt_stats_get(NULL, NULL), RT_EINVAL);
  CHECK_PTR_EQ(t, (rt_task_t *)(uintptr_t)0x5151);
  CHECK_EQ((uintptr_t)res, 0x77);
  CHECK_NULL(rt_handle_current());
}

/* Every spawn variant with a NULL fn: RT_EINVAL, nothing queued, drop never
 * called, task_out and result untouched. */
TEST(misuse_null_fn) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_task_t *t = (rt_task_t *)(uintptr_t)0x5151;
  void *res = (void *)(uintptr_t)0x77;
  CHECK_RC(rt_spawn(h, NULL, NULL), RT_EINVAL);
  CHECK_RC(rt_spawn_full(h, NULL, NULL, never_drop, &t), RT_EINVAL);
  CHECK_RC(rt_spawn_full(h, NULL, NULL, never_drop, NULL), RT_EINVAL);
  CHECK_RC(rt_spawn_after(h, 0, NULL, NULL, never_drop, &t), RT_EINVAL);
  CHECK_RC(rt_spawn_after(h, 10 * MS, NULL, NULL, never_drop, &t), RT_EINVAL);
  CHECK_RC(rt_block_on(h, NULL, NULL, &res), RT_EINVAL);
  CHECK_RC(rt_block_on(h, NULL, NULL, NULL), RT_EINVAL);
  CHECK_PTR_EQ(t, (rt_task_t *)(uintptr_t)0x5151);
  CHECK_EQ((uintptr_t)res, 0x77);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, 0);
  CHECK_EQ(s.queued, 0);
  CHECK_EQ(s.timers, 0);
  sleep_ms(20); /* a wrongly queued timer would have fired and crashed */
  CHECK_RC(rt_shutdown(rt), RT_OK);
  s = get_stats(h);
  CHECK_EQ(s.spawned, 0);
  CHECK_EQ(s.dropped, 0);
  rt_handle_release(h);
}

/* The same bad calls on a handle whose runtime is gone: never RT_OK, never
 * a callback. A NULL fn may be reported as RT_EINVAL or RT_ESHUTDOWN. */
TEST(misuse_after_shutdown) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_task_t *t = (rt_task_t *)(uintptr_t)0x5151;
  void *res = (void *)(uintptr_t)0x77;
  int rcs[] = {
      rt_spawn(h, NULL, NULL),
      rt_spawn_full(h, NULL, NULL, never_drop, &t),
      rt_spawn_after(h, 0, NULL, NULL, never_drop, &t),
      rt_spawn_after(h, MS, NULL, NULL, never_drop, &t),
      rt_block_on(h, NULL, NULL, &res),
  };
  for (size_t i = 0; i < sizeof rcs / sizeof rcs[0]; i++) {
    if (rcs[i] != RT_EINVAL && rcs[i] != RT_ESHUTDOWN)
      FAIL("call %zu with NULL fn after shutdown: %d (%s), want RT_EINVAL or "
           "RT_ESHUTDOWN",
           i, rcs[i], rt_code_name(rcs[i]));
  }
  CHECK_RC(rt_spawn(h, never_fn, NULL), RT_ESHUTDOWN);
  CHECK_RC(rt_spawn_full(h, never_call, NULL, never_drop, &t), RT_ESHUTDOWN);
  CHECK_RC(rt_spawn_after(h, 0, never_call, NULL, never_drop, &t), RT_ESHUTDOWN);
  CHECK_RC(rt_block_on(h, never_call, NULL, &res), RT_ESHUTDOWN);
  CHECK_PTR_EQ(t, (rt_task_t *)(uintptr_t)0x5151);
  CHECK_EQ((uintptr_t)res, 0x77);
  CHECK_RC(rt_stats_get(h, NULL), RT_EINVAL);
  CHECK_NULL(rt_enter(NULL));
  CHECK_EQ(get_stats(h).spawned, 0);
  sleep_ms(10);
  rt_handle_release(h);
}

/* Bad configurations give NULL from rt_new and start no thread. */
TEST(misuse_bad_config) {
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.size = sizeof cfg + 64;
  CHECK_NULL(rt_new(&cfg));
  rt_config_init(&cfg);
  cfg.workers = 100000;
  CHECK_NULL(rt_new(&cfg));
  /* A good config after bad ones still works. */
  rt_config_init(&cfg);
  cfg.workers = 1;
  rt_runtime_t *rt = rt_new(&cfg);
  CHECK_NOT_NULL(rt);
  CHECK_RC(rt_shutdown(rt), RT_OK);
}

/* Misuse of guards and tasks that the contract names. */
TEST(misuse_guard_and_task) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  /* Out-of-order exit. */
  rt_guard_t *g1 = rt_enter(h), *g2 = rt_enter(h);
  CHECK_RC(rt_exit(g1), RT_EINVAL);
  CHECK_RC(rt_exit(g2), RT_OK);
  CHECK_RC(rt_exit(g1), RT_OK);
  /* Second cancel. */
  blocker_t b;
  blocker_init(&b);
  blocker_start(h, &b);
  counter_t c;
  counter_init(&c);
  rt_task_t *t = NULL;
  CHECK_RC(rt_spawn_full(h, counter_call, &c, counter_drop, &t), RT_OK);
  CHECK_RC(rt_task_cancel(t), RT_OK);
  CHECK_RC(rt_task_cancel(t), RT_EBUSY);
  CHECK_RC(rt_task_cancel(t), RT_EBUSY);
  CHECK_EQ(atomic_load(&c.dropped), 1);
  gate_open(&b.gate);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&c.ran), 0);
  CHECK_EQ(atomic_load(&c.dropped), 1);
  rt_task_release(t);
  rt_handle_release(h);
}
