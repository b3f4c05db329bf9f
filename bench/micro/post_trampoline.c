/* post_trampoline.c — what a POST trampoline call costs, end to end: an
 * outside thread calls a libffi trampoline `void (*)(int)` N times; each
 * call copies its argument and queues the handler, which bumps a counter
 * on a worker. Reports ns per call, from the first call until every
 * handler ran (rt_callback_free waits for the queued calls).
 *
 *   build/bench/post-trampoline [N]     one JSON line
 */
#define _POSIX_C_SOURCE 200809L
#include <rtctx.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static atomic_long ran;

static void handler(void *result, void **args, void *user) {
  (void)result;
  (void)user;
  atomic_fetch_add_explicit(&ran, *(int *)args[0] >= 0, memory_order_relaxed);
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000000;
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = 2;
  rt_runtime_t *rt = rt_new(&cfg);
  rt_handle_t *h = rt_handle(rt);
  rt_type_t args[] = {RT_TYPE_INT};
  void *code = NULL;
  rt_callback_t *cb = h == NULL ? NULL : rt_callback_new(h, RT_CALLBACK_POST, RT_TYPE_VOID, args, 1, handler, NULL, &code);
  void (*fn)(int);
  *(void **)&fn = code;
  if (rt == NULL || cb == NULL) {
    fprintf(stderr, "post-trampoline: setup failed\n");
    return 1;
  }
  double start = now_ns();
  for (long i = 0; i < n; i++) fn((int)i);
  rt_callback_free(cb); /* waits until every queued call ran */
  double ns = (now_ns() - start) / (double)n;
  long done = atomic_load(&ran);
  int rc = rt_shutdown(rt);
  rt_handle_release(h);
  printf("{\"workload\":\"post_trampoline\",\"n\":%ld,\"ran\":%ld,\"ns_per_call\":%.1f}\n", n, done, ns);
  return done == n && rc == RT_OK ? 0 : 1;
}
