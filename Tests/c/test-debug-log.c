/* test-debug-log.c — RTCTX_LOG=debug: each misuse prints exactly the line
 * README "Errors and debugging" promises, naming the C function (not a
 * helper inside the library) and the reason; normal-operation codes print
 * nothing; RTCTX_LOG=1 and =DEBUG turn the log on, =0 and unset leave it
 * off. A pointer that is not a live object is named by an id, "ptr#" and
 * 16 hex digits, never by its address: the same id on every line of a
 * process, another for another pointer, and another in the next process
 * for the same address; a setgid program ignores RTCTX_LOG.
 *
 * The library reads RTCTX_LOG once, when it is loaded, so each case runs in
 * a new program: this runner exec'd as `--run debug_log_child`, with
 * RTCTX_LOG as the case needs and RTCTX_DEBUG_LOG_CASE naming the case. The
 * parent reads the child's stderr through a pipe and compares it, whole,
 * with the lines the case expects. Run on its own, debug_log_child runs
 * every case, checking the return codes only. */
#include "harness.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* A debug build of the library stops on a pointer that is not a live
 * object instead of refusing it (test-lifetime.c checks that). */
static bool release_library(void) {
  return dlsym(RTLD_DEFAULT, "rtctx_debug_live_objects") == NULL;
}

static void noop_handler(void *result, void **args, void *user) {
  (void)result;
  (void)args;
  (void)user;
}

/* Pointers printed by a case, one a line: the parent checks that the log
 * never shows them. */
static void print_ptr(const void *p) { printf("%p\n", p); }

/* --- The cases: what the child does ---------------------------------------- */

static void case_null_arguments(void) {
  rt_task_t *t = NULL;
  rt_stats_t s;
  memset(&s, 0, sizeof s);
  s.size = sizeof s;
  void *code = NULL;
  rt_config_init(NULL);
  CHECK_NULL(rt_handle(NULL));
  CHECK_RC(rt_shutdown(NULL), RT_EINVAL);
  CHECK_RC(rt_shutdown_timeout(NULL, 0), RT_EINVAL);
  CHECK_NULL(rt_handle_clone(NULL));
  CHECK_NULL(rt_enter(NULL));
  CHECK_RC(rt_exit(NULL), RT_EINVAL);
  CHECK_RC(rt_spawn(NULL, never_fn, NULL), RT_EINVAL);
  CHECK_RC(rt_spawn_full(NULL, never_call, NULL, NULL, &t), RT_EINVAL);
  CHECK_RC(rt_spawn_after(NULL, MS, never_call, NULL, NULL, &t), RT_EINVAL);
  CHECK_RC(rt_block_on(NULL, never_call, NULL, NULL), RT_EINVAL);
  CHECK_RC(rt_apply(NULL, 3, never_apply, NULL), RT_EINVAL);
  CHECK_RC(rt_task_join(NULL, 0, NULL), RT_EINVAL);
  CHECK_RC(rt_task_cancel(NULL), RT_EINVAL);
  CHECK_FALSE(rt_task_is_finished(NULL));
  CHECK_RC(rt_stats_get(NULL, &s), RT_EINVAL);
  CHECK_NULL(rt_callback_new(NULL, RT_CALLBACK_POST, RT_TYPE_VOID, NULL, 0, noop_handler, NULL,
                             &code));
  /* No-ops as free(NULL) is: no line. */
  rt_handle_release(NULL);
  rt_task_release(NULL);
  rt_callback_free(NULL);
  CHECK_NULL(t);
}

static void case_null_fn(void) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_task_t *t = NULL;
  CHECK_RC(rt_spawn(h, NULL, NULL), RT_EINVAL);
  CHECK_RC(rt_spawn_full(h, NULL, NULL, NULL, &t), RT_EINVAL);
  CHECK_RC(rt_spawn_after(h, 0, NULL, NULL, NULL, &t), RT_EINVAL);
  CHECK_RC(rt_spawn_after(h, MS, NULL, NULL, NULL, &t), RT_EINVAL);
  CHECK_RC(rt_block_on(h, NULL, NULL, NULL), RT_EINVAL);
  CHECK_RC(rt_apply(h, 3, NULL, NULL), RT_EINVAL);
  CHECK_NULL(t);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

static void case_stats(void) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_stats_t s;
  memset(&s, 0, sizeof s);
  CHECK_RC(rt_stats_get(h, NULL), RT_EINVAL);
  s.size = 0;
  CHECK_RC(rt_stats_get(h, &s), RT_EINVAL);
  s.size = sizeof s + 8;
  CHECK_RC(rt_stats_get(h, &s), RT_EINVAL);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

static void case_after_shutdown(void) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_task_t *t = NULL;
  CHECK_RC(rt_spawn(h, never_fn, NULL), RT_ESHUTDOWN);
  CHECK_RC(rt_spawn_full(h, never_call, NULL, NULL, &t), RT_ESHUTDOWN);
  CHECK_RC(rt_spawn_after(h, MS, never_call, NULL, NULL, &t), RT_ESHUTDOWN);
  CHECK_RC(rt_block_on(h, never_call, NULL, NULL), RT_ESHUTDOWN);
  CHECK_RC(rt_apply(h, 3, never_apply, NULL), RT_ESHUTDOWN);
  CHECK_NULL(t);
  rt_handle_release(h);
}

static void case_second_shutdown(void) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt); /* keeps the runtime's memory alive */
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_RC(rt_shutdown(rt), RT_EINVAL);
  rt_handle_release(h);
}

