/* apply.c — what rt_apply costs for N trivial calls, against a plain loop
 * on one thread and (built with -DWITH_DISPATCH) libdispatch's
 * dispatch_apply_f. Every row makes the same N indirect calls of the same
 * function; the body tests one bit and bumps a counter every 4096th
 * index, so what is measured is the loop and its sharing, not the body.
 * Each row is the median of ROUNDS runs, in milliseconds.
 *
 *   build/bench/apply [N [WORKERS]]     one JSON line
 *
 * WORKERS (default: one per CPU) is rt_apply's runtime; dispatch_apply_f
 * uses its own pool, one thread per CPU.
 */
#define _POSIX_C_SOURCE 200809L
#include <rtctx.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#ifdef WITH_DISPATCH
#include <dispatch/dispatch.h>
#endif

enum { ROUNDS = 7 };

static atomic_size_t hits;

static void body(void *ctx, size_t i) {
  (void)ctx;
  if ((i & 4095) == 0)
    atomic_fetch_add_explicit(&hits, 1, memory_order_relaxed);
}

/* The plain loop calls through this, so it cannot be folded away. */
static void (*volatile body_ptr)(void *, size_t) = body;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *t) {
  qsort(t, ROUNDS, sizeof *t, cmp);
  return t[ROUNDS / 2];
}

static size_t expected(size_t n) { return (n + 4095) / 4096; }

static int check(const char *row, size_t n) {
  size_t got = atomic_exchange(&hits, 0);
  if (got != expected(n)) {
    fprintf(stderr, "apply: %s made %zu counted calls, want %zu\n", row, got, expected(n));
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  size_t n = argc > 1 ? (size_t)atoll(argv[1]) : 10000000;
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = argc > 2 ? (unsigned)atoi(argv[2]) : 0;
  rt_runtime_t *rt = rt_new(&cfg);
  rt_handle_t *h = rt == NULL ? NULL : rt_handle(rt);
  if (h == NULL) {
    fprintf(stderr, "apply: rt_new failed\n");
    return 1;
  }
  double loop[ROUNDS], apply[ROUNDS];
  int bad = 0;
  for (int r = 0; r < ROUNDS; r++) {
    double start = now_ms();
    void (*fn)(void *, size_t) = body_ptr;
    for (size_t i = 0; i < n; i++)
      fn(NULL, i);
    loop[r] = now_ms() - start;
    bad |= check("the plain loop", n);

    start = now_ms();
    int rc = rt_apply(h, n, body, NULL);
    apply[r] = now_ms() - start;
    if (rc != RT_OK) {
      fprintf(stderr, "apply: rt_apply: %s\n", rt_strerror(rc));
      return 1;
    }
    bad |= check("rt_apply", n);
  }
  rt_stats_t s;
  s.size = sizeof s;
  if (rt_stats_get(h, &s) != RT_OK)
    return 1;
  printf("{\"n\":%zu,\"workers\":%u,\"loop_ms\":%.2f,\"rt_apply_ms\":%.2f", n, s.workers,
         median(loop), median(apply));
#ifdef WITH_DISPATCH
  double dispatch[ROUNDS];
  dispatch_queue_t q = dispatch_get_global_queue(DISPATCH_QUEUE_PRIORITY_DEFAULT, 0);
  for (int r = 0; r < ROUNDS; r++) {
    double start = now_ms();
    dispatch_apply_f(n, q, NULL, body);
    dispatch[r] = now_ms() - start;
    bad |= check("dispatch_apply_f", n);
  }
  printf(",\"dispatch_apply_f_ms\":%.2f", median(dispatch));
#endif
  printf("}\n");
  if (rt_shutdown(rt) != RT_OK)
    return 1;
  rt_handle_release(h);
  return bad;
}
