/* test-fork.c — fork() with a runtime running.
 *
 * The child gets a copy of the runtime's memory but none of its threads.
 * Its use of that runtime must fail cleanly with RT_ESHUTDOWN, never hang
 * and never run a task or a drop callback (they belong to the parent);
 * handles, guards and stats keep working; the parent is untouched; and a
 * runtime the child makes itself works normally. */
#include "harness.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static atomic_int post_runs;

static void post_handler(void *result, void **args, void *user) {
  (void)result;
  (void)args;
  (void)user;
  atomic_fetch_add(&post_runs, 1);
}

static void wait_handler(void *result, void **args, void *user) {
  (void)args;
  (void)user;
  *(int *)result = 42;
}

static void *ret_arg(void *p) { return p; }

/* Waits for the child; it must exit 0 within `seconds`. */
static void wait_child(pid_t pid, unsigned seconds) {
  uint64_t deadline = now_ns() + seconds * 1000 * MS;
  int status;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (now_ns() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      FAIL("the child hung (killed after %u s)", seconds);
    }
    sleep_ms(2);
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    FAIL("the child failed (status %d): see its output above", status);
}

/* The child's view of a runtime that runs in its parent. */
TEST(fork_child_refuses_inherited_runtime) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  /* The only worker is busy, so what follows stays queued at the fork. */
  blocker_t b;
  blocker_init(&b);
  blocker_start(h, &b);
  counter_t queued, timer, cancelled;
  counter_init(&queued);
  counter_init(&timer);
  counter_init(&cancelled);
  rt_task_t *tq = NULL, *tt = NULL, *tc = NULL;
  CHECK_RC(rt_spawn_full(h, counter_call, &queued, counter_drop, &tq), RT_OK);
  CHECK_RC(rt_spawn_full(h, counter_call, &cancelled, counter_drop, &tc), RT_OK);
  CHECK_RC(rt_spawn_after(h, 50 * MS, counter_call, &timer, counter_drop, &tt), RT_OK);
  static const rt_type_t int_arg[] = {RT_TYPE_INT};
  void *post_code = NULL, *wait_code = NULL;
  rt_callback_t *post = rt_callback_new(h, RT_CALLBACK_POST, RT_TYPE_VOID, NULL, 0,
                                        post_handler, NULL, &post_code);
  rt_callback_t *wait = rt_callback_new(h, RT_CALLBACK_WAIT, RT_TYPE_INT, int_arg, 1,
                                        wait_handler, NULL, &wait_code);
  CHECK_NOT_NULL(post);
  CHECK_NOT_NULL(wait);
  ((void (*)(void))post_code)(); /* queued behind the blocker */
  rt_stats_t before = get_stats(h);

  fflush(stdout);
  pid_t pid = fork();
  CHECK_GE(pid, 0);
  if (pid == 0) {
    alarm(20); /* a hang is a failure, not a stuck test */
    counter_t c;
    counter_init(&c);
    void *res = (void *)(uintptr_t)0x77;
    rt_task_t *t = NULL;
    CHECK_RC(rt_spawn(h, counter_fn, &c), RT_ESHUTDOWN);
    CHECK_RC(rt_spawn_full(h, counter_call, &c, counter_drop, &t), RT_ESHUTDOWN);
    CHECK_RC(rt_spawn_after(h, MS, counter_call, &c, counter_drop, &t), RT_ESHUTDOWN);
    CHECK_RC(rt_block_on(h, counter_call, &c, &res), RT_ESHUTDOWN);
    CHECK_NULL(t);
    CHECK_EQ((uintptr_t)res, 0x77);
    /* Tasks of the parent: never run or dropped here. */
    CHECK_RC(rt_task_join(tq, -1, NULL), RT_ESHUTDOWN);
    CHECK_RC(rt_task_join(tt, 10 * MS, NULL), RT_ESHUTDOWN);
    CHECK_RC(rt_task_cancel(tc), RT_ESHUTDOWN);
    CHECK_FALSE(rt_task_is_finished(tq));
    /* Trampolines: POST dropped, WAIT zero-filled, free does not wait. */
    ((void (*)(void))post_code)();
    CHECK_EQ(((int (*)(int))wait_code)(7), 0);
    rt_callback_free(post);
    rt_callback_free(wait);
    /* Handles, guards and stats keep working. */
    rt_handle_t *h2 = rt_handle_clone(h);
    CHECK_PTR_EQ(h2, h);
    rt_guard_t *g = rt_enter(h2);
    CHECK_PTR_EQ(rt_handle_current(), h);
    CHECK_RC(rt_exit(g), RT_OK);
    rt_handle_release(h2);
    rt_stats_t s = get_stats(h);
    CHECK_TRUE(s.shutdown);
    CHECK_EQ(s.workers, 1);
    CHECK_EQ(s.spawned, before.spawned);
    /* Shutdown: refused, nothing waited for. */
    CHECK_RC(rt_shutdown_timeout(rt, 0), RT_ESHUTDOWN);
    CHECK_RC(rt_shutdown(rt), RT_ESHUTDOWN);
    /* Nothing of the parent's ran or was dropped here. */
    CHECK_EQ(atomic_load(&queued.ran) + atomic_load(&queued.dropped), 0);
    CHECK_EQ(atomic_load(&timer.ran) + atomic_load(&timer.dropped), 0);
    CHECK_EQ(atomic_load(&cancelled.ran) + atomic_load(&cancelled.dropped), 0);
    CHECK_EQ(atomic_load(&c.ran) + atomic_load(&c.dropped), 0);
    CHECK_EQ(atomic_load(&post_runs), 0);
    /* A runtime of the child's own works. ThreadSanitizer cannot start
     * threads in the child of a multithreaded process. */
    if (!UNDER_TSAN) {
      rt_runtime_t *mine = make_rt(2, 0);
      rt_handle_t *hm = rt_handle(mine);
      CHECK_RC(rt_block_on(hm, counter_call, &c, &res), RT_OK);
      CHECK_PTR_EQ(res, &c);
      CHECK_RC(rt_spawn(hm, counter_fn, &c), RT_OK);
      CHECK_RC(rt_shutdown(mine), RT_OK);
      CHECK_EQ(atomic_load(&c.ran), 2);
      rt_handle_release(hm);
    }
    child_exit(0);
  }
  wait_child(pid, 30);

  /* The parent: untouched. */
  gate_open(&b.gate);
  CHECK_RC(rt_task_join(tq, -1, NULL), RT_OK);
  int cancel_rc = rt_task_cancel(tc); /* races the worker: either answer */
  if (cancel_rc != RT_OK && cancel_rc != RT_EBUSY)
    FAIL("rt_task_cancel in the parent: %s", rt_code_name(cancel_rc));
  CHECK_RC(rt_task_join(tt, -1, NULL), RT_OK);
  rt_callback_free(post);
  rt_callback_free(wait);
  CHECK_EQ(atomic_load(&post_runs), 1);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&queued.ran), 1);
  CHECK_EQ(atomic_load(&timer.ran), 1);
  CHECK_EQ(atomic_load(&cancelled.ran), cancel_rc == RT_OK ? 0 : 1);
  CHECK_EQ(atomic_load(&cancelled.dropped), cancel_rc == RT_OK ? 1 : 0);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, s.completed + s.dropped);
  rt_task_release(tq);
  rt_task_release(tt);
  rt_task_release(tc);
  rt_handle_release(h);
}

/* A runtime already shut down before the fork is not "inherited": the
 * child sees it exactly as the parent does. */
TEST(fork_after_shutdown) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_task_t *t = NULL;
  CHECK_RC(rt_spawn_full(h, ret_arg, h, NULL, &t), RT_OK);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  fflush(stdout);
  pid_t pid = fork();
  CHECK_GE(pid, 0);
  if (pid == 0) {
    alarm(20);
    void *res = NULL;
    CHECK_RC(rt_task_join(t, -1, &res), RT_OK);
    CHECK_PTR_EQ(res, h);
    CHECK_RC(rt_task_cancel(t), RT_EBUSY);
    CHECK_RC(rt_spawn(h, counter_fn, NULL), RT_ESHUTDOWN);
    CHECK_TRUE(get_stats(h).shutdown);
    rt_task_release(t);
    rt_handle_release(h);
    child_exit(0);
  }
  wait_child(pid, 30);
  rt_task_release(t);
  rt_handle_release(h);
}
