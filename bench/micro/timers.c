/* timers.c — the cost of setting a one-hour timer and cancelling it, the
 * commonest timer pattern (a timeout armed around an operation that ends
 * first), against libuv and libdispatch, in one process:
 *
 *   rtctx        rt_spawn_after + rt_task_cancel + rt_task_release (2 workers)
 *   libuv        uv_timer_start + uv_timer_stop on a handle initialised once,
 *                on a loop that is not running (as a loop callback would)
 *   libdispatch  dispatch_source_create (a timer source on a global queue)
 *                + dispatch_source_set_timer + dispatch_resume
 *                + dispatch_source_cancel + dispatch_release
 *
 *   T0    ns per set+cancel with no other timer pending
 *   T10k  the same with 10,000 two-hour timers pending, so that the new
 *         timer, due first, goes to the top of the heap and is taken out
 *         from there (O(log n) each way in rtctx and libuv)
 *
 * Each row is the median of 5 runs of N cycles (default 1,000,000).
 *
 *   TR    a repeating timer, period 1 ms, REPS firings: CPU time of the
 *         whole process per firing (the firing thread and any worker that
 *         woke or spun for it), and how late the firings ran (median):
 *         rtctx rt_timer_start with a period, libuv uv_timer_start with a
 *         repeat on a running loop, libdispatch a timer source with an
 *         interval (leeway 0). Median of 5 runs.
 *
 *   build/bench/timers [N]
 */
#define _GNU_SOURCE
#include <dispatch/dispatch.h>
#include <rtctx.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <semaphore.h>
#include <time.h>
#include <uv.h>

#define HOUR_NS (3600ull * 1000000000ull)

static long N = 1000000;
static int pending; /* other timers pending during a run */

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void *never(void *arg) {
  fprintf(stderr, "timers: a one-hour timer fired\n");
  abort();
  return arg;
}

/* --- rtctx ------------------------------------------------------------- */

static rt_handle_t *H;

static double run_rtctx(void) {
  rt_task_t **others = calloc((size_t)pending + 1, sizeof *others);
  for (int i = 0; i < pending; i++)
    if (rt_spawn_after(H, 2 * HOUR_NS + (uint64_t)i, never, NULL, NULL, &others[i]) != RT_OK)
      abort();
  double t0 = now_ns();
  for (long i = 0; i < N; i++) {
    rt_task_t *t;
    if (rt_spawn_after(H, HOUR_NS, never, NULL, NULL, &t) != RT_OK || rt_task_cancel(t) != RT_OK)
      abort();
    rt_task_release(t);
  }
  double ns = (now_ns() - t0) / (double)N;
  for (int i = 0; i < pending; i++) {
    if (rt_task_cancel(others[i]) != RT_OK)
      abort();
    rt_task_release(others[i]);
  }
  free(others);
  return ns;
}

/* --- libuv ------------------------------------------------------------- */

static uv_loop_t loop;

static void uv_never(uv_timer_t *t) { (void)never(t); }

static double run_libuv(void) {
  uv_timer_t *others = calloc((size_t)pending + 1, sizeof *others);
  for (int i = 0; i < pending; i++) {
    uv_timer_init(&loop, &others[i]);
    uv_timer_start(&others[i], uv_never, 2 * 3600 * 1000 + (uint64_t)i, 0);
  }
  uv_timer_t t;
  uv_timer_init(&loop, &t);
  double t0 = now_ns();
  for (long i = 0; i < N; i++) {
    uv_timer_start(&t, uv_never, 3600 * 1000, 0);
    uv_timer_stop(&t);
  }
  double ns = (now_ns() - t0) / (double)N;
  uv_close((uv_handle_t *)&t, NULL);
  for (int i = 0; i < pending; i++)
    uv_close((uv_handle_t *)&others[i], NULL);
  uv_run(&loop, UV_RUN_NOWAIT); /* runs the close callbacks */
  free(others);
  return ns;
}

