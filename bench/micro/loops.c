/* loops.c — work posted from another thread and run on one thread that
 * owns an event loop, against libuv and GLib, in one process:
 *
 *   rtctx  rt_loop_spawn from the poster; the owner polls rt_loop_fd and
 *          calls rt_loop_run_pending
 *   libuv  the poster pushes (fn, arg) onto a mutex-guarded growable
 *          array and calls uv_async_send (sends coalesce); the async
 *          callback on the loop thread swaps the array out and runs it
 *   GLib   g_main_context_invoke from the poster onto a context the owner
 *          iterates (each call from another thread adds an idle source)
 *
 * L1: ns per job, from the first post to the owner having run all N
 * (default 1,000,000); the median of 5 runs.
 *
 *   build/bench/loops [N]
 */
#define _GNU_SOURCE
#include <glib.h>
#include <poll.h>
#include <pthread.h>
#include <rtctx.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <uv.h>

static long N = 1000000;
static long ran; /* touched on the owner only */

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void job(void *arg) { (void)arg, ran++; }

/* --- rtctx --------------------------------------------------------------- */

static void *rt_poster(void *l) {
  for (long i = 0; i < N; i++)
    while (rt_loop_spawn(l, job, NULL) != RT_OK) {}
  return NULL;
}

static double run_rtctx(void) {
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = 1;
  rt_runtime_t *rt = rt_new(&cfg);
  rt_handle_t *h = rt_handle(rt);
  rt_loop_t *l = rt_loop_new(h);
  ran = 0;
  pthread_t th;
  double t0 = now_ns();
  pthread_create(&th, NULL, rt_poster, l);
  struct pollfd p = {rt_loop_fd(l), POLLIN, 0};
  while (ran < N)
    if (poll(&p, 1, -1) > 0) (void)rt_loop_run_pending(l, SIZE_MAX);
  double t = (now_ns() - t0) / (double)N;
  pthread_join(th, NULL);
  (void)rt_loop_free(l);
  if (rt_shutdown(rt) != RT_OK) abort();
  rt_handle_release(h);
  return t;
}

/* --- libuv: uv_async_send + a queue ---------------------------------------- */

struct uv_job {
  void (*fn)(void *);
  void *arg;
};

static struct {
  pthread_mutex_t mu;
  struct uv_job *jobs; /* a growable array, swapped out whole by the drain */
  long n, cap;
  uv_async_t async;
} uvq = {PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0, {0}};

static void on_async(uv_async_t *a) {
  pthread_mutex_lock(&uvq.mu);
  struct uv_job *jobs = uvq.jobs;
  long n = uvq.n;
  uvq.jobs = NULL;
  uvq.n = uvq.cap = 0;
  pthread_mutex_unlock(&uvq.mu);
  for (long i = 0; i < n; i++) jobs[i].fn(jobs[i].arg);
  free(jobs);
  if (ran >= N) uv_close((uv_handle_t *)a, NULL);
}

static void *uv_poster(void *arg) {
  (void)arg;
  for (long i = 0; i < N; i++) {
    pthread_mutex_lock(&uvq.mu);
    if (uvq.n == uvq.cap) {
      uvq.cap = uvq.cap ? 2 * uvq.cap : 64;
      uvq.jobs = realloc(uvq.jobs, (size_t)uvq.cap * sizeof *uvq.jobs);
      if (uvq.jobs == NULL) abort();
    }
    uvq.jobs[uvq.n++] = (struct uv_job){job, NULL};
    pthread_mutex_unlock(&uvq.mu);
    uv_async_send(&uvq.async);
  }
  return NULL;
}

static double run_libuv(void) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  uv_async_init(&loop, &uvq.async, on_async);
  ran = 0;
  pthread_t th;
  double t0 = now_ns();
  pthread_create(&th, NULL, uv_poster, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  double t = (now_ns() - t0) / (double)N;
  pthread_join(th, NULL);
  uv_loop_close(&loop);
  return t;
}

/* --- GLib: g_main_context_invoke --------------------------------------------- */

static gboolean glib_job(gpointer data) {
  (void)data;
  ran++;
  return G_SOURCE_REMOVE;
}

static void *glib_poster(void *ctx) {
  for (long i = 0; i < N; i++) g_main_context_invoke(ctx, glib_job, NULL);
  return NULL;
}

static double run_glib(void) {
  GMainContext *ctx = g_main_context_new();
  g_main_context_acquire(ctx); /* this thread owns it: invokes from others queue */
  ran = 0;
  pthread_t th;
  double t0 = now_ns();
  pthread_create(&th, NULL, glib_poster, ctx);
  while (ran < N) g_main_context_iteration(ctx, TRUE);
  double t = (now_ns() - t0) / (double)N;
  pthread_join(th, NULL);
  g_main_context_release(ctx);
  g_main_context_unref(ctx);
  return t;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median5(double (*run)(void)) {
  double v[5];
  for (int i = 0; i < 5; i++) v[i] = run();
  qsort(v, 5, sizeof v[0], cmp);
  return v[2];
}

int main(int argc, char **argv) {
  if (argc > 1) N = atol(argv[1]);
  double r = median5(run_rtctx), u = median5(run_libuv), g = median5(run_glib);
  printf("L1 post from another thread, run on the loop's owner (ns/job, median of 5, N=%ld): "
         "rtctx %.1f, libuv uv_async_send+queue %.1f, GLib g_main_context_invoke %.1f\n",
         N, r, u, g);
  return 0;
}
