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
#include <sys/mman.h>
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

/* ------------------------------------------------------------------------ */
/* Every path that could run or wait for work, 100 forks each               */
/* ------------------------------------------------------------------------ */

/* Each path below is called in a child forked without exec, once from
 * outside any task and once from inside a task (the child's only thread
 * is then a copy of a worker, the case where an inline run used to come
 * before the fork check). Each must answer RT_ESHUTDOWN at once (but a
 * join of a task of a runtime the child made itself, which must work
 * without helping with the inherited runtime's jobs), and no
 * body or handler may run in any child: a counter in memory shared with
 * the children (MAP_SHARED) counts what ran in a process other than the
 * test's. */
enum {
  FP_BLOCK_ON,        /* rt_block_on: inline on a worker, queued elsewhere */
  FP_JOIN,            /* rt_task_join, no timeout: inline on a worker, waits elsewhere */
  FP_JOIN_TIMEOUT,    /* rt_task_join with a 10 s timeout */
  FP_WAIT_CALLBACK,   /* a WAIT trampoline: zero-filled, handler not run */
  FP_POST_CALLBACK,   /* a POST trampoline: handler not run */
  FP_STRAND_BLOCK_ON, /* rt_strand_block_on */
  FP_GROUP_WAIT,      /* rt_group_wait on a group with a queued job */
  FP_APPLY,           /* rt_apply */
  FP_SPAWN_BLOCKING,  /* rt_spawn_blocking */
  FP_JOIN_OWN_RUNTIME, /* a join of the child's own runtime's task: RT_OK, and
                        * on a copy of a worker it must not help by running
                        * the inherited runtime's queued jobs */
  FP_COUNT
};
static const char *const fork_path_names[FP_COUNT] = {
    "rt_block_on", "rt_task_join(-1)", "rt_task_join(10 s)", "WAIT trampoline",
    "POST trampoline", "rt_strand_block_on", "rt_group_wait", "rt_apply",
    "rt_spawn_blocking", "join, own runtime"};

/* What each path answers in the child. */
static int fork_path_expected(int path) { return path == FP_JOIN_OWN_RUNTIME ? RT_OK : RT_ESHUTDOWN; }

enum { FORKS_PER_PATH = 100 };

typedef struct fork_shared {
  pid_t test_pid;
  atomic_int child_runs;                 /* bodies and handlers run in a child */
  int rc[FP_COUNT][FORKS_PER_PATH];      /* what the child's call returned */
  uint64_t ns[FP_COUNT][FORKS_PER_PATH]; /* how long it took */
} fork_shared_t;

static fork_shared_t *shared;

static void note_run(void) {
  if (getpid() != shared->test_pid)
    atomic_fetch_add(&shared->child_runs, 1);
}
static void *shared_body(void *arg) {
  note_run();
  return arg;
}
static void shared_fn(void *arg) { (void)shared_body(arg); }
static void shared_handler(void *result, void **args, void *user) {
  (void)args;
  (void)user;
  note_run();
  if (result != NULL)
    *(int *)result = 42;
}
/* A task of the child's own runtime, long enough for its joiner to wait
 * (and so to look for work to help with). Not counted: it is the child's. */
static void *child_own_task(void *arg) {
  sleep_ms(2);
  return arg;
}

static void shared_apply(void *ctx, size_t i) {
  (void)ctx;
  (void)i;
  note_run();
}

/* What a child can reach: all of it queued behind a task that holds the
 * runtime's only worker at the fork, so none of it has run. */
typedef struct fork_fixture {
  rt_handle_t *h;
  rt_task_t *queued;
  rt_strand_t *s;
  rt_group_t *g;
  rt_callback_t *wait_cb, *post_cb;
  void *wait_code, *post_code;
} fork_fixture_t;

