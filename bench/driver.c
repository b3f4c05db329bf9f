/*
 * driver.c — the workloads of the rtctx benchmark, the same for every system.
 *
 *   bench-<system> list                 adapter facts and W3 variants (JSON)
 *   bench-<system> W1 [-n N]            one outside thread posts N tasks
 *   bench-<system> W2 [-n N]            four outside threads post N/4 each
 *   bench-<system> W3 [-n N] [-v I]     N sequential round trips, variant I
 *   bench-<system> W4 [-n N]            a task posts N children
 *   bench-<system> M1 [-n N]            bytes per queued task, idle RSS
 *
 * Options: -w WORKERS (default 2), --no-warmup. Every run prints one JSON
 * line on stdout. A task is `count_task`: one relaxed atomic increment; the
 * task that brings the counter to its target posts a POSIX semaphore the
 * timing thread waits on, so "all ran" is observed the same way everywhere.
 */
#define _GNU_SOURCE
#include "bench.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define A bench_adapter

static void *ctx;

void bench_die(const char *what) {
  fprintf(stderr, "bench-%s: %s\n", A.name, what);
  fflush(stderr);
  _exit(2);
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ---- the counter every task bumps ------------------------------------ */

static _Alignas(64) atomic_long counter;
static _Alignas(64) long target;
static sem_t done;

static void count_task(void *arg) {
  (void)arg;
  long v = atomic_fetch_add_explicit(&counter, 1, memory_order_relaxed) + 1;
  if (v == target) sem_post(&done);
}

static void arm(long n) {
  atomic_store(&counter, 0);
  target = n;
}

static void wait_done(void) {
  while (sem_wait(&done) != 0)
    if (errno != EINTR) bench_die("sem_wait failed");
}

static void warmup(int enabled) {
  if (!enabled) return;
  arm(10000);
  for (int i = 0; i < 10000; i++) A.spawn(ctx, count_task, NULL);
  wait_done();
}

static long rss_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long pages = 0, res = 0;
  if (!f) return -1;
  if (fscanf(f, "%ld %ld", &pages, &res) != 2) res = -1;
  fclose(f);
  return res * sysconf(_SC_PAGESIZE);
}

static int cpus_allowed(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
  return CPU_COUNT(&set);
}

static void print_head(const char *workload, long n, unsigned workers) {
  printf("{\"system\":\"%s\",\"workload\":\"%s\",\"n\":%ld,\"workers\":%u,"
         "\"cpus\":%d",
         A.name, workload, n, workers, cpus_allowed());
}

/* ---- W1: one outside thread ----------------------------------------- */

static void w1(long n, unsigned workers, int warm) {
  ctx = A.init(workers);
  warmup(warm);
  arm(n);
  double t0 = now_ns();
  for (long i = 0; i < n; i++) A.spawn(ctx, count_task, NULL);
  double t1 = now_ns();
  if (n > 0) wait_done();
  double t2 = now_ns();
  A.shutdown(ctx);
  print_head("W1", n, workers);
  printf(",\"ns_per_task\":%.2f,\"submit_ns_per_task\":%.2f}\n",
         n ? (t2 - t0) / n : 0.0, n ? (t1 - t0) / n : 0.0);
}

/* ---- W2: four outside threads at once ------------------------------- */

#define W2_THREADS 4
static pthread_barrier_t w2_start;
static long w2_each;

static void *w2_submitter(void *arg) {
  (void)arg;
  pthread_barrier_wait(&w2_start);
  for (long i = 0; i < w2_each; i++) A.spawn(ctx, count_task, NULL);
  return NULL;
}