struct on_worker {
  rt_runtime_t *rt;
  int rc, rc_timeout;
};

static void *shutdown_from_worker(void *p) {
  struct on_worker *w = p;
  w->rc = rt_shutdown(w->rt);
  w->rc_timeout = rt_shutdown_timeout(w->rt, 0);
  return NULL;
}

static void case_shutdown_on_worker(void) {
  struct on_worker w = {make_rt(1, 0), 0, 0};
  rt_handle_t *h = rt_handle(w.rt);
  CHECK_RC(rt_block_on(h, shutdown_from_worker, &w, NULL), RT_OK);
  CHECK_RC(w.rc, RT_EDEADLK);
  CHECK_RC(w.rc_timeout, RT_EDEADLK);
  CHECK_RC(rt_shutdown(w.rt), RT_OK);
  rt_handle_release(h);
}

static void case_bad_config(void) {
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = 5000;
  CHECK_NULL(rt_new(&cfg));
  rt_config_init(&cfg);
  cfg.size = sizeof cfg + 64;
  CHECK_NULL(rt_new(&cfg));
  cfg.size = 0;
  CHECK_NULL(rt_new(&cfg));
  rt_config_init(&cfg);
  cfg.queue_capacity = SIZE_MAX;
  CHECK_NULL(rt_new(&cfg));
}

static void case_guards(void) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_guard_t *g1 = rt_enter(h);
  rt_guard_t *g2 = rt_enter(h);
  CHECK_NOT_NULL(g1);
  CHECK_NOT_NULL(g2);
  CHECK_RC(rt_exit(g1), RT_EINVAL);
  CHECK_RC(rt_exit(g2), RT_OK);
  CHECK_RC(rt_exit(g1), RT_OK);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

static void case_callbacks(void) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  void *code = NULL;
  rt_type_t ints[RT_CALLBACK_MAX_ARGS + 1];
  for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
    ints[i] = RT_TYPE_INT;
  const rt_type_t with_void[] = {RT_TYPE_INT, RT_TYPE_VOID};
  CHECK_NULL(rt_callback_new(h, RT_CALLBACK_POST, RT_TYPE_VOID, NULL, 0, NULL, NULL, &code));
  CHECK_NULL(rt_callback_new(h, RT_CALLBACK_POST, RT_TYPE_VOID, NULL, 0, noop_handler, NULL, NULL));
  CHECK_NULL(rt_callback_new(h, (rt_callback_mode_t)7, RT_TYPE_VOID, NULL, 0, noop_handler, NULL,
                             &code));
  CHECK_NULL(rt_callback_new(h, RT_CALLBACK_WAIT, (rt_type_t)99, NULL, 0, noop_handler, NULL,
                             &code));
  CHECK_NULL(rt_callback_new(h, RT_CALLBACK_POST, RT_TYPE_INT, NULL, 0, noop_handler, NULL, &code));
  CHECK_NULL(rt_callback_new(h, RT_CALLBACK_WAIT, RT_TYPE_INT, ints, RT_CALLBACK_MAX_ARGS + 1,
                             noop_handler, NULL, &code));
  CHECK_NULL(rt_callback_new(h, RT_CALLBACK_WAIT, RT_TYPE_INT, ints, SIZE_MAX, noop_handler, NULL,
                             &code));
  CHECK_NULL(rt_callback_new(h, RT_CALLBACK_WAIT, RT_TYPE_INT, NULL, 2, noop_handler, NULL, &code));
  CHECK_NULL(rt_callback_new(h, RT_CALLBACK_WAIT, RT_TYPE_INT, with_void, 2, noop_handler, NULL,
                             &code));
  CHECK_NULL(code);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

/* Zeroed memory rtctx never returned: refused, and named, in every
 * function that takes a pointer. Valid memory, so it runs under every
 * tool. */
static void case_not_ours(void) {
  static _Alignas(16) unsigned char zeros[512];
  void *fake = zeros;
  rt_stats_t s;
  memset(&s, 0, sizeof s);
  s.size = sizeof s;
  print_ptr(fake);
  CHECK_RC(rt_spawn(fake, never_fn, NULL), RT_EINVAL);
  CHECK_RC(rt_stats_get(fake, &s), RT_EINVAL);
  CHECK_NULL(rt_handle_clone(fake));
  CHECK_NULL(rt_enter(fake));
  rt_handle_release(fake);
  CHECK_RC(rt_shutdown(fake), RT_EINVAL);
  CHECK_RC(rt_task_join(fake, 0, NULL), RT_EINVAL);
  CHECK_FALSE(rt_task_is_finished(fake));
  rt_task_release(fake);
  rt_callback_free(fake);
}

/* The last reference released, then used: caught while the freed memory
 * was not reused (nothing here allocates in between). */
static void case_released_handle(void) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
  print_ptr(h);
  CHECK_RC(rt_spawn(h, never_fn, NULL), RT_EINVAL);
  rt_handle_release(h);
}

/* Two pointers rtctx never returned, named by two ids, each the same on
 * every line. The first is at a fixed address when the system allows it,
 * so that the parent can run the case twice with the same address there
 * (not under a sanitizer, whose shadow memory may lie there). */