/* --- libdispatch ------------------------------------------------------- */

static void dispatch_never(void *ctx) { (void)never(ctx); }

static dispatch_source_t dispatch_timer(dispatch_queue_t q, uint64_t delay_ns) {
  dispatch_source_t s = dispatch_source_create(DISPATCH_SOURCE_TYPE_TIMER, 0, 0, q);
  dispatch_source_set_event_handler_f(s, dispatch_never);
  dispatch_source_set_timer(s, dispatch_time(DISPATCH_TIME_NOW, (int64_t)delay_ns),
                            DISPATCH_TIME_FOREVER, 0);
  dispatch_resume(s);
  return s;
}

static double run_dispatch(void) {
  dispatch_queue_t q = dispatch_get_global_queue(DISPATCH_QUEUE_PRIORITY_DEFAULT, 0);
  dispatch_source_t *others = calloc((size_t)pending + 1, sizeof *others);
  for (int i = 0; i < pending; i++)
    others[i] = dispatch_timer(q, 2 * HOUR_NS + (uint64_t)i);
  double t0 = now_ns();
  for (long i = 0; i < N; i++) {
    dispatch_source_t s = dispatch_timer(q, HOUR_NS);
    dispatch_source_cancel(s);
    dispatch_release(s);
  }
  double ns = (now_ns() - t0) / (double)N;
  for (int i = 0; i < pending; i++) {
    dispatch_source_cancel(others[i]);
    dispatch_release(others[i]);
  }
  free(others);
  return ns;
}

/* --- repeating timers: CPU per firing ---------------------------------- */

enum { REPS = 300 };
static const uint64_t PERIOD_NS = 1000000;
static double lateness[1];
static int fired;
static double started_at;
static sem_t done;

static double cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* How far the REPS-th firing is from start + REPS * period (all three
 * start with a first delay of one period): a timer re-armed from its
 * callback drifts by its lateness at every firing; one on a grid does not
 * (an rtctx firing skipped because it was late moves the last one a
 * period later, and is counted). */