static void w2(long n, unsigned workers, int warm) {
  pthread_t th[W2_THREADS];
  ctx = A.init(workers);
  warmup(warm);
  w2_each = n / W2_THREADS;
  n = w2_each * W2_THREADS;
  arm(n);
  pthread_barrier_init(&w2_start, NULL, W2_THREADS + 1);
  for (int i = 0; i < W2_THREADS; i++)
    if (pthread_create(&th[i], NULL, w2_submitter, NULL) != 0)
      bench_die("pthread_create failed");
  pthread_barrier_wait(&w2_start);
  double t0 = now_ns();
  wait_done();
  double t1 = now_ns();
  for (int i = 0; i < W2_THREADS; i++) pthread_join(th[i], NULL);
  A.shutdown(ctx);
  print_head("W2", n, workers);
  printf(",\"threads\":%d,\"ns_per_task\":%.2f}\n", W2_THREADS, (t1 - t0) / n);
}

/* ---- W3: sequential round trips ------------------------------------- */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void w3(long n, unsigned workers, int warm, size_t variant) {
  if (variant >= A.n_roundtrips) bench_die("no such W3 variant");
  const struct roundtrip *rt = &A.roundtrips[variant];
  double *lat = malloc(sizeof(double) * (size_t)n);
  if (!lat) bench_die("out of memory");
  ctx = A.init(workers);
  warmup(warm);
  if (warm)
    for (int i = 0; i < 1000; i++) rt->call(ctx, count_task, NULL);
  atomic_store(&counter, 0);
  target = -1;
  double start = now_ns();
  for (long i = 0; i < n; i++) {
    double t0 = now_ns();
    rt->call(ctx, count_task, NULL);
    lat[i] = now_ns() - t0;
  }
  double total = now_ns() - start;
  if (atomic_load(&counter) != n) bench_die("W3: a round trip returned before its task ran");
  A.shutdown(ctx);
  qsort(lat, (size_t)n, sizeof(double), cmp_double);
#define PCT(p) (lat[(size_t)((double)(n - 1) * (p))] / 1000.0)
  print_head("W3", n, workers);
  printf(",\"variant\":\"%s\",\"inline\":%s,\"median_us\":%.3f,\"p99_us\":%.3f,"
         "\"p10_us\":%.3f,\"p90_us\":%.3f,\"min_us\":%.3f,\"max_us\":%.3f,"
         "\"mean_us\":%.3f}\n",
         rt->label, rt->is_inline ? "true" : "false", PCT(0.5), PCT(0.99),
         PCT(0.1), PCT(0.9), lat[0] / 1000.0, lat[n - 1] / 1000.0,
         total / n / 1000.0);
  free(lat);
}

/* ---- W4: fan-out from a task ---------------------------------------- */

static long w4_children;

static void w4_root(void *arg) {
  (void)arg;
  for (long i = 0; i < w4_children; i++)
    A.spawn_from_task(ctx, count_task, NULL);
}

static void w4(long n, unsigned workers, int warm) {
  ctx = A.init(workers);
  warmup(warm);
  if (warm) { /* warm the from-task path too */
    w4_children = 10000;
    arm(w4_children);
    A.spawn(ctx, w4_root, NULL);
    wait_done();
  }
  w4_children = n;
  arm(n);
  double t0 = now_ns();
  A.spawn(ctx, w4_root, NULL);
  wait_done();
  double t1 = now_ns();
  A.shutdown(ctx);
  print_head("W4", n, workers);
  printf(",\"ns_per_child\":%.2f}\n", (t1 - t0) / n);
}

/* ---- M1: memory ----------------------------------------------------- */

static atomic_int blockers_started;
static sem_t gate;

static void blocker(void *arg) {
  (void)arg;
  atomic_fetch_add(&blockers_started, 1);
  while (sem_wait(&gate) != 0) {}
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {}
}