static void case_two_pointers(void) {
  static _Alignas(16) unsigned char zeros[512];
  void *fixed = MAP_FAILED;
  if (!UNDER_TSAN && !UNDER_ASAN)
    fixed = mmap((void *)0x5a5a00000000, 4096, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  void *first = fixed != MAP_FAILED ? fixed : zeros;
  void *second = zeros + 256;
  print_ptr(first);
  print_ptr(second);
  CHECK_RC(rt_spawn(first, never_fn, NULL), RT_EINVAL);
  CHECK_RC(rt_spawn(second, never_fn, NULL), RT_EINVAL);
  rt_task_release(first);
  if (fixed != MAP_FAILED)
    CHECK_EQ(munmap(fixed, 4096), 0);
}

/* A runtime inherited by fork(): refused in the child with RT_ESHUTDOWN. */
static void case_fork_inherited(void) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_task_t *t = NULL;
  CHECK_RC(rt_spawn_after(h, 60000 * MS, never_call, NULL, NULL, &t), RT_OK);
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  CHECK_GE(pid, 0);
  if (pid == 0) {
    int ok = rt_spawn(h, never_fn, NULL) == RT_ESHUTDOWN &&
             rt_apply(h, 3, never_apply, NULL) == RT_ESHUTDOWN && rt_task_join(t, 0, NULL) == RT_ESHUTDOWN &&
             rt_task_cancel(t) == RT_ESHUTDOWN && rt_shutdown(rt) == RT_ESHUTDOWN;
    child_exit(ok ? 0 : 1);
  }
  int status;
  CHECK_EQ(waitpid(pid, &status, 0), pid);
  CHECK_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CHECK_RC(rt_task_cancel(t), RT_OK);
  rt_task_release(t);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

/* The codes a correct program meets, and the calls that are not refusals:
 * no line. */
static void case_normal_operation(void) {
  rt_runtime_t *rt = make_rt(1, 1);
  rt_handle_t *h = rt_handle(rt);
  blocker_t b;
  blocker_init(&b);
  blocker_start(h, &b);
  counter_t c;
  counter_init(&c);
  rt_task_t *t = NULL;
  CHECK_RC(rt_spawn_full(h, counter_call, &c, counter_drop, &t), RT_OK);
  CHECK_RC(rt_spawn(h, counter_fn, &c), RT_EAGAIN);
  CHECK_RC(rt_task_join(t, 0, NULL), RT_ETIMEDOUT);
  CHECK_RC(rt_task_cancel(t), RT_OK);
  CHECK_RC(rt_task_cancel(t), RT_EBUSY);
  CHECK_RC(rt_task_join(t, -1, NULL), RT_ECANCELED);
  CHECK_TRUE(rt_task_is_finished(t));
  rt_task_release(t);
  CHECK_RC(rt_spawn(h, counter_fn, &c), RT_OK); /* queued behind the blocker */
  CHECK_NULL(rt_handle_current());
  pthread_t opener = gate_open_later(&b.gate, 50);
  CHECK_RC(rt_shutdown_timeout(rt, 10 * MS), RT_ETIMEDOUT);
  pthread_join(opener, NULL);
  rt_handle_release(NULL);
  rt_handle_release(h);
}

/* --- The lines each case prints with the log on ----------------------------- */

#define NOT_LIVE_TAIL "released already (a double release, or a use after the last release) or not from rtctx"
#define SHUT_DOWN                                                              \
  "the runtime is shut down or shutting down (rt_shutdown* was called), and the caller is not one of its tasks"
#define FORKED "the runtime was inherited by fork(): its workers stayed in the parent process"

static char bad_config_lines[1024];

static const char *expect_bad_config(void) {
  snprintf(bad_config_lines, sizeof bad_config_lines,
           "rtctx: rt_new: returns NULL: cfg->workers is 5000, more than 1024\n"
           "rtctx: rt_new: returns NULL: cfg->size is %zu, more than this library's "
           "sizeof(rt_config_t), %zu\n"
           "rtctx: rt_new: returns NULL: cfg->size is 0, smaller than the size field itself: set "
           "it to sizeof(rt_config_t)\n"
           "rtctx: rt_new: returns NULL: cfg->queue_capacity is %zu, more than SIZE_MAX/2\n",
           sizeof(rt_config_t) + 64, sizeof(rt_config_t), (size_t)SIZE_MAX);
  return bad_config_lines;
}

static char stats_lines[1024];

static const char *expect_stats(void) {
  snprintf(stats_lines, sizeof stats_lines,
           "rtctx: rt_stats_get: RT_EINVAL: out is NULL\n"
           "rtctx: rt_stats_get: RT_EINVAL: out->size is 0, smaller than the size field itself: "
           "set it to sizeof(rt_stats_t)\n"
           "rtctx: rt_stats_get: RT_EINVAL: out->size is %zu, more than this library's "
           "sizeof(rt_stats_t), %zu\n",
           sizeof(rt_stats_t) + 8, sizeof(rt_stats_t));
  return stats_lines;
}

static char callback_lines[2048];

static const char *expect_callbacks(void) {
  snprintf(callback_lines, sizeof callback_lines,
           "rtctx: rt_callback_new: returns NULL: handler is NULL\n"
           "rtctx: rt_callback_new: returns NULL: code_out is NULL\n"
           "rtctx: rt_callback_new: returns NULL: mode is 7, neither RT_CALLBACK_POST nor "
           "RT_CALLBACK_WAIT\n"
           "rtctx: rt_callback_new: returns NULL: ret is 99, not an rt_type_t\n"
           "rtctx: rt_callback_new: returns NULL: mode is RT_CALLBACK_POST, which returns nothing "
           "to its caller, but ret is not RT_TYPE_VOID\n"
           "rtctx: rt_callback_new: returns NULL: nargs is 33, more than RT_CALLBACK_MAX_ARGS (32)\n"
           "rtctx: rt_callback_new: returns NULL: nargs is %zu, more than RT_CALLBACK_MAX_ARGS "
           "(32)\n"
           "rtctx: rt_callback_new: returns NULL: arg_types is NULL and nargs is 2\n"
           "rtctx: rt_callback_new: returns NULL: arg_types[1] is RT_TYPE_VOID, a return type "
           "only\n",
           (size_t)SIZE_MAX);
  return callback_lines;
}

static void *block_on_own_strand(void *s) {
  return (void *)(intptr_t)rt_strand_block_on(s, never_call, NULL, NULL);
}

static void *join_own_task(void *arg) {
  rt_task_t **self = arg;
  while (atomic_load((_Atomic(rt_task_t *) *)self) == NULL)
    sleep_us(100);
  return (void *)(intptr_t)rt_task_join(*self, -1, NULL);
}

static void case_blocking(void) {
  CHECK_RC(rt_spawn_blocking(NULL, never_call, NULL, NULL, NULL), RT_EINVAL);
  CHECK_RC(rt_blocking_begin(), RT_EINVAL);
  CHECK_RC(rt_blocking_end(), RT_EINVAL);
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  CHECK_RC(rt_spawn_blocking(h, NULL, NULL, NULL, NULL), RT_EINVAL);
  _Atomic(rt_task_t *) self = NULL;
  rt_task_t *t;
  CHECK_RC(rt_spawn_full(h, join_own_task, (void *)&self, NULL, &t), RT_OK);
  atomic_store(&self, t);
  void *rc = NULL;
  CHECK_RC(rt_task_join(t, -1, &rc), RT_OK);
  CHECK_RC((int)(intptr_t)rc, RT_EDEADLK);
  rt_task_release(t);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_RC(rt_spawn_blocking(h, never_call, NULL, NULL, NULL), RT_ESHUTDOWN);
  rt_handle_release(h);
}

static void case_strands_and_groups(void) {
  CHECK_NULL(rt_strand_new(NULL));
  CHECK_RC(rt_strand_spawn(NULL, never_fn, NULL), RT_EINVAL);
  CHECK_RC(rt_strand_spawn_full(NULL, never_call, NULL, NULL, NULL), RT_EINVAL);
  CHECK_RC(rt_strand_spawn_after(NULL, MS, never_call, NULL, NULL, NULL), RT_EINVAL);
  CHECK_RC(rt_strand_block_on(NULL, never_call, NULL, NULL), RT_EINVAL);
  CHECK_NULL(rt_group_new(NULL));
  CHECK_RC(rt_group_spawn(NULL, never_call, NULL, NULL), RT_EINVAL);
  CHECK_RC(rt_group_strand_spawn(NULL, NULL, never_call, NULL, NULL), RT_EINVAL);
  CHECK_RC(rt_group_wait(NULL, 0), RT_EINVAL);
  CHECK_RC(rt_group_notify(NULL, never_fn, NULL), RT_EINVAL);
  CHECK_RC(rt_group_cancel(NULL), RT_EINVAL);
  rt_strand_release(NULL); /* no-ops: no line */
  rt_group_release(NULL);
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_strand_t *s = rt_strand_new(h);
  rt_group_t *g = rt_group_new(h);
  CHECK_RC(rt_strand_spawn(s, NULL, NULL), RT_EINVAL);
  CHECK_RC(rt_group_spawn(g, NULL, NULL, NULL), RT_EINVAL);
  void *rc = NULL;
  CHECK_RC(rt_strand_block_on(s, block_on_own_strand, s, &rc), RT_OK);
  CHECK_RC((int)(intptr_t)rc, RT_EDEADLK);
  rt_runtime_t *other = make_rt(1, 0);
  rt_handle_t *oh = rt_handle(other);
  rt_strand_t *os = rt_strand_new(oh);
  CHECK_RC(rt_group_strand_spawn(g, os, never_call, NULL, NULL), RT_EINVAL);
  rt_strand_release(os);
  CHECK_RC(rt_shutdown(other), RT_OK);
  rt_handle_release(oh);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_RC(rt_strand_spawn(s, never_fn, NULL), RT_ESHUTDOWN);
  CHECK_RC(rt_group_spawn(g, never_call, NULL, NULL), RT_ESHUTDOWN);
  CHECK_NULL(rt_strand_new(h));
  CHECK_NULL(rt_group_new(h));
  rt_strand_release(s);
  rt_group_release(g);
  rt_handle_release(h);
}

struct log_case {
  const char *name;
  void (*run)(void);
  const char *lines;            /* the whole stderr, "{id}" and "{id2}" for pointer ids */
  const char *(*make_lines)(void); /* or built at run time */
  bool (*can_run)(void);        /* NULL: always */
};

static bool can_misuse_pointers(void) { return release_library(); }
static bool can_use_after_free(void) {
  return release_library() && !UNDER_ASAN && !under_valgrind();
}

static const struct log_case cases[] = {
    {"null_arguments", case_null_arguments,
     "rtctx: rt_config_init: does nothing: cfg is NULL\n"
     "rtctx: rt_handle: returns NULL: rt is NULL\n"
     "rtctx: rt_shutdown: RT_EINVAL: rt is NULL\n"
     "rtctx: rt_shutdown_timeout: RT_EINVAL: rt is NULL\n"
     "rtctx: rt_handle_clone: returns NULL: h is NULL\n"
     "rtctx: rt_enter: returns NULL: h is NULL\n"
     "rtctx: rt_exit: RT_EINVAL: g is NULL\n"
     "rtctx: rt_spawn: RT_EINVAL: h is NULL\n"
     "rtctx: rt_spawn_full: RT_EINVAL: h is NULL\n"
     "rtctx: rt_spawn_after: RT_EINVAL: h is NULL\n"
     "rtctx: rt_block_on: RT_EINVAL: h is NULL\n"
     "rtctx: rt_apply: RT_EINVAL: h is NULL\n"
     "rtctx: rt_task_join: RT_EINVAL: t is NULL\n"
     "rtctx: rt_task_cancel: RT_EINVAL: t is NULL\n"
     "rtctx: rt_task_is_finished: returns false: t is NULL\n"
     "rtctx: rt_stats_get: RT_EINVAL: h is NULL\n"
     "rtctx: rt_callback_new: returns NULL: h is NULL\n",
     NULL, NULL},
    {"null_fn", case_null_fn,
     "rtctx: rt_spawn: RT_EINVAL: fn is NULL\n"
     "rtctx: rt_spawn_full: RT_EINVAL: fn is NULL\n"
     "rtctx: rt_spawn_after: RT_EINVAL: fn is NULL\n"
     "rtctx: rt_spawn_after: RT_EINVAL: fn is NULL\n"
     "rtctx: rt_block_on: RT_EINVAL: fn is NULL\n"
     "rtctx: rt_apply: RT_EINVAL: fn is NULL\n",
     NULL, NULL},
    {"stats", case_stats, NULL, expect_stats, NULL},
    {"after_shutdown", case_after_shutdown,
     "rtctx: rt_spawn: RT_ESHUTDOWN: " SHUT_DOWN "\n"
     "rtctx: rt_spawn_full: RT_ESHUTDOWN: " SHUT_DOWN "\n"
     "rtctx: rt_spawn_after: RT_ESHUTDOWN: " SHUT_DOWN "\n"
     "rtctx: rt_block_on: RT_ESHUTDOWN: " SHUT_DOWN "\n"
     "rtctx: rt_apply: RT_ESHUTDOWN: " SHUT_DOWN "\n",
     NULL, NULL},
    {"second_shutdown", case_second_shutdown,
     "rtctx: rt_shutdown: RT_EINVAL: a shutdown of this runtime already began: rt_shutdown* "
     "takes a runtime once\n",
     NULL, NULL},
    {"shutdown_on_worker", case_shutdown_on_worker,
     "rtctx: rt_shutdown: RT_EDEADLK: called on a worker of this runtime, which would wait for "
     "itself: shut down from another thread\n"
     "rtctx: rt_shutdown_timeout: RT_EDEADLK: called on a worker of this runtime, which would "
     "wait for itself: shut down from another thread\n",
     NULL, NULL},
    {"bad_config", case_bad_config, NULL, expect_bad_config, NULL},
    {"guards", case_guards,
     "rtctx: rt_exit: RT_EINVAL: g is not the innermost guard of this thread: exit the inner "
     "guards first, each on the thread that entered it\n",
     NULL, NULL},
    {"callbacks", case_callbacks, NULL, expect_callbacks, NULL},
    {"not_ours", case_not_ours,
     "rtctx: rt_spawn: RT_EINVAL: {id} is not a live rt_handle_t or rt_runtime_t: " NOT_LIVE_TAIL "\n"
     "rtctx: rt_stats_get: RT_EINVAL: {id} is not a live rt_handle_t or rt_runtime_t: " NOT_LIVE_TAIL "\n"
     "rtctx: rt_handle_clone: returns NULL: {id} is not a live rt_handle_t or rt_runtime_t: " NOT_LIVE_TAIL "\n"
     "rtctx: rt_enter: returns NULL: {id} is not a live rt_handle_t or rt_runtime_t: " NOT_LIVE_TAIL "\n"
     "rtctx: rt_handle_release: does nothing: {id} is not a live rt_handle_t or rt_runtime_t: " NOT_LIVE_TAIL "\n"
     "rtctx: rt_shutdown: RT_EINVAL: {id} is not a live rt_handle_t or rt_runtime_t: " NOT_LIVE_TAIL "\n"
     "rtctx: rt_task_join: RT_EINVAL: {id} is not a live rt_task_t: " NOT_LIVE_TAIL "\n"
     "rtctx: rt_task_is_finished: returns false: {id} is not a live rt_task_t: " NOT_LIVE_TAIL "\n"
     "rtctx: rt_task_release: does nothing: {id} is not a live rt_task_t: " NOT_LIVE_TAIL "\n"
     "rtctx: rt_callback_free: does nothing: {id} is not a live rt_callback_t: " NOT_LIVE_TAIL "\n",
     NULL, can_misuse_pointers},
    {"released_handle", case_released_handle,
     "rtctx: rt_spawn: RT_EINVAL: {id} is not a live rt_handle_t or rt_runtime_t: " NOT_LIVE_TAIL "\n"
     "rtctx: rt_handle_release: does nothing: {id} is not a live rt_handle_t or rt_runtime_t: " NOT_LIVE_TAIL "\n",
     NULL, can_use_after_free},
    {"two_pointers", case_two_pointers,
     "rtctx: rt_spawn: RT_EINVAL: {id} is not a live rt_handle_t or rt_runtime_t: " NOT_LIVE_TAIL "\n"
     "rtctx: rt_spawn: RT_EINVAL: {id2} is not a live rt_handle_t or rt_runtime_t: " NOT_LIVE_TAIL "\n"
     "rtctx: rt_task_release: does nothing: {id} is not a live rt_task_t: " NOT_LIVE_TAIL "\n",
     NULL, can_misuse_pointers},
    {"fork_inherited", case_fork_inherited,
     "rtctx: rt_spawn: RT_ESHUTDOWN: " FORKED "; create a new runtime in the child\n"
     "rtctx: rt_apply: RT_ESHUTDOWN: " FORKED "; create a new runtime in the child\n"
     "rtctx: rt_task_join: RT_ESHUTDOWN: the task's runtime was inherited by fork(): its workers "
     "stayed in the parent process, so the task never runs here\n"
     "rtctx: rt_task_cancel: RT_ESHUTDOWN: the task's runtime was inherited by fork(): its "
     "workers stayed in the parent process, so the task never runs here\n"
     "rtctx: rt_shutdown: RT_ESHUTDOWN: " FORKED "; nothing was shut down or freed\n",
     NULL, NULL},
    {"strands_and_groups", case_strands_and_groups,
     "rtctx: rt_strand_new: returns NULL: h is NULL\n"
     "rtctx: rt_strand_spawn: RT_EINVAL: s is NULL\n"
     "rtctx: rt_strand_spawn_full: RT_EINVAL: s is NULL\n"
     "rtctx: rt_strand_spawn_after: RT_EINVAL: s is NULL\n"
     "rtctx: rt_strand_block_on: RT_EINVAL: s is NULL\n"
     "rtctx: rt_group_new: returns NULL: h is NULL\n"
     "rtctx: rt_group_spawn: RT_EINVAL: g is NULL\n"
     "rtctx: rt_group_strand_spawn: RT_EINVAL: g is NULL\n"
     "rtctx: rt_group_wait: RT_EINVAL: g is NULL\n"
     "rtctx: rt_group_notify: RT_EINVAL: g is NULL\n"
     "rtctx: rt_group_cancel: RT_EINVAL: g is NULL\n"
     "rtctx: rt_strand_spawn: RT_EINVAL: fn is NULL\n"
     "rtctx: rt_group_spawn: RT_EINVAL: fn is NULL\n"
     "rtctx: rt_strand_block_on: RT_EDEADLK: called from a job of the same strand, which would "
     "wait for itself: spawn onto the strand instead\n"
     "rtctx: rt_group_strand_spawn: RT_EINVAL: s is a strand of another runtime than g's\n"
     "rtctx: rt_strand_spawn: RT_ESHUTDOWN: " SHUT_DOWN "\n"
     "rtctx: rt_group_spawn: RT_ESHUTDOWN: " SHUT_DOWN "\n"
     "rtctx: rt_strand_new: returns NULL: " SHUT_DOWN "\n"
     "rtctx: rt_group_new: returns NULL: " SHUT_DOWN "\n",
     NULL, NULL},
    {"blocking", case_blocking,
     "rtctx: rt_spawn_blocking: RT_EINVAL: h is NULL\n"
     "rtctx: rt_blocking_begin: RT_EINVAL: not on a thread of any runtime: nothing to hand off\n"
     "rtctx: rt_blocking_end: RT_EINVAL: the thread is in no blocking region\n"
     "rtctx: rt_spawn_blocking: RT_EINVAL: fn is NULL\n"
     "rtctx: rt_task_join: RT_EDEADLK: the calling thread is running this task, further down its "
     "stack: it would wait for itself\n"
     "rtctx: rt_spawn_blocking: RT_ESHUTDOWN: " SHUT_DOWN "\n",
     NULL, NULL},
    {"normal_operation", case_normal_operation, "", NULL, NULL},
};

enum { NCASES = sizeof cases / sizeof cases[0] };

static bool case_can_run(const struct log_case *c) { return c->can_run == NULL || c->can_run(); }

static const struct log_case *find_case(const char *name) {
  for (size_t i = 0; i < NCASES; i++)
    if (strcmp(cases[i].name, name) == 0)
      return &cases[i];
  FAIL("no case %s", name);
}

/* The helper the parent execs: runs the case RTCTX_DEBUG_LOG_CASE names,
 * or, on its own, every case. */
TEST(debug_log_child) {
  const char *name = getenv("RTCTX_DEBUG_LOG_CASE");
  for (size_t i = 0; i < NCASES; i++) {
    if ((name == NULL || strcmp(name, cases[i].name) == 0) && case_can_run(&cases[i]))
      cases[i].run();
  }
}

/* --- The parent ------------------------------------------------------------- */

struct child_output {
  char err[8192]; /* stderr */
  char out[256];  /* stdout: the pointers a case printed */
};

/* Reads all of fd (until EOF) into buf, NUL-terminated. */
static void read_all(int fd, char *buf, size_t cap) {
  size_t n = 0;
  ssize_t r;
  while (n < cap - 1 && (r = read(fd, buf + n, cap - 1 - n)) != 0) {
    if (r < 0)
      FAIL("read: %s", strerror(errno));
    n += (size_t)r;
  }
  buf[n] = '\0';
}

/* This runner's own path. */
static void self_path(char *buf, size_t cap) {
  ssize_t len = readlink("/proc/self/exe", buf, cap - 1);
  CHECK_GT(len, 0);
  buf[len] = '\0';
}

/* Runs case `name` in the program `self` (this runner or a copy of it)
 * with RTCTX_LOG=`log` (unset if NULL); fails the test unless it exits 0. */
static void run_case_in(const char *self, const char *name, const char *log, struct child_output *o) {

  /* The environment without RTCTX_LOG and RTCTX_DEBUG_LOG_CASE, then ours. */
  size_t n = 0;
  while (environ[n] != NULL)
    n++;
  char **envp = calloc(n + 3, sizeof *envp);
  CHECK_NOT_NULL(envp);
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (strncmp(environ[i], "RTCTX_LOG=", 10) != 0 && strncmp(environ[i], "RTCTX_DEBUG_LOG_CASE=", 21) != 0)
      envp[k++] = environ[i];
  }
  char log_var[64], case_var[64];
  if (log != NULL) {
    snprintf(log_var, sizeof log_var, "RTCTX_LOG=%s", log);
    envp[k++] = log_var;
  }
  snprintf(case_var, sizeof case_var, "RTCTX_DEBUG_LOG_CASE=%s", name);
  envp[k++] = case_var;
  envp[k] = NULL;

  int err_pipe[2];
  CHECK_EQ(pipe(err_pipe), 0);
  FILE *out = tmpfile();
  CHECK_NOT_NULL(out);
  posix_spawn_file_actions_t fa;
  CHECK_EQ(posix_spawn_file_actions_init(&fa), 0);
  CHECK_EQ(posix_spawn_file_actions_adddup2(&fa, err_pipe[1], STDERR_FILENO), 0);
  CHECK_EQ(posix_spawn_file_actions_adddup2(&fa, fileno(out), STDOUT_FILENO), 0);
  CHECK_EQ(posix_spawn_file_actions_addclose(&fa, err_pipe[0]), 0);
  char *argv[] = {(char *)self, "--run", "debug_log_child", NULL};
  pid_t pid;
  fflush(stdout);
  int rc = posix_spawn(&pid, self, &fa, NULL, argv, envp);
  CHECK_EQ(rc, 0);
  posix_spawn_file_actions_destroy(&fa);
  free(envp);
  close(err_pipe[1]);
  read_all(err_pipe[0], o->err, sizeof o->err);
  close(err_pipe[0]);
  int status;
  CHECK_EQ(waitpid(pid, &status, 0), pid);
  rewind(out);
  size_t got = fread(o->out, 1, sizeof o->out - 1, out);
  o->out[got] = '\0';
  fclose(out);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    FAIL("case %s (RTCTX_LOG=%s) failed, status %d; its stderr:\n%s", name, log ? log : "unset",
         status, o->err);
}

