/* test-lifetime.c — misuse of lifetimes: pointers used after their last
 * release, released twice, or never returned by rtctx.
 *
 * The contract calls a pointer used after its last release undefined; the
 * library still catches it cheaply while the freed memory was not reused
 * (the tag word of RtctxCore/ObjectTag.swift): a release build answers
 * RT_EINVAL (or ignores a release), a debug build stops with a message
 * naming the function. Each misuse runs in a forked child, so a debug
 * build's stop is observed, not suffered.
 *
 * The use-after-release cases read freed memory on purpose, which is what
 * AddressSanitizer and valgrind exist to report: they are skipped there
 * (the pointer-never-ours cases, which read valid memory, still run). */
#include "harness.h"

#include <dlfcn.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static bool debug_library(void) {
  return dlsym(RTLD_DEFAULT, "rtctx_debug_live_objects") != NULL;
}

/* True where reading freed memory is itself reported. */
static bool use_after_free_is_reported(void) {
  return UNDER_ASAN || under_valgrind();
}

/* Runs misuse(arg) in a child. A release library must return `want` (the
 * child exits with its negation); a debug one must stop the child with a
 * message that names the misuse. */
static void expect_misuse(const char *what, int (*misuse)(void *), void *arg, int want) {
  int fds[2];
  CHECK_EQ(pipe(fds), 0);
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  CHECK_GE(pid, 0);
  if (pid == 0) {
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    int rc = misuse(arg);
    child_exit(-rc & 0xFF);
  }
  close(fds[1]);
  char out[2048] = {0};
  size_t n = 0;
  ssize_t r;
  while (n < sizeof out - 1 && (r = read(fds[0], out + n, sizeof out - 1 - n)) > 0)
    n += (size_t)r;
  close(fds[0]);
  int status;
  CHECK_EQ(waitpid(pid, &status, 0), pid);
  if (debug_library()) {
    if (!WIFSIGNALED(status) || strstr(out, "is not a live") == NULL || !strstr(out, "rtctx:"))
      FAIL("%s: a debug library should stop with a message; status %d, output \"%s\"", what,
           status, out);
    char *msg = strstr(out, "rtctx:");
    msg[strcspn(msg, "\n")] = '\0';
    printf("%s: debug build stopped: %s\n", what, msg);
  } else {
    if (!WIFEXITED(status))
      FAIL("%s: the child died (status %d): %s", what, status, out);
    if (WEXITSTATUS(status) != (-want & 0xFF))
      FAIL("%s: returned -%d, want %s", what, WEXITSTATUS(status), rt_code_name(want));
  }
}

static void *ret_arg(void *p) { return p; }

static void noop_handler(void *result, void **args, void *user) {
  (void)result;
  (void)args;
  (void)user;
}

/* --- The misuses ---------------------------------------------------------- */

static int join_task(void *t) { return rt_task_join(t, 0, NULL); }
static int cancel_task(void *t) { return rt_task_cancel(t); }
static int release_task(void *t) {
  rt_task_release(t);
  return RT_EINVAL; /* void: surviving it is the point */
}
static int spawn_on(void *h) { return rt_spawn_full(h, ret_arg, NULL, NULL, NULL); }
static int stats_of(void *h) {
  rt_stats_t s;
  memset(&s, 0, sizeof s);
  s.size = sizeof s;
  return rt_stats_get(h, &s);
}
static int clone_handle(void *h) { return rt_handle_clone(h) == NULL ? RT_EINVAL : RT_OK; }
static int enter_handle(void *h) { return rt_enter(h) == NULL ? RT_EINVAL : RT_OK; }
static int release_handle(void *h) {
  rt_handle_release(h);
  return RT_EINVAL;
}
static int shutdown_rt(void *rt) { return rt_shutdown(rt); }
static int free_callback(void *cb) {
  rt_callback_free(cb);
  return RT_EINVAL;
}