static void note_firing(void) {
  fired++;
  if (fired == REPS)
    lateness[0] = now_ns() - (started_at + (double)REPS * (double)PERIOD_NS);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median_of(double *v, int n) {
  qsort(v, (size_t)n, sizeof v[0], cmp_double);
  return v[n / 2];
}

static rt_timer_t *rep_timer;
static void rt_tick(void *arg) {
  (void)arg;
  note_firing();
  if (fired == REPS) {
    (void)rt_timer_stop(rep_timer);
    sem_post(&done);
  }
}

static uv_timer_t uv_rep;
static void uv_tick(uv_timer_t *t) {
  note_firing();
  if (fired == REPS)
    uv_timer_stop(t);
}

static dispatch_source_t disp_rep;
static void disp_tick(void *ctx) {
  (void)ctx;
  note_firing();
  if (fired == REPS) {
    dispatch_source_cancel(disp_rep);
    sem_post(&done);
  }
}

static double last_lateness;

static double repeat_rtctx(void) {
  fired = 0;
  rep_timer = rt_timer_new(H, rt_tick, NULL, NULL);
  double c0 = cpu_ns();
  started_at = now_ns();
  if (rep_timer == NULL || rt_timer_start(rep_timer, PERIOD_NS, PERIOD_NS) != RT_OK)
    abort();
  sem_wait(&done);
  double cpu = (cpu_ns() - c0) / REPS;
  rt_timer_free(rep_timer);
  last_lateness = lateness[0];
  return cpu;
}

static double repeat_libuv(void) {
  fired = 0;
  uv_timer_init(&loop, &uv_rep);
  double c0 = cpu_ns();
  uv_update_time(&loop);
  started_at = now_ns();
  uv_timer_start(&uv_rep, uv_tick, PERIOD_NS / 1000000, PERIOD_NS / 1000000);
  uv_run(&loop, UV_RUN_DEFAULT);
  double cpu = (cpu_ns() - c0) / REPS;
  uv_close((uv_handle_t *)&uv_rep, NULL);
  uv_run(&loop, UV_RUN_NOWAIT);
  last_lateness = lateness[0];
  return cpu;
}

static double repeat_dispatch(void) {
  fired = 0;
  dispatch_queue_t q = dispatch_get_global_queue(DISPATCH_QUEUE_PRIORITY_DEFAULT, 0);
  disp_rep = dispatch_source_create(DISPATCH_SOURCE_TYPE_TIMER, 0, 0, q);
  dispatch_source_set_event_handler_f(disp_rep, disp_tick);
  double c0 = cpu_ns();
  started_at = now_ns();
  dispatch_source_set_timer(disp_rep, dispatch_time(DISPATCH_TIME_NOW, (int64_t)PERIOD_NS),
                            PERIOD_NS, 0);
  dispatch_resume(disp_rep);
  sem_wait(&done);
  double cpu = (cpu_ns() - c0) / REPS;
  dispatch_release(disp_rep);
  last_lateness = lateness[0];
  return cpu;
}

/* Median CPU per firing over 5 runs, and the lateness of that run. */
static double repeat5(double (*run)(void), double *late) {
  double cpu[5], lat[5];
  for (int i = 0; i < 5; i++) {
    cpu[i] = run();
    lat[i] = last_lateness;
  }
  double sorted[5];
  for (int i = 0; i < 5; i++)
    sorted[i] = cpu[i];
  double m = median_of(sorted, 5);
  for (int i = 0; i < 5; i++)
    if (cpu[i] == m)
      *late = lat[i];
  return m;
}

/* --- the table ---------------------------------------------------------- */

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median5(double (*run)(void)) {
  double t[5];
  for (int i = 0; i < 5; i++)
    t[i] = run();
  qsort(t, 5, sizeof t[0], cmp);
  return t[2];
}

int main(int argc, char **argv) {
  if (argc > 1)
    N = atol(argv[1]);
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = 2;
  rt_runtime_t *rt = rt_new(&cfg);
  if (rt == NULL)
    return 1;
  H = rt_handle(rt);
  if (uv_loop_init(&loop) != 0)
    return 1;
  /* First, while no other row's timers or sources are being torn down. */
  sem_init(&done, 0, 0);
  double rl, ul, dl;
  double rc = repeat5(repeat_rtctx, &rl), uc = repeat5(repeat_libuv, &ul),
         dc = repeat5(repeat_dispatch, &dl);
  printf("TR    rtctx rt_timer repeat %6.0f ns CPU/firing (drift %6.2f ms over %d) | libuv "
         "uv_timer repeat %6.0f (drift %6.2f ms) | libdispatch timer source %6.0f (drift %6.2f ms) "
         "| rtctx/libuv %.2f | rtctx/libdispatch %.2f\n",
         rc, rl / 1e6, REPS, uc, ul / 1e6, dc, dl / 1e6, rc / uc, rc / dc);
  static const int rows[] = {0, 10000};
  for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
    pending = rows[r];
    double rtctx = median5(run_rtctx);
    double uv = median5(run_libuv);
    double disp = median5(run_dispatch);
    printf("%-5s rtctx set+cancel %6.1f ns | libuv start+stop %6.1f | libdispatch source "
           "create+resume+cancel %6.1f | rtctx/libuv %.2f | rtctx/libdispatch %.2f\n",
           pending ? "T10k" : "T0", rtctx, uv, disp, rtctx / uv, rtctx / disp);
  }
  rt_stats_t s;
  s.size = sizeof s;
  if (rt_stats_get(H, &s) != RT_OK || s.timers != 0)
    return 1;
  if (rt_shutdown(rt) != RT_OK)
    return 1;
  rt_handle_release(H);
  return uv_loop_close(&loop) == 0 ? 0 : 1;
}