static void run_case(const char *name, const char *log, struct child_output *o) {
  char self[4096];
  self_path(self, sizeof self);
  run_case_in(self, name, log, o);
}

/* A pointer's id in the log: "ptr#" and 16 lower-case hex digits. */
enum { ID_LEN = 4 + 16 };

static bool is_id(const char *p) {
  if (strncmp(p, "ptr#", 4) != 0)
    return false;
  for (int i = 4; i < ID_LEN; i++)
    if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
      return false;
  return true;
}

/* The ids in the log, distinct, in the order they first appear. */
struct ids {
  char id[2][ID_LEN + 1];
  size_t count;
};

static void find_ids(const char *err, struct ids *ids) {
  ids->count = 0;
  for (const char *p = strstr(err, "ptr#"); p != NULL; p = strstr(p + 1, "ptr#")) {
    if (!is_id(p))
      FAIL("not an id (ptr# and 16 hex digits) in the log: %.24s", p);
    bool seen = false;
    for (size_t i = 0; i < ids->count; i++)
      seen = seen || strncmp(ids->id[i], p, ID_LEN) == 0;
    if (seen)
      continue;
    CHECK_LT(ids->count, 2u);
    snprintf(ids->id[ids->count++], ID_LEN + 1, "%.*s", ID_LEN, p);
  }
}

