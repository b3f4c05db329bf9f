/* test-queue.c — queue_capacity: rt_spawn and rt_spawn_full get RT_EAGAIN
 * while the queue is full; timers and rt_block_on are never refused for it. */
#include "harness.h"

enum { CAP = 4 };

/* A full queue refuses rt_spawn and rt_spawn_full with RT_EAGAIN: nothing
 * queued, task_out untouched, fn and drop never called, counted in
 * `rejected`. Once the queue drains, spawns succeed again. */
TEST(queue_full_is_eagain) {
  rt_runtime_t *rt = make_rt(1, CAP);
  rt_handle_t *h = rt_handle(rt);
  blocker_t b;
  blocker_init(&b);
  blocker_start(h, &b); /* running, not queued */
  counter_t ok[CAP], refused;
  counter_init(&refused);
  for (int i = 0; i < CAP; i++) {
    counter_init(&ok[i]);
    CHECK_RC(rt_spawn_full(h, counter_call, &ok[i], counter_drop, NULL), RT_OK);
  }
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.queued, CAP);
  CHECK_EQ(s.rejected, 0);

  rt_task_t *sentinel = (rt_task_t *)(uintptr_t)0x5151, *t = sentinel;
  CHECK_RC(rt_spawn(h, counter_fn, &refused), RT_EAGAIN);
  CHECK_RC(rt_spawn_full(h, counter_call, &refused, counter_drop, &t), RT_EAGAIN);
  CHECK_PTR_EQ(t, sentinel);
  CHECK_RC(rt_spawn_full(h, counter_call, &refused, counter_drop, NULL), RT_EAGAIN);
  s = get_stats(h);
  CHECK_EQ(s.rejected, 3);
  CHECK_EQ(s.queued, CAP);
  CHECK_EQ(s.spawned, 1 + CAP);

  gate_open(&b.gate);
  for (int i = 0; i < CAP; i++)
    WAIT_UNTIL(atomic_load(&ok[i].ran) == 1);
  /* Drained: accepted again. */
  counter_t after;
  counter_init(&after);
  CHECK_RC(rt_spawn(h, counter_fn, &after), RT_OK);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&after.ran), 1);
  CHECK_EQ(atomic_load(&refused.ran), 0);
  CHECK_EQ(atomic_load(&refused.dropped), 0);
  for (int i = 0; i < CAP; i++)
    CHECK_EQ(atomic_load(&ok[i].dropped), 0);
  s = get_stats(h);
  CHECK_EQ(s.spawned, 2 + CAP);
  CHECK_EQ(s.completed, 2 + CAP);
  CHECK_EQ(s.rejected, 3);
  rt_handle_release(h);
}

struct bg_block_on {
  rt_handle_t *h;
  counter_t c;
  atomic_int rc;
};

static void *bg_block_on_main(void *arg) {
  struct bg_block_on *bb = arg;
  atomic_store(&bb->rc, rt_block_on(bb->h, counter_call, &bb->c, NULL));
  return NULL;
}

/* Timers (delay 0 too) and rt_block_on are not refused for a full queue,
 * and all of them run once the worker is free. */
TEST(queue_full_accepts_timers_and_block_on) {
  rt_runtime_t *rt = make_rt(1, CAP);
  rt_handle_t *h = rt_handle(rt);
  blocker_t b;
  blocker_init(&b);
  blocker_start(h, &b);
  counter_t fill[CAP];
  for (int i = 0; i < CAP; i++) {
    counter_init(&fill[i]);
    CHECK_RC(rt_spawn(h, counter_fn, &fill[i]), RT_OK);
  }
  counter_t probe;
  counter_init(&probe);
  CHECK_RC(rt_spawn(h, counter_fn, &probe), RT_EAGAIN); /* really full */

  counter_t tm[3];
  for (int i = 0; i < 3; i++)
    counter_init(&tm[i]);
  rt_task_t *t0 = NULL;
  CHECK_RC(rt_spawn_after(h, 0, counter_call, &tm[0], counter_drop, &t0), RT_OK);
  CHECK_RC(rt_spawn_after(h, 1000, counter_call, &tm[1], counter_drop, NULL), RT_OK);
  CHECK_RC(rt_spawn_after(h, 5 * MS, counter_call, &tm[2], counter_drop, NULL), RT_OK);

  struct bg_block_on bb;
  bb.h = h;
  counter_init(&bb.c);
  atomic_init(&bb.rc, 1);
  pthread_t th;
  CHECK_EQ(pthread_create(&th, NULL, bg_block_on_main, &bb), 0);
  /* 1 blocker + CAP + 3 timers + the block_on. */
  WAIT_UNTIL(get_stats(h).spawned == 1 + CAP + 3 + 1);
  sleep_ms(20); /* a refusing library would have returned by now */
  CHECK_EQ(atomic_load(&bb.rc), 1); /* still waiting, not refused */
  CHECK_EQ(get_stats(h).rejected, 1);

  gate_open(&b.gate);
  pthread_join(th, NULL);
  CHECK_RC(atomic_load(&bb.rc), RT_OK);
  CHECK_RC(rt_task_join(t0, -1, NULL), RT_OK);
  rt_task_release(t0);
  for (int i = 1; i < 3; i++)
    WAIT_UNTIL(atomic_load(&tm[i].ran) == 1);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&bb.c.ran), 1);
  for (int i = 0; i < 3; i++) {
    CHECK_EQ(atomic_load(&tm[i].ran), 1);
    CHECK_EQ(atomic_load(&tm[i].dropped), 0);
  }
  for (int i = 0; i < CAP; i++)
    CHECK_EQ(atomic_load(&fill[i].ran), 1);
  CHECK_EQ(atomic_load(&probe.ran), 0);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.rejected, 1);
  CHECK_EQ(s.spawned, s.completed + s.dropped);
  CHECK_EQ(s.dropped, 0);
  rt_handle_release(h);
}

