/*
 * driver.c — the workloads of the rtctx benchmark, the same for every system.
 *
 *   bench-<system> list                 adapter facts and W3 variants (JSON)
 *   bench-<system> W1 [-n N]            one outside thread posts N tasks
 *   bench-<system> W2 [-n N]            four outside threads post N/4 each
 *   bench-<system> W3 [-n N] [-v I]     N sequential round trips, variant I
 *   bench-<system> W4 [-n N]            a task posts N children
 *   bench-<system> M1 [-n N]            bytes per queued task, idle RSS
 *   bench-<system> W5 [-n N] [-v I]     a paced mixed stream, variant I: 1 task
 *                                       in 10 sleeps 1 ms, the rest spin 3 µs
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
#include <sys/prctl.h>
#include <sys/resource.h>
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

/* The process's threads now (/proc/self/status), -1 if unknown. */
static long thread_count(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long n = -1;
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "Threads: %ld", &n) == 1) break;
  fclose(f);
  return n;
}

/* CPU time of the whole process so far, user + system, in seconds. */
static double cpu_seconds(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return -1;
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
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

/* ---- W5: a mixed stream, some of it blocking -------------------------
 *
 * One outside thread offers N tasks at a fixed rate: a batch of
 * W5_BATCH every W5_TICK_NS (100,000 tasks/s), on absolute deadlines, so a
 * late batch is followed at once by the next one. The first task of each
 * batch, 1 in 10, blocks: nanosleep for 1 ms. The others spin for 3 µs.
 * Open loop on purpose: a system that keeps up shows the offered rate as
 * its throughput and its scheduling in the latencies; one whose workers
 * sit in the sleeps falls behind, and its backlog shows in both.
 *
 * Latency is from submission (the clock read just before the post call)
 * to the task's start (its first clock read), for every task; the row
 * compares the short tasks' p99. Throughput is N / (first submission to
 * last completion). */

#define W5_BATCH 10
#define W5_TICK_NS 100000L
#define W5_SHORT_NS 3000.0
#define W5_SLEEP_NS 1000000L

static double *w5_submit, *w5_start;
static void (*w5_begin)(void), (*w5_end)(void);

static void w5_finish(void) {
  long v = atomic_fetch_add_explicit(&counter, 1, memory_order_acq_rel) + 1;
  if (v == target) sem_post(&done);
}

static void w5_short(void *arg) {
  double t = now_ns();
  w5_start[(intptr_t)arg] = t;
  while (now_ns() - t < W5_SHORT_NS) {}
  w5_finish();
}

static void w5_blocking(void *arg) {
  w5_start[(intptr_t)arg] = now_ns();
  if (w5_begin) w5_begin();
  struct timespec ts = {0, W5_SLEEP_NS};
  while (nanosleep(&ts, &ts) != 0) {}
  if (w5_end) w5_end();
  w5_finish();
}

static double pct(const double *sorted, size_t n, double p) {
  return n ? sorted[(size_t)((double)(n - 1) * p)] / 1000.0 : -1.0;
}

static void w5(long n, unsigned workers, int warm, size_t variant) {
  if (variant >= A.n_mixed) bench_die("no such W5 variant");
  const struct mixed *m = &A.mixed[variant];
  n -= n % W5_BATCH;
  if (n <= 0) n = W5_BATCH;
  w5_submit = malloc(sizeof(double) * (size_t)n);
  w5_start = malloc(sizeof(double) * (size_t)n);
  double *s_lat = malloc(sizeof(double) * (size_t)n);
  double *b_lat = malloc(sizeof(double) * (size_t)n);
  if (!w5_submit || !w5_start || !s_lat || !b_lat) bench_die("out of memory");
  w5_begin = m->region_begin;
  w5_end = m->region_end;
  /* Wake-ups of the pacing sleep within 1 µs, not the default 50 µs. */
  prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
  ctx = A.init(workers);
  warmup(warm);
  arm(n);
  struct timespec tick;
  clock_gettime(CLOCK_MONOTONIC, &tick);
  double cpu0 = cpu_seconds();
  double t0 = now_ns(), max_late = 0;
  for (long i = 0; i < n; i += W5_BATCH) {
    double late = now_ns() - ((double)tick.tv_sec * 1e9 + (double)tick.tv_nsec);
    if (late > max_late) max_late = late;
    for (long j = i; j < i + W5_BATCH; j++) {
      w5_submit[j] = now_ns();
      if (j == i) m->spawn_blocking(ctx, w5_blocking, (void *)(intptr_t)j);
      else m->spawn_short(ctx, w5_short, (void *)(intptr_t)j);
    }
    tick.tv_nsec += W5_TICK_NS;
    if (tick.tv_nsec >= 1000000000L) tick.tv_sec++, tick.tv_nsec -= 1000000000L;
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &tick, NULL) == EINTR) {}
  }
  double t1 = now_ns();
  wait_done();
  double t2 = now_ns();
  double cpu = cpu_seconds() - cpu0;
  size_t ns = 0, nb = 0;
  for (long i = 0; i < n; i++) {
    double l = w5_start[i] - w5_submit[i];
    if (i % W5_BATCH == 0) b_lat[nb++] = l;
    else s_lat[ns++] = l;
  }
  qsort(s_lat, ns, sizeof(double), cmp_double);
  qsort(b_lat, nb, sizeof(double), cmp_double);
  print_head("W5", n, workers);
  printf(",\"variant\":\"%s\",\"informative\":%s,\"tasks_per_s\":%.0f,"
         "\"offered_per_s\":%.0f,\"short_p50_us\":%.2f,\"short_p99_us\":%.2f,"
         "\"short_p999_us\":%.2f,\"short_max_us\":%.2f,\"blocking_p50_us\":%.2f,"
         "\"blocking_p99_us\":%.2f,\"submit_max_late_us\":%.1f,\"wall_run_s\":%.3f,\"cpu_s\":%.3f,\"threads_at_end\":%ld",
         m->label, m->informative ? "true" : "false", (double)n / ((t2 - t0) / 1e9),
         (double)n / ((t1 - t0) / 1e9), pct(s_lat, ns, 0.5), pct(s_lat, ns, 0.99),
         pct(s_lat, ns, 0.999), pct(s_lat, ns, 1.0), pct(b_lat, nb, 0.5),
         pct(b_lat, nb, 0.99), max_late / 1000.0, (t2 - t0) / 1e9, cpu, thread_count());
  if (A.mixed_facts) A.mixed_facts(ctx);
  printf("}\n");
  A.shutdown(ctx);
  free(w5_submit);
  free(w5_start);
  free(s_lat);
  free(b_lat);
}

/* ---- main ----------------------------------------------------------- */

static void usage(void) {
  fprintf(stderr,
          "usage: bench-%s list | W1|W2|W3|W4|W5|M1 [-n N] [-v VARIANT] [-w WORKERS] "
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
    printf("],\"mixed\":[");
    for (size_t i = 0; i < A.n_mixed; i++) {
      printf("%s{\"index\":%zu,\"label\":", i ? "," : "", i);
      json_str(A.mixed[i].label);
      printf(",\"informative\":%s}", A.mixed[i].informative ? "true" : "false");
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
  } else if (!strcmp(wl, "W5")) {
    w5(n < 0 ? 100000 : n, workers, warm, variant);
  } else if (!strcmp(wl, "M1")) {
    m1(n < 0 ? 1000000 : n, workers);
  } else {
    usage();
  }
  return 0;
}
