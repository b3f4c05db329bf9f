/*
 * uv_results.c: workers compute, results come back to a libuv loop's
 * thread through rt_loop_fd(), watched by a uv_poll_t. No lock touches
 * the program's state: only the libuv thread (the rtctx loop's owner)
 * reads and writes it, in the completions rt_spawn_then() posts there.
 *
 *   cc uv_results.c $(pkg-config --cflags --libs rtctx libuv)
 *
 * `make check-examples` builds and runs it when pkg-config finds libuv.
 */
#define _GNU_SOURCE /* uv.h needs POSIX types beyond C11 */
#include <rtctx.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

enum { JOBS = 1000 };

/* Owned by the libuv thread. */
static struct {
  rt_loop_t *results;
  uv_poll_t watcher;
  int done;
  uint64_t sum;
} app;

static void *square(void *n) { /* on a worker */
  uintptr_t v = (uintptr_t)n;
  return (void *)(v * v);
}

static void on_result(void *arg, int status, void *result) { /* on the libuv thread */
  (void)arg;
  if (status == RT_OK) app.sum += (uintptr_t)result;
  if (++app.done == JOBS) {
    uv_poll_stop(&app.watcher); /* nothing left: uv_run returns */
    uv_close((uv_handle_t *)&app.watcher, NULL);
  }
}

static void on_readable(uv_poll_t *w, int status, int events) {
  (void)w, (void)events;
  if (status == 0) (void)rt_loop_run_pending(app.results, SIZE_MAX);
}

int main(void) {
  rt_runtime_t *rt = rt_new(NULL);
  rt_handle_t *h = rt_handle(rt);
  app.results = rt_loop_new(h); /* this thread owns it */
  if (app.results == NULL) return 1;
  uv_loop_t *uv = uv_default_loop();
  uv_poll_init(uv, &app.watcher, rt_loop_fd(app.results));
  uv_poll_start(&app.watcher, UV_READABLE, on_readable);

  rt_completion_t back = {sizeof back, on_result, NULL, app.results, NULL, NULL};
  for (uintptr_t i = 1; i <= JOBS; i++)
    if (rt_spawn_then(h, square, (void *)i, NULL, &back, NULL) != RT_OK) return 1;
  uv_run(uv, UV_RUN_DEFAULT);

  uint64_t want = (uint64_t)JOBS * (JOBS + 1) * (2 * JOBS + 1) / 6;
  printf("uv_results: %d results on the libuv thread, sum of squares %llu (want %llu)\n", app.done,
         (unsigned long long)app.sum, (unsigned long long)want);
  int ok = app.done == JOBS && app.sum == want;
  ok &= rt_loop_free(app.results) == RT_OK;
  ok &= rt_shutdown(rt) == RT_OK;
  rt_handle_release(h);
  uv_loop_close(uv);
  return ok ? 0 : 1;
}