/* A cancelled task is no longer queued: it does not hold a slot of the
 * bounded queue (stats.queued and the bound agree). */
TEST(queue_cancel_frees_capacity) {
  rt_runtime_t *rt = make_rt(1, 2);
  rt_handle_t *h = rt_handle(rt);
  blocker_t b;
  blocker_init(&b);
  blocker_start(h, &b);
  counter_t c[2], more[2];
  rt_task_t *t[2];
  for (int i = 0; i < 2; i++) {
    counter_init(&c[i]);
    counter_init(&more[i]);
    CHECK_RC(rt_spawn_full(h, counter_call, &c[i], counter_drop, &t[i]), RT_OK);
  }
  CHECK_RC(rt_spawn(h, counter_fn, &more[0]), RT_EAGAIN); /* full */
  for (int i = 0; i < 2; i++)
    CHECK_RC(rt_task_cancel(t[i]), RT_OK);
  CHECK_EQ(get_stats(h).queued, 0);
  /* Nothing is queued any more: room for two again. */
  for (int i = 0; i < 2; i++)
    CHECK_RC(rt_spawn(h, counter_fn, &more[i]), RT_OK);
  gate_open(&b.gate);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  for (int i = 0; i < 2; i++) {
    CHECK_EQ(atomic_load(&c[i].ran), 0);
    CHECK_EQ(atomic_load(&c[i].dropped), 1);
    CHECK_EQ(atomic_load(&more[i].ran), 1);
    rt_task_release(t[i]);
  }
  rt_handle_release(h);
}

/* Capacity 1, filled and drained many times: the count of queued tasks
 * never leaks, so the bound stays exactly 1. */
TEST(queue_capacity_one_cycles) {
  rt_runtime_t *rt = make_rt(1, 1);
  rt_handle_t *h = rt_handle(rt);
  for (int round = 0; round < 30; round++) {
    blocker_t b;
    blocker_init(&b);
    blocker_start(h, &b);
    counter_t c, r;
    counter_init(&c);
    counter_init(&r);
    CHECK_RC(rt_spawn(h, counter_fn, &c), RT_OK);
    CHECK_RC(rt_spawn(h, counter_fn, &r), RT_EAGAIN);
    gate_open(&b.gate);
    WAIT_UNTIL(atomic_load(&c.ran) == 1);
    WAIT_UNTIL(get_stats(h).queued == 0);
    CHECK_EQ(atomic_load(&r.ran), 0);
    gate_destroy(&b.gate);
  }
  CHECK_EQ(get_stats(h).rejected, 30);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, 60);
  CHECK_EQ(s.completed, 60);
  rt_handle_release(h);
}

static atomic_int bumped;

static void bump(void *arg) {
  (void)arg;
  atomic_fetch_add(&bumped, 1);
}

/* queue_capacity 0 is unbounded. */
TEST(queue_unbounded_by_default) {
  enum { N = 20000 };
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  blocker_t b;
  blocker_init(&b);
  blocker_start(h, &b);
  for (int i = 0; i < N; i++)
    CHECK_RC(rt_spawn(h, bump, NULL), RT_OK);
  CHECK_EQ(get_stats(h).queued, N);
  gate_open(&b.gate);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&bumped), N);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.completed, N + 1);
  CHECK_EQ(s.rejected, 0);
  rt_handle_release(h);
}