/* Fails if the log shows any pointer the case printed, in any form. */
static void check_no_address(const struct child_output *o) {
  const char *line = o->out;
  while (*line != '\0') {
    size_t len = strcspn(line, "\n");
    char hex[64];
    snprintf(hex, sizeof hex, "%.*s", (int)len, line);
    const char *digits = strncmp(hex, "0x", 2) == 0 ? hex + 2 : hex;
    if (strlen(digits) >= 6 && strstr(o->err, digits) != NULL)
      FAIL("the log shows the address %s:\n%s", hex, o->err);
    line += len + (line[len] != '\0');
  }
}

/* The case's expected stderr, with "{id}" and "{id2}" replaced by the
 * first and second distinct id of the log: so each must be the same on
 * every line that names its pointer, and differ from the other. */
static void expected(const struct log_case *c, const struct child_output *o, char *buf, size_t cap) {
  const char *lines = c->make_lines != NULL ? c->make_lines() : c->lines;
  struct ids ids;
  find_ids(o->err, &ids);
  check_no_address(o);
  size_t n = 0;
  for (const char *p = lines; *p != '\0';) {
    size_t which = strncmp(p, "{id}", 4) == 0 ? 1 : strncmp(p, "{id2}", 5) == 0 ? 2 : 0;
    if (which != 0 && which <= ids.count) {
      n += (size_t)snprintf(buf + n, cap - n, "%s", ids.id[which - 1]);
      p += which == 1 ? 4 : 5;
    } else {
      buf[n++] = *p++;
    }
    CHECK_LT(n, cap - 1);
  }
  buf[n] = '\0';
}

