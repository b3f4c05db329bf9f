/* test-blocking-edges.c — edges of blocking work that the random-API stress
 * test (test-stress-api.c) found or depends on, each pinned down alone: a
 * join in a region that got RT_EAGAIN only waits; a graceful shutdown
 * returns when a task that handed its worker off returns during the drain
 * (it hung: nothing signalled the drain), and the pool's thread count reads
 * 0 once the shutdown joined every thread. */
#include "harness.h"

/* ------------------------------------------------------------------------ */
/* A join in a region only waits, even when the worker could not move       */
/* ------------------------------------------------------------------------ */

/* The header: "joins in a blocking region only wait ... If the joining task
 * holds a lock that a queued job may take, join ... inside
 * rt_blocking_begin() ... rt_blocking_end(), to wait without running
 * anything." With the only blocking thread busy, rt_blocking_begin()
 * returns RT_EAGAIN (the worker stays); the join must still not run the
 * worker's queued child on the joining thread. */
typedef struct region_join {
  rt_handle_t *h;
  gate_t occupier_go;
  atomic_int occupier_started;
  rt_task_t *occupier;
  atomic_int region_rc;
  atomic_int in_join;
  atomic_int child_ran_in_join;
  atomic_int child_ran;
  atomic_int join_rc;
  pthread_t joiner;
} region_join_t;

static void *rj_occupier(void *arg) {
  region_join_t *r = arg;
  atomic_store(&r->occupier_started, 1);
  gate_wait(&r->occupier_go);
  return r;
}

static void rj_child(void *arg) {
  region_join_t *r = arg;
  if (atomic_load(&r->in_join) && pthread_equal(pthread_self(), r->joiner))
    atomic_store(&r->child_ran_in_join, 1);
  atomic_store(&r->child_ran, 1);
}

static void rj_parent(void *arg) {
  region_join_t *r = arg;
  r->joiner = pthread_self();
  int rc = rt_blocking_begin();
  atomic_store(&r->region_rc, rc);
  /* From the worker (it stayed): the child goes to this worker's queue. */
  CHECK_RC(rt_spawn(r->h, rj_child, r), RT_OK);
  atomic_store(&r->in_join, 1);
  void *res = NULL;
  atomic_store(&r->join_rc, rt_task_join(r->occupier, -1, &res));
  atomic_store(&r->in_join, 0);
  if (rc != RT_EINVAL)
    CHECK_RC(rt_blocking_end(), RT_OK);
}

TEST(blocking_region_eagain_join_only_waits) {
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = 1;
  cfg.max_blocking_threads = 1;
  cfg.stranded_after_ns = UINT64_MAX; /* one worker: nowhere to move to anyway */
  rt_runtime_t *rt = rt_new(&cfg);
  CHECK_NOT_NULL(rt);
  rt_handle_t *h = rt_handle(rt);
  region_join_t r = {.h = h, .region_rc = 1, .join_rc = 1};
  gate_init(&r.occupier_go);
  CHECK_RC(rt_spawn_blocking(h, rj_occupier, &r, NULL, &r.occupier), RT_OK);
  WAIT_UNTIL(atomic_load(&r.occupier_started)); /* the one blocking thread is busy */
  CHECK_RC(rt_spawn(h, rj_parent, &r), RT_OK);
  WAIT_UNTIL(atomic_load(&r.in_join));
  sleep_ms(20); /* a helping join would have run the child by now */
  gate_open(&r.occupier_go);
  WAIT_UNTIL(atomic_load(&r.child_ran) && atomic_load(&r.join_rc) != 1);
  CHECK_RC(atomic_load(&r.region_rc), RT_EAGAIN);
  CHECK_RC(atomic_load(&r.join_rc), RT_OK);
  CHECK_EQ(atomic_load(&r.child_ran_in_join), 0); /* it ran after the parent returned */
  CHECK_EQ(get_stats(h).joins_helped, 0);
  rt_task_release(r.occupier);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
  gate_destroy(&r.occupier_go);
}

/* ------------------------------------------------------------------------ */
/* blocking_threads counts the threads there are now: none after shutdown  */
/* ------------------------------------------------------------------------ */

static void *short_block(void *arg) {
  sleep_us(100);
  return arg;
}

static void region_then_return(void *arg) {
  (void)arg;
  int rc = rt_blocking_begin();
  sleep_us(100);
  if (rc != RT_EINVAL)
    CHECK_RC(rt_blocking_end(), RT_OK);
}

TEST(blocking_threads_zero_after_shutdown) {
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = 2;
  cfg.max_blocking_threads = 4;
  cfg.thread_name = "bz";
  rt_runtime_t *rt = rt_new(&cfg);
  CHECK_NOT_NULL(rt);
  rt_handle_t *h = rt_handle(rt);
  rt_task_t *t[4];
  for (int i = 0; i < 4; i++)
    CHECK_RC(rt_spawn_blocking(h, short_block, NULL, NULL, &t[i]), RT_OK);
  for (int i = 0; i < 4; i++) {
    CHECK_RC(rt_task_join(t[i], -1, NULL), RT_OK);
    rt_task_release(t[i]);
  }
  CHECK_RC(rt_spawn(h, region_then_return, NULL), RT_OK);
  rt_stats_t before = get_stats(h);
  CHECK_GE(before.blocking_threads, 1);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  WAIT_UNTIL(count_threads("bz-") == 0);
  rt_stats_t after = get_stats(h);
  CHECK_TRUE(after.shutdown);
  CHECK_EQ(after.blocking_threads, 0);
  CHECK_GE(after.blocking_threads_peak, 1);
  CHECK_LE(after.blocking_threads_peak, 4);
  rt_handle_release(h);
}