static void fixture_fill(fork_fixture_t *f, rt_handle_t *h) {
  static const rt_type_t int_arg[] = {RT_TYPE_INT};
  f->h = h;
  CHECK_RC(rt_spawn_full(h, shared_body, NULL, NULL, &f->queued), RT_OK);
  f->s = rt_strand_new(h);
  CHECK_NOT_NULL(f->s);
  CHECK_RC(rt_strand_spawn(f->s, shared_fn, NULL), RT_OK);
  f->g = rt_group_new(h);
  CHECK_NOT_NULL(f->g);
  CHECK_RC(rt_group_spawn(f->g, shared_body, NULL, NULL), RT_OK);
  f->wait_cb = rt_callback_new(h, RT_CALLBACK_WAIT, RT_TYPE_INT, int_arg, 1, shared_handler,
                               NULL, &f->wait_code);
  f->post_cb = rt_callback_new(h, RT_CALLBACK_POST, RT_TYPE_VOID, NULL, 0, shared_handler,
                               NULL, &f->post_code);
  CHECK_NOT_NULL(f->wait_cb);
  CHECK_NOT_NULL(f->post_cb);
}

/* After the forks, in the test's process: everything queued runs here. */
static void fixture_finish(fork_fixture_t *f) {
  CHECK_RC(rt_task_join(f->queued, -1, NULL), RT_OK);
  CHECK_RC(rt_strand_block_on(f->s, shared_body, NULL, NULL), RT_OK);
  CHECK_RC(rt_group_wait(f->g, -1), RT_OK);
  rt_task_release(f->queued);
  rt_strand_release(f->s);
  rt_group_release(f->g);
  rt_callback_free(f->wait_cb);
  rt_callback_free(f->post_cb);
}

/* In the child: the call of `path`; RT_ESHUTDOWN means it refused
 * without running anything. A refused trampoline gives no code, so
 * RT_ESHUTDOWN stands for "zero-filled" there. */
static int child_call(const fork_fixture_t *f, int path) {
  void *res = (void *)(uintptr_t)0x77;
  int rc;
  switch (path) {
  case FP_BLOCK_ON:
    rc = rt_block_on(f->h, shared_body, NULL, &res);
    return (uintptr_t)res == 0x77 ? rc : 1000;
  case FP_JOIN:
    return rt_task_join(f->queued, -1, NULL);
  case FP_JOIN_TIMEOUT:
    return rt_task_join(f->queued, 10000 * (int64_t)MS, NULL);
  case FP_WAIT_CALLBACK:
    rc = ((int (*)(int))f->wait_code)(7);
    return rc == 0 ? RT_ESHUTDOWN : 1000 + rc;
  case FP_POST_CALLBACK:
    ((void (*)(void))f->post_code)();
    return RT_ESHUTDOWN;
  case FP_STRAND_BLOCK_ON:
    return rt_strand_block_on(f->s, shared_body, NULL, NULL);
  case FP_GROUP_WAIT:
    return rt_group_wait(f->g, -1);
  case FP_APPLY:
    return rt_apply(f->h, 4, shared_apply, NULL);
  case FP_SPAWN_BLOCKING: {
    rt_task_t *t = NULL;
    rc = rt_spawn_blocking(f->h, shared_body, NULL, NULL, &t);
    return t == NULL ? rc : 1000;
  }
  default: {
    /* ThreadSanitizer cannot start threads in such a child. */
    if (UNDER_TSAN)
      return RT_OK;
    rt_runtime_t *mine = make_rt(1, 0);
    rt_handle_t *hm = rt_handle(mine);
    rt_task_t *t = NULL;
    rc = rt_spawn_full(hm, child_own_task, NULL, NULL, &t);
    if (rc == RT_OK)
      rc = rt_task_join(t, -1, NULL);
    rt_task_release(t);
    if (rt_shutdown(mine) != RT_OK)
      rc = 1001;
    rt_handle_release(hm);
    return rc;
  }
  }
}