/* A task released twice, then joined and cancelled. */
TEST(lifetime_task_used_after_release) {
  if (use_after_free_is_reported()) {
    printf("skipped: reads freed memory on purpose (ASan/valgrind would report it)\n");
    return;
  }
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_task_t *t = NULL;
  CHECK_RC(rt_spawn_full(h, ret_arg, NULL, NULL, &t), RT_OK);
  CHECK_RC(rt_task_join(t, -1, NULL), RT_OK);
  rt_task_release(t); /* the last reference: the task is freed */
  expect_misuse("rt_task_release twice", release_task, t, RT_EINVAL);
  expect_misuse("rt_task_join after release", join_task, t, RT_EINVAL);
  expect_misuse("rt_task_cancel after release", cancel_task, t, RT_EINVAL);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

/* The last handle released, then released again and used. */
TEST(lifetime_handle_used_after_release) {
  if (use_after_free_is_reported()) {
    printf("skipped: reads freed memory on purpose (ASan/valgrind would report it)\n");
    return;
  }
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h); /* the last reference: the runtime is freed */
  expect_misuse("rt_handle_release twice", release_handle, h, RT_EINVAL);
  expect_misuse("rt_spawn_full after release", spawn_on, h, RT_EINVAL);
  expect_misuse("rt_stats_get after release", stats_of, h, RT_EINVAL);
  expect_misuse("rt_handle_clone after release", clone_handle, h, RT_EINVAL);
}

/* rt_shutdown twice with no handle left: the runtime is gone. */
TEST(lifetime_shutdown_twice) {
  if (use_after_free_is_reported()) {
    printf("skipped: reads freed memory on purpose (ASan/valgrind would report it)\n");
    return;
  }
  rt_runtime_t *rt = make_rt(1, 0);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  expect_misuse("rt_shutdown twice", shutdown_rt, rt, RT_EINVAL);
}

/* A trampoline freed twice. */
TEST(lifetime_callback_freed_twice) {
  if (use_after_free_is_reported()) {
    printf("skipped: reads freed memory on purpose (ASan/valgrind would report it)\n");
    return;
  }
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  void *code = NULL;
  rt_callback_t *cb =
      rt_callback_new(h, RT_CALLBACK_POST, RT_TYPE_VOID, NULL, 0, noop_handler, NULL, &code);
  CHECK_NOT_NULL(cb);
  rt_callback_free(cb);
  expect_misuse("rt_callback_free twice", free_callback, cb, RT_EINVAL);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

/* Pointers rtctx never returned (zeroed memory, memory of another kind):
 * refused without a crash. These read only valid memory, so they run
 * under every tool. */
TEST(lifetime_pointers_never_ours) {
  static _Alignas(16) unsigned char zeros[512];
  void *fake = zeros;
  expect_misuse("rt_spawn_full on zeroed memory", spawn_on, fake, RT_EINVAL);
  expect_misuse("rt_stats_get on zeroed memory", stats_of, fake, RT_EINVAL);
  expect_misuse("rt_enter on zeroed memory", enter_handle, fake, RT_EINVAL);
  expect_misuse("rt_shutdown on zeroed memory", shutdown_rt, fake, RT_EINVAL);
  expect_misuse("rt_task_join on zeroed memory", join_task, fake, RT_EINVAL);
  expect_misuse("rt_task_cancel on zeroed memory", cancel_task, fake, RT_EINVAL);

  /* A live object of the wrong kind: a handle passed as a task. */
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  expect_misuse("rt_task_join on a handle", join_task, h, RT_EINVAL);
  expect_misuse("rt_task_cancel on a handle", cancel_task, h, RT_EINVAL);
  rt_task_t *t = NULL;
  CHECK_RC(rt_spawn_full(h, ret_arg, NULL, NULL, &t), RT_OK);
  expect_misuse("rt_spawn_full on a task", spawn_on, t, RT_EINVAL);
  CHECK_RC(rt_task_join(t, -1, NULL), RT_OK);
  rt_task_release(t);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

/* A guard exited twice, or exited after its thread's context moved on:
 * refused before it is dereferenced, under every tool. */
TEST(lifetime_guard_exited_twice) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_guard_t *g = rt_enter(h);
  CHECK_NOT_NULL(g);
  CHECK_RC(rt_exit(g), RT_OK); /* freed */
  CHECK_RC(rt_exit(g), RT_EINVAL);
  rt_guard_t *g2 = rt_enter(h);
  if (g2 != g) /* the same address reused is a live guard again */
    CHECK_RC(rt_exit(g), RT_EINVAL);
  CHECK_RC(rt_exit(g2), RT_OK);
  CHECK_NULL(rt_handle_current());
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}
