/*
 * timer_callbacks.c — POSIX timers whose SIGEV_THREAD notifications post
 * work onto a runtime.
 *
 * A SIGEV_THREAD timer calls its notify function on a thread that the C
 * library starts: a foreign thread, outside any runtime. This API does
 * carry user data (`union sigval`), so no trampoline is needed: the sigval
 * carries a pointer to the timer's context, which holds an rt_handle_t, and
 * the notify function only does rt_spawn — the work itself runs on the
 * runtime's workers, where rt_handle_current() is the runtime.
 * (For callbacks without user data, see sort_compare.c and tree_hash.c.)
 *
 * Two periodic timers tick until each has posted its quota; then they are
 * deleted and the runtime is shut down, which runs every posted tick.
 *
 * Output:
 *   fast timer: 10 ticks posted from timer threads, 10 ran on the runtime
 *   slow timer: 4 ticks posted from timer threads, 4 ran on the runtime
 *   runtime: 14 tasks spawned, 14 completed
 */
#define _POSIX_C_SOURCE 200809L /* timer_create, SIGEV_THREAD, nanosleep */

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "rtctx.h"

struct ticker {
  const char *name;
  int quota;             /* ticks to post */
  long period_ns;
  rt_handle_t *runtime;  /* where the ticks run */
  timer_t timer;
  atomic_int notified;   /* notifications received (a timer may overrun) */
  atomic_int posted;
  atomic_int ran;
  atomic_int off_runtime; /* ticks that did not run on the runtime */
  atomic_int refused;
};

/* The task: runs on a worker. */
static void tick(void *arg) {
  struct ticker *t = arg;
  if (rt_handle_current() != t->runtime)
    atomic_fetch_add(&t->off_runtime, 1);
  atomic_fetch_add(&t->ran, 1);
}

/* The notify function: runs on a thread the C library created. Past its
 * quota it touches nothing but the counter, so once every posted tick ran,
 * no late notification can use the handle. */
static void on_timer(union sigval value) {
  struct ticker *t = value.sival_ptr;
  if (atomic_fetch_add(&t->notified, 1) >= t->quota)
    return;
  if (rt_spawn(t->runtime, tick, t) == RT_OK)
    atomic_fetch_add(&t->posted, 1);
  else
    atomic_fetch_add(&t->refused, 1);
}

static bool start_timer(struct ticker *t) {
  struct sigevent ev = {0};
  ev.sigev_notify = SIGEV_THREAD;
  ev.sigev_notify_function = on_timer;
  ev.sigev_value.sival_ptr = t; /* the context, with its runtime handle */
  if (timer_create(CLOCK_MONOTONIC, &ev, &t->timer) != 0) {
    perror("timer_create");
    return false;
  }
  struct itimerspec spec = {
      .it_interval = {0, t->period_ns},
      .it_value = {0, t->period_ns},
  };
  if (timer_settime(t->timer, 0, &spec, NULL) != 0) {
    perror("timer_settime");
    return false;
  }
  return true;
}

static bool quota_done(struct ticker *t) {
  return atomic_load(&t->posted) + atomic_load(&t->refused) >= t->quota &&
         atomic_load(&t->ran) >= atomic_load(&t->posted);
}

int main(void) {
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = 2;
  rt_runtime_t *rt = rt_new(&cfg);
  if (rt == NULL) {
    fprintf(stderr, "rt_new failed\n");
    return 1;
  }
  rt_handle_t *h = rt_handle(rt);

  static struct ticker fast = {.name = "fast", .quota = 10, .period_ns = 2000000};
  static struct ticker slow = {.name = "slow", .quota = 4, .period_ns = 5000000};
  struct ticker *tickers[2] = {&fast, &slow};
  for (int i = 0; i < 2; i++) {
    /* Each timer's context holds its own handle reference. */
    tickers[i]->runtime = rt_handle_clone(h);
    if (!start_timer(tickers[i]))
      return 1;
  }

  /* Wait for both quotas (about 20 ms); give up after 2 s. */
  struct timespec ms = {0, 1000000};
  for (int waited = 0; !(quota_done(&fast) && quota_done(&slow)); waited++) {
    if (waited == 2000) {
      fprintf(stderr, "timers did not deliver their quota in 2 s\n");
      return 1;
    }
    nanosleep(&ms, NULL);
  }
  for (int i = 0; i < 2; i++)
    timer_delete(tickers[i]->timer);

  int rc = rt_shutdown(rt);
  rt_stats_t stats = {.size = sizeof stats};
  if (rc == RT_OK)
    rc = rt_stats_get(h, &stats);
  if (rc != RT_OK) {
    fprintf(stderr, "shutdown: %s\n", rt_strerror(rc));
    return 1;
  }

  int failed = 0;
  for (int i = 0; i < 2; i++) {
    struct ticker *t = tickers[i];
    printf("%s timer: %d ticks posted from timer threads, %d ran on the runtime\n", t->name,
           atomic_load(&t->posted), atomic_load(&t->ran) - atomic_load(&t->off_runtime));
    if (atomic_load(&t->posted) != t->quota || atomic_load(&t->ran) != t->quota ||
        atomic_load(&t->off_runtime) != 0 || atomic_load(&t->refused) != 0)
      failed = 1;
  }
  printf("runtime: %llu tasks spawned, %llu completed\n", (unsigned long long)stats.spawned,
         (unsigned long long)stats.completed);
  if (stats.spawned != (uint64_t)(fast.quota + slow.quota) || stats.completed != stats.spawned)
    failed = 1;

  /* Past their quota the notify functions no longer touch the handles. */
  for (int i = 0; i < 2; i++)
    rt_handle_release(tickers[i]->runtime);
  rt_handle_release(h);
  if (failed)
    fprintf(stderr, "timer_callbacks: FAILED\n");
  return failed;
}