static void m1(long n, unsigned workers) {
  long rss_start = rss_bytes();
  ctx = A.init(workers);
  warmup(1); /* lazily started threads exist now */
  sleep_ms(100);
  long rss_idle = rss_bytes();

  unsigned blocked = A.task_threads(ctx);
  sem_init(&gate, 0, 0);
  for (unsigned i = 0; i < blocked; i++) A.spawn(ctx, blocker, NULL);
  for (int i = 0; i < 2000 && atomic_load(&blockers_started) < (int)blocked; i++)
    sleep_ms(1);
  int started = atomic_load(&blockers_started);
  sleep_ms(20);
  long rss_before = rss_bytes();
  arm(n);
  for (long i = 0; i < n; i++) A.spawn(ctx, count_task, NULL);
  sleep_ms(50); /* lets a dispatcher thread (libuv's loop) move what it has */
  long ran = atomic_load(&counter);
  long rss_after = rss_bytes();
  for (unsigned i = 0; i < blocked; i++) sem_post(&gate);
  wait_done();
  A.shutdown(ctx);
  long queued = n - ran;
  print_head("M1", n, workers);
  printf(",\"blocked_threads\":%u,\"blockers_started\":%d,\"queued\":%ld,"
         "\"bytes_per_task\":%.1f,\"idle_rss_kib\":%ld,\"idle_delta_kib\":%ld,"
         "\"rss_start_kib\":%ld}\n",
         blocked, started, queued,
         queued > 0 ? (double)(rss_after - rss_before) / (double)queued : -1.0,
         rss_idle / 1024, (rss_idle - rss_start) / 1024, rss_start / 1024);
}

/* ---- main ----------------------------------------------------------- */

static void usage(void) {
  fprintf(stderr,
          "usage: bench-%s list | W1|W2|W3|W4|M1 [-n N] [-v VARIANT] [-w WORKERS] "
          "[--no-warmup]\n",
          A.name);
  exit(64);
}

static void json_str(const char *s) {
  putchar('"');
  for (; s && *s; s++) {
    if (*s == '"' || *s == '\\') putchar('\\');
    putchar(*s);
  }
  putchar('"');
}

int main(int argc, char **argv) {
  if (argc < 2) usage();
  const char *wl = argv[1];
  long n = -1;
  unsigned workers = 2;
  size_t variant = 0;
  int warm = 1;
  for (int i = 2; i < argc; i++) {
    if (!strcmp(argv[i], "-n") && i + 1 < argc) n = atol(argv[++i]);
    else if (!strcmp(argv[i], "-v") && i + 1 < argc) variant = (size_t)atol(argv[++i]);
    else if (!strcmp(argv[i], "-w") && i + 1 < argc) workers = (unsigned)atoi(argv[++i]);
    else if (!strcmp(argv[i], "--no-warmup")) warm = 0;
    else usage();
  }
  sem_init(&done, 0, 0);
  setvbuf(stdout, NULL, _IOLBF, 0);

  if (!strcmp(wl, "list")) {
    printf("{\"system\":");
    json_str(A.name);
    printf(",\"api\":");
    json_str(A.api);
    printf(",\"version\":");
    json_str(A.version ? A.version() : "");
    printf(",\"variants\":[");
    for (size_t i = 0; i < A.n_roundtrips; i++) {
      printf("%s{\"index\":%zu,\"label\":", i ? "," : "", i);
      json_str(A.roundtrips[i].label);
      printf(",\"inline\":%s}", A.roundtrips[i].is_inline ? "true" : "false");
    }
    printf("]}\n");
  } else if (!strcmp(wl, "W1")) {
    w1(n < 0 ? 1000000 : n, workers, warm);
  } else if (!strcmp(wl, "W2")) {
    w2(n < 0 ? 1000000 : n, workers, warm);
  } else if (!strcmp(wl, "W3")) {
    w3(n < 0 ? 100000 : (n ? n : 1), workers, warm, variant);
  } else if (!strcmp(wl, "W4")) {
    w4(n < 0 ? 100000 : n, workers, warm);
  } else if (!strcmp(wl, "M1")) {
    m1(n < 0 ? 1000000 : n, workers);
  } else {
    usage();
  }
  return 0;
}