/* Compares whole outputs; on a difference, names the first line that
 * differs. */
static void check_lines(const char *name, const char *log, const char *got, const char *want) {
  if (strcmp(got, want) == 0)
    return;
  size_t line = 1, i = 0;
  while (got[i] != '\0' && got[i] == want[i]) {
    if (got[i] == '\n')
      line++;
    i++;
  }
  FAIL("case %s, RTCTX_LOG=%s: stderr differs at line %zu\n--- want:\n%s--- got:\n%s---", name,
       log ? log : "unset", line, want, got);
}

/* Every case with the log on: exactly its lines, in order. */
TEST(debug_log_lines) {
  static char want[8192];
  struct child_output o;
  for (size_t i = 0; i < NCASES; i++) {
    if (!case_can_run(&cases[i])) {
      printf("skipped %s: a debug library stops, or the tool reports, the misuse\n", cases[i].name);
      continue;
    }
    run_case(cases[i].name, "debug", &o);
    expected(&cases[i], &o, want, sizeof want);
    check_lines(cases[i].name, "debug", o.err, want);
  }
}

/* "debug" in any case, and "1", turn it on. */
TEST(debug_log_enabled_values) {
  const char *values[] = {"1", "DEBUG", "Debug"};
  struct child_output o;
  for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
    run_case("null_fn", values[i], &o);
    check_lines("null_fn", values[i], o.err, find_case("null_fn")->lines);
  }
}

