/*
 * heartbeat.c — a repeating timer: a heartbeat on a fixed grid, and a
 * watchdog that fires only when the work stops feeding it.
 *
 *   1. The heartbeat (rt_timer_start with a period) beats every 20 ms on
 *      start + k * 20 ms: a slow beat does not push the later ones back
 *      (re-arming by hand from each callback would drift), and a beat
 *      that is late by more than a period is skipped, not made up twice.
 *   2. The watchdog is fed by each job with rt_timer_again: while jobs
 *      come often enough it never fires; when they stop, it fires once
 *      and stops the heartbeat from its own callback.
 *   3. rt_timer_free hands each timer's state to its drop callback once
 *      the last callback returned.
 *
 * Output (the beat count may vary with the machine's load):
 *   heartbeat: beats while 10 jobs ran: yes
 *   watchdog: no job for 50 ms: stopping the heartbeat
 *   heartbeat: N beats, 0 skipped; each one on the 20 ms grid
 *   shut down
 *
 * Build: cc -std=c11 -Iinclude examples-c/heartbeat.c -Lbuild/lib -lrtctx \
 *          -Wl,-rpath,$PWD/build/lib -o heartbeat
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "rtctx.h"

#define MS UINT64_C(1000000)

static void check(int rc, const char *what) {
  if (rc != RT_OK) {
    fprintf(stderr, "%s: %s\n", what, rt_strerror(rc));
    exit(1);
  }
}

static void sleep_ms(unsigned ms) {
  struct timespec ts = {0, (long)ms * 1000000L};
  nanosleep(&ts, NULL);
}

struct service {
  rt_timer_t *heartbeat, *watchdog;
  atomic_uint beats;
  atomic_bool off_grid; /* a beat whose scheduled time was not on the grid */
  atomic_bool stopped;
};

static void beat(void *arg) {
  struct service *s = arg;
  rt_timer_info_t info;
  info.size = sizeof info;
  check(rt_timer_get_info(s->heartbeat, &info), "rt_timer_get_info");
  /* Beat k (counting the skipped ones) was due at start + k * period. */
  uint64_t k = info.fired + info.skipped - 1;
  if (info.last_due_ns != info.start_ns + k * info.period_ns)
    atomic_store(&s->off_grid, true);
  atomic_fetch_add(&s->beats, 1);
}

static void starved(void *arg) {
  struct service *s = arg;
  printf("watchdog: no job for 50 ms: stopping the heartbeat\n");
  (void)rt_timer_stop(s->heartbeat); /* from another timer's callback */
  atomic_store(&s->stopped, true);
}

static void *job(void *arg) {
  struct service *s = arg;
  check(rt_timer_again(s->watchdog), "rt_timer_again"); /* fed: 50 ms more */
  return NULL;
}

static void free_service(void *arg) { free(arg); }

int main(void) {
  rt_runtime_t *rt = rt_new(NULL);
  if (rt == NULL)
    return 1;
  rt_handle_t *h = rt_handle(rt);
  struct service *s = calloc(1, sizeof *s);
  if (s == NULL)
    return 1;
  s->heartbeat = rt_timer_new(h, beat, s, NULL);
  s->watchdog = rt_timer_new(h, starved, s, free_service); /* frees s, last */
  if (s->heartbeat == NULL || s->watchdog == NULL)
    return 1;
  check(rt_timer_start(s->heartbeat, 20 * MS, 20 * MS), "rt_timer_start");
  check(rt_timer_start(s->watchdog, 50 * MS, 50 * MS), "rt_timer_start");

  /* Ten jobs, 10 ms apart: each feeds the watchdog. */
  for (int i = 0; i < 10; i++) {
    rt_task_t *t;
    check(rt_spawn_full(h, job, s, NULL, &t), "rt_spawn_full");
    check(rt_task_join(t, -1, NULL), "rt_task_join");
    rt_task_release(t);
    sleep_ms(10);
  }
  printf("heartbeat: beats while 10 jobs ran: %s\n", atomic_load(&s->beats) > 0 ? "yes" : "none");
  while (!atomic_load(&s->stopped))
    sleep_ms(5);
  (void)rt_timer_stop(s->watchdog);

  rt_timer_info_t info;
  info.size = sizeof info;
  check(rt_timer_get_info(s->heartbeat, &info), "rt_timer_get_info");
  printf("heartbeat: %u beats, %llu skipped; %s\n", atomic_load(&s->beats),
         (unsigned long long)info.skipped,
         atomic_load(&s->off_grid) ? "SOME OFF THE GRID" : "each one on the 20 ms grid");
  int off = atomic_load(&s->off_grid);
  rt_timer_free(s->heartbeat);
  rt_timer_free(s->watchdog); /* free_service(s) runs here */
  rt_handle_release(h);
  check(rt_shutdown(rt), "rt_shutdown");
  printf("shut down\n");
  return off;
}
