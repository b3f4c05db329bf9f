/* test-oom.c — out of memory under RLIMIT_AS, with the release library.
 *
 * A child (forked, no exec: it makes its own runtime) lowers its address
 * space limit to just above what it uses, then allocates through the API
 * until the system says no. Every call must answer RT_ENOMEM (or NULL) rather
 * than abort; every accepted task must still run or drop exactly once, every
 * refused one neither; the shutdown must return. The exhaustive half, every
 * allocation failed in turn, is make check-oom (Tests/oom/oom-seam.c). */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static atomic_long oom_ran, oom_dropped;

static void *oom_call(void *arg) {
  (void)arg;
  atomic_fetch_add(&oom_ran, 1);
  return NULL;
}
static void oom_drop(void *arg) {
  (void)arg;
  atomic_fetch_add(&oom_dropped, 1);
}

/* The child's verdicts: exit codes the parent names. */
enum { OOM_OK, OOM_NO_LIMIT, OOM_BAD_CODE, OOM_NEVER_FULL, OOM_LEDGER, OOM_SHUTDOWN, OOM_NO_RUNTIME };

/* Virtual memory the process maps now, from /proc/self/statm (pages). */
static long mapped_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long pages = -1;
  if (f == NULL) return -1;
  if (fscanf(f, "%ld", &pages) != 1) pages = -1;
  fclose(f);
  return pages < 0 ? -1 : pages * sysconf(_SC_PAGESIZE);
}

static int limit_to(long headroom) {
  long used = mapped_bytes();
  if (used < 0) return 0;
  struct rlimit lim = {(rlim_t)(used + headroom), (rlim_t)(used + headroom)};
  return setrlimit(RLIMIT_AS, &lim) == 0;
}

/* Fills the runtime with one-hour timers (about 200 bytes each) until
 * RT_ENOMEM, then tries the other constructors and spawns at the limit. */
static int oom_child(void) {
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = 2;
  rt_runtime_t *rt = rt_new(&cfg);
  if (rt == NULL) return OOM_NO_RUNTIME;
  rt_handle_t *h = rt_handle(rt);
  if (!limit_to(16L << 20)) return OOM_NO_LIMIT;
  long accepted = 0, refused = 0;
  for (long i = 0; i < 10000000 && refused < 1000; i++) {
    int rc = rt_spawn_after(h, 3600ull * 1000000000ull, oom_call, NULL, oom_drop, NULL);
    if (rc == RT_OK) accepted++;
    else if (rc == RT_ENOMEM) refused++;
    else return OOM_BAD_CODE;
  }
  if (refused == 0) return OOM_NEVER_FULL;
  /* At the limit: each answers, none aborts. */
  for (int i = 0; i < 100; i++) {
    rt_task_t *t = NULL;
    int rc = rt_spawn_full(h, oom_call, NULL, oom_drop, &t);
    if (rc == RT_OK) {
      accepted++;
      rt_task_release(t);
    } else if (rc != RT_ENOMEM) {
      return OOM_BAD_CODE;
    }
    rt_strand_t *s = rt_strand_new(h);
    if (s != NULL) rt_strand_release(s);
    rt_group_t *g = rt_group_new(h);
    if (g != NULL) rt_group_release(g);
    rt_runtime_t *other = rt_new(&cfg);
    if (other != NULL && rt_shutdown(other) != RT_OK) return OOM_SHUTDOWN;
  }
  rt_handle_release(h);
  if (rt_shutdown(rt) != RT_OK) return OOM_SHUTDOWN;
  if (atomic_load(&oom_ran) + atomic_load(&oom_dropped) != accepted) {
    fprintf(stderr, "accepted %ld, ran %ld, dropped %ld\n", accepted, atomic_load(&oom_ran), atomic_load(&oom_dropped));
    return OOM_LEDGER;
  }
  printf("oom child: %ld accepted, %ld refused with RT_ENOMEM\n", accepted, refused);
  return OOM_OK;
}

/* A sanitizer's own allocator dies at the limit first (make check-tsan,
 * check-asan); valgrind's heap ignores the limit. */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define OOM_UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define OOM_UNDER_SANITIZER 1
#endif
#endif

TEST(oom_rlimit_as_enomem_not_abort) {
#ifdef OOM_UNDER_SANITIZER
  return;
#endif
  if (getenv("RTCTX_UNDER_VALGRIND") != NULL) return;
  fflush(NULL);
  pid_t pid = fork();
  CHECK_GE(pid, 0);
  if (pid == 0) _exit(oom_child());
  uint64_t deadline = now_ns() + 60000 * MS;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (now_ns() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      FAIL("the RLIMIT_AS child did not finish within 60 s");
    }
    sleep_ms(5);
  }
  CHECK_FALSE(WIFSIGNALED(status));
  CHECK_TRUE(WIFEXITED(status));
  CHECK_EQ(WEXITSTATUS(status), OOM_OK);
}