/* Unset, "0" and anything else: every case prints nothing. */
TEST(debug_log_off) {
  struct child_output o;
  for (size_t i = 0; i < NCASES; i++) {
    if (!case_can_run(&cases[i]))
      continue;
    run_case(cases[i].name, NULL, &o);
    check_lines(cases[i].name, NULL, o.err, "");
    run_case(cases[i].name, "0", &o);
    check_lines(cases[i].name, "0", o.err, "");
  }
  const char *values[] = {"", "yes", "debug2", "true"};
  for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
    run_case("null_fn", values[i], &o);
    check_lines("null_fn", values[i], o.err, "");
  }
}

/* The key of the ids is drawn per process: the same address, in two runs,
 * gets two ids (two_pointers maps its first pointer at a fixed address;
 * where the system refused that address, there is nothing to compare). */
TEST(debug_log_ids_differ_between_processes) {
  if (!can_misuse_pointers()) {
    printf("skipped: a debug library stops at the misuse\n");
    return;
  }
  struct child_output a, b;
  run_case("two_pointers", "debug", &a);
  run_case("two_pointers", "debug", &b);
  if (strncmp(a.out, b.out, strcspn(a.out, "\n") + 1) != 0) {
    printf("skipped: the fixed address was refused (%.*s, %.*s)\n", (int)strcspn(a.out, "\n"), a.out,
           (int)strcspn(b.out, "\n"), b.out);
    return;
  }
  struct ids ia, ib;
  find_ids(a.err, &ia);
  find_ids(b.err, &ib);
  CHECK_EQ(ia.count, 2u);
  CHECK_EQ(ib.count, 2u);
  CHECK_TRUE(strcmp(ia.id[0], ib.id[0]) != 0);
}