/* `forks` children for each path, each making that one call and exiting. */
static void fork_every_path(const fork_fixture_t *f, int forks) {
  for (int path = 0; path < FP_COUNT; path++) {
    for (int i = 0; i < forks; i++) {
      fflush(NULL);
      pid_t pid = fork();
      CHECK_GE(pid, 0);
      if (pid == 0) {
        alarm(20); /* a hang is a failure, not a stuck test */
        uint64_t start = now_ns();
        shared->rc[path][i] = child_call(f, path);
        shared->ns[path][i] = now_ns() - start;
        child_exit(0);
      }
      wait_child(pid, 30);
    }
  }
}

static int compare_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* Every child's answer, and how soon it came: the median of each path
 * under 50 ms (a join used to spin for up to seconds first; one slow
 * child on a loaded machine is not a failure, so the median). */
static void check_children(const char *where, int forks) {
  for (int path = 0; path < FP_COUNT; path++) {
    for (int i = 0; i < forks; i++) {
      if (shared->rc[path][i] != fork_path_expected(path))
        FAIL("%s, %s, fork %d: the child got %d (%s), want %s", where, fork_path_names[path], i,
             shared->rc[path][i], rt_code_name(shared->rc[path][i]),
             rt_code_name(fork_path_expected(path)));
    }
    uint64_t sorted[FORKS_PER_PATH];
    memcpy(sorted, shared->ns[path], sizeof sorted[0] * (size_t)forks);
    qsort(sorted, (size_t)forks, sizeof sorted[0], compare_u64);
    uint64_t median = sorted[forks / 2];
    printf("%s, %-20s %d forks: %s in each, median %.3f ms, max %.3f ms\n", where,
           fork_path_names[path], forks, rt_code_name(fork_path_expected(path)),
           (double)median / MS, (double)sorted[forks - 1] / MS);
    if (!under_valgrind() && path != FP_JOIN_OWN_RUNTIME) /* that one waits 2 ms on purpose */
      CHECK_LT(median, 50 * MS);
  }
  CHECK_EQ(atomic_load(&shared->child_runs), 0);
}

static int forks_per_path(void) { return under_valgrind() ? 5 : FORKS_PER_PATH; }

static void shared_map(void) {
  shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  CHECK_TRUE(shared != MAP_FAILED);
  memset(shared, 0, sizeof *shared);
  shared->test_pid = getpid();
  atomic_init(&shared->child_runs, 0);
}

TEST(fork_paths_from_outside_a_task) {
  shared_map();
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  blocker_t b;
  blocker_init(&b);
  blocker_start(h, &b);
  fork_fixture_t f;
  fixture_fill(&f, h);
  ((void (*)(void))f.post_code)(); /* a POST call queued at the fork */
  fork_every_path(&f, forks_per_path());
  check_children("outside a task", forks_per_path());
  gate_open(&b.gate);
  fixture_finish(&f);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
  CHECK_EQ(atomic_load(&shared->child_runs), 0);
  munmap(shared, sizeof *shared);
}

/* The task that forks: it holds the only worker, so what it queues first
 * is still queued in every child; the test finishes the fixture after. */
static void *fork_loop_task(void *fixture) {
  fork_fixture_t *f = fixture;
  fixture_fill(f, rt_handle_current());
  fork_every_path(f, forks_per_path());
  return f;
}

TEST(fork_paths_from_inside_a_task) {
  /* ThreadSanitizer does not follow a fork from a thread other than the
   * main one (as test-strand.c's fork inside a strand job notes). */
  if (UNDER_TSAN)
    return;
  shared_map();
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  fork_fixture_t f;
  rt_task_t *forker = NULL;
  CHECK_RC(rt_spawn_full(h, fork_loop_task, &f, NULL, &forker), RT_OK);
  CHECK_RC(rt_task_join(forker, -1, NULL), RT_OK);
  rt_task_release(forker);
  check_children("inside a task", forks_per_path());
  fixture_finish(&f);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
  CHECK_EQ(atomic_load(&shared->child_runs), 0);
  munmap(shared, sizeof *shared);
}
