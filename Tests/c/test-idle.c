/* test-idle.c — the idle worker's search, bounded by time (Worker.swift,
 * searchBriefly): work that comes at any moment of a worker's way from
 * its last job to its sleep (searching, the time running out, parking,
 * asleep) is still found. The gaps straddle the search window (tens of
 * microseconds) and reach well past it; nothing here measures speed. */
#include "harness.h"

static const unsigned gaps_us[] = {0, 5, 20, 40, 50, 60, 80, 150, 400, 2000};
enum { GAPS = sizeof gaps_us / sizeof gaps_us[0], ROUNDS = 20 };

/* A spawn from outside after each gap runs. */
TEST(idle_spawn_after_any_gap_runs) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  counter_t c;
  counter_init(&c);
  int want = 0;
  for (int r = 0; r < ROUNDS; r++) {
    for (int g = 0; g < GAPS; g++) {
      sleep_us(gaps_us[g]);
      CHECK_RC(rt_spawn(h, counter_fn, &c), RT_OK);
      want++;
      WAIT_UNTIL(atomic_load(&c.ran) == want);
    }
  }
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&c.ran), want);
  CHECK_EQ(atomic_load(&c.dropped), 0);
  rt_handle_release(h);
}

/* A timer set just after the workers went idle, due while one may still
 * be searching or already asleep, fires and runs once. */
TEST(idle_timer_due_during_search_fires) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  for (int r = 0; r < ROUNDS; r++) {
    for (int g = 0; g < GAPS; g++) {
      counter_t c;
      counter_init(&c);
      rt_task_t *t = NULL;
      CHECK_RC(rt_spawn_after(h, (uint64_t)gaps_us[g] * 1000u, counter_call, &c,
                              counter_drop, &t),
               RT_OK);
      void *res = NULL;
      CHECK_RC(rt_task_join(t, -1, &res), RT_OK);
      CHECK_PTR_EQ(res, &c);
      rt_task_release(t);
      CHECK_EQ(atomic_load(&c.ran), 1);
      CHECK_EQ(atomic_load(&c.dropped), 0);
    }
  }
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

typedef struct {
  atomic_int ran, dropped;
} idle_slot_rec_t;

static void idle_slot_run(void *arg) { atomic_fetch_add(&((idle_slot_rec_t *)arg)->ran, 1); }
static void idle_slot_drop(void *arg) { atomic_fetch_add(&((idle_slot_rec_t *)arg)->dropped, 1); }

/* A signal slot posted after each gap (from a plain thread: the doorbell
 * is the same) is answered by a run, whether the workers were searching,
 * which now watches the doorbell too, or asleep. */
TEST(idle_signal_post_after_any_gap_runs) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  idle_slot_rec_t rec = {0};
  rt_signal_slot_t *slot = rt_signal_slot_new(h, idle_slot_run, &rec, idle_slot_drop);
  CHECK_NOT_NULL(slot);
  int want = 0;
  for (int r = 0; r < ROUNDS; r++) {
    for (int g = 0; g < GAPS; g++) {
      sleep_us(gaps_us[g]);
      CHECK_RC(rt_signal_slot_post(slot), RT_OK);
      want++;
      WAIT_UNTIL(atomic_load(&rec.ran) == want);
    }
  }
  rt_signal_slot_free(slot);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&rec.ran), want);
  CHECK_EQ(atomic_load(&rec.dropped), 1);
  rt_handle_release(h);
}