/* A setgid program ignores RTCTX_LOG (secure_getenv): its environment is
 * its caller's. A copy of this runner, made setgid to another group, runs
 * a case that logs; only root can make one, on a file system that honours
 * the bit, and not under a sanitizer or valgrind (which a setgid program
 * would not load). */
TEST(debug_log_ignored_when_setgid) {
  if (geteuid() != 0 || UNDER_TSAN || UNDER_ASAN || under_valgrind()) {
    printf("skipped: needs root, and no sanitizer or valgrind\n");
    return;
  }
  char self[4096], copy[4200];
  self_path(self, sizeof self);
  struct statvfs fs;
  CHECK_EQ(statvfs(self, &fs), 0);
  if (fs.f_flag & ST_NOSUID) {
    printf("skipped: %s is on a nosuid file system\n", self);
    return;
  }
  snprintf(copy, sizeof copy, "%s-setgid-XXXXXX", self);
  int out = mkstemp(copy);
  CHECK_GE(out, 0);
  int in = open(self, O_RDONLY);
  CHECK_GE(in, 0);
  char buf[65536];
  ssize_t n;
  while ((n = read(in, buf, sizeof buf)) > 0)
    CHECK_EQ(write(out, buf, (size_t)n), n);
  CHECK_EQ(n, 0);
  close(in);
  gid_t other = getgid() == 65534 ? 0 : 65534;
  CHECK_EQ(fchown(out, 0, other), 0);
  CHECK_EQ(fchmod(out, 0755), 0);
  CHECK_EQ(close(out), 0);

  /* The copy logs as the runner does: the comparison below means something. */
  struct child_output o;
  run_case_in(copy, "null_fn", "debug", &o);
  check_lines("null_fn", "debug", o.err, find_case("null_fn")->lines);

  CHECK_EQ(chmod(copy, 02755), 0);
  run_case_in(copy, "null_fn", "debug", &o);
  CHECK_EQ(unlink(copy), 0);
  check_lines("null_fn (setgid)", "debug", o.err, "");
}
