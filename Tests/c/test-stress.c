/* test-stress.c — many threads racing spawns, block_on, cancels and
 * shutdowns. A ledger counts, per task, how often fn and drop ran; the
 * contract says every accepted task ran XOR was dropped, exactly once, and
 * every refused one neither. The seed is printed; RTCTX_SEED replays it. */
#include "harness.h"

#include <stdlib.h>

enum kind { K_SPAWN, K_FULL, K_AFTER, K_BLOCK_ON, K_CHILD };
static const char *const kind_name[] = {"rt_spawn", "rt_spawn_full",
                                        "rt_spawn_after", "rt_block_on", "child"};

struct item {
  atomic_int ran;
  atomic_int dropped;
  int rc;
  enum kind kind;
  uint64_t delay;
  bool spawn_child;
  bool slow; /* keeps a worker busy, so a timeout finds tasks not started */
};

enum { THREADS = 8, OPS = 1500, ROUNDS = 20 };
enum { POOL = THREADS * (OPS + 8) * 2 };

static struct item *pool;
static atomic_size_t pool_next;

static struct item *new_item(enum kind k) {
  size_t i = atomic_fetch_add(&pool_next, 1);
  if (i >= POOL)
    FAIL("ledger pool exhausted");
  struct item *it = &pool[i];
  atomic_init(&it->ran, 0);
  atomic_init(&it->dropped, 0);
  it->rc = 1; /* not yet known */
  it->kind = k;
  it->delay = 0;
  it->spawn_child = false;
  it->slow = false;
  return it;
}

static void item_drop(void *p) {
  struct item *it = p;
  atomic_fetch_add(&it->dropped, 1);
}

static void *item_call(void *p) {
  struct item *it = p;
  atomic_fetch_add(&it->ran, 1);
  if (it->slow)
    sleep_us(300);
  if (it->spawn_child) {
    /* A task spawning onto its own runtime, possibly mid-shutdown. */
    struct item *child = new_item(K_CHILD);
    child->rc = rt_spawn_full(rt_handle_current(), item_call, child, item_drop, NULL);
  }
  return p;
}

static void item_fn(void *p) { (void)item_call(p); }

struct spawner {
  rt_handle_t *h;
  uint64_t rng;
  gate_t *go;
  int done_ops;
};

static const uint64_t delays[] = {0, 50000, 1 * MS, 30 * MS};

/* One spawn of kind k; returns the rc (also stored in the ledger). */
static int do_op(struct spawner *sp, enum kind k) {
  struct item *it = new_item(k);
  rt_task_t *t = NULL;
  bool want_task = rng_next(&sp->rng) % 2;
  int rc;
  switch (k) {
  case K_SPAWN:
    it->slow = rng_next(&sp->rng) % 8 == 0;
    rc = rt_spawn(sp->h, item_fn, it);
    break;
  case K_FULL:
    it->spawn_child = rng_next(&sp->rng) % 4 == 0;
    rc = rt_spawn_full(sp->h, item_call, it, item_drop, want_task ? &t : NULL);
    break;
  case K_AFTER:
    it->delay = delays[rng_next(&sp->rng) % 4];
    rc = rt_spawn_after(sp->h, it->delay, item_call, it, item_drop,
                        want_task ? &t : NULL);
    break;
  default: {
    void *res = NULL;
    rc = rt_block_on(sp->h, item_call, it, &res);
    if (rc == RT_OK)
      CHECK_PTR_EQ(res, it);
    break;
  }
  }
  it->rc = rc;
  if (t != NULL) {
    if (rc != RT_OK)
      FAIL("%s failed (%s) but set task_out", kind_name[k], rt_code_name(rc));
    /* Poll once: any of the three answers is fine at this point. */
    int jrc = rt_task_join(t, 0, NULL);
    if (jrc != RT_OK && jrc != RT_ETIMEDOUT && jrc != RT_ECANCELED)
      FAIL("rt_task_join(t, 0) = %d (%s)", jrc, rt_code_name(jrc));
    rt_task_release(t);
  }
  return rc;
}

static void *spawner_main(void *arg) {
  struct spawner *sp = arg;
  gate_wait(sp->go);
  for (sp->done_ops = 0; sp->done_ops < OPS; sp->done_ops++) {
    enum kind k = (enum kind)(rng_next(&sp->rng) % 4);
    int rc = do_op(sp, k);
    if (rc == RT_ESHUTDOWN) {
      /* Shutdown started: from now on every call from here is refused. */
      for (int j = 0; j < 4; j++) {
        int again = do_op(sp, (enum kind)j);
        if (again != RT_ESHUTDOWN)
          FAIL("%s after RT_ESHUTDOWN returned %d (%s)", kind_name[j], again,
               rt_code_name(again));
      }
      break;
    }
    if (rc != RT_OK && !(k == K_BLOCK_ON && rc == RT_ECANCELED))
      FAIL("%s returned %d (%s)", kind_name[k], rc, rt_code_name(rc));
    if (rng_next(&sp->rng) % 64 == 0)
      sleep_us((unsigned)(rng_next(&sp->rng) % 200));
  }
  return NULL;
}

static void check_round(int round, bool graceful, int shutdown_rc, rt_handle_t *h) {
  uint64_t accepted = 0, ran = 0, observed_drops = 0, spawn_unran = 0;
  uint64_t nontimer_dropped = 0;
  size_t n = atomic_load(&pool_next);
  for (size_t i = 0; i < n; i++) {
    struct item *it = &pool[i];
    int r = atomic_load(&it->ran), d = atomic_load(&it->dropped);
    const char *kn = kind_name[it->kind];
    ran += (uint64_t)r;
    if (it->rc == RT_OK || (it->kind == K_BLOCK_ON && it->rc == RT_ECANCELED)) {
      accepted++;
      switch (it->kind) {
      case K_SPAWN: /* no drop callback: ran at most once */
        if (r > 1 || d != 0)
          FAIL("round %d item %zu (%s, accepted): ran %d dropped %d", round, i, kn,
               r, d);
        if (r == 0) {
          spawn_unran++;
          nontimer_dropped++;
        }
        break;
      case K_BLOCK_ON:
        if (r != (it->rc == RT_OK ? 1 : 0))
          FAIL("round %d item %zu (block_on returned %s): ran %d", round, i,
               rt_code_name(it->rc), r);
        if (it->rc == RT_ECANCELED) {
          observed_drops++;
          nontimer_dropped++;
        }
        break;
      default:
        if (r + d != 1)
          FAIL("round %d item %zu (%s, delay %" PRIu64 ", accepted): ran %d, "
               "dropped %d; want exactly one of them once",
               round, i, kn, it->delay, r, d);
        observed_drops += (uint64_t)d;
        if (d && !(it->kind == K_AFTER && it->delay > 0))
          nontimer_dropped++;
        break;
      }
    } else {
      if (it->rc != RT_ESHUTDOWN)
        FAIL("round %d item %zu (%s): refused with %d (%s), want RT_ESHUTDOWN",
             round, i, kn, it->rc, rt_code_name(it->rc));
      if (r != 0 || d != 0)
        FAIL("round %d item %zu (%s, refused): ran %d dropped %d", round, i, kn, r,
             d);
    }
    if (graceful && it->kind == K_CHILD && it->rc != RT_OK)
      FAIL("round %d: a task's spawn during a graceful shutdown got %s", round,
           rt_code_name(it->rc));
  }
  if (graceful && nontimer_dropped > 0)
    FAIL("round %d: graceful shutdown dropped %" PRIu64 " non-timer tasks", round,
         nontimer_dropped);
  if (!graceful && shutdown_rc == RT_OK && nontimer_dropped > 0)
    FAIL("round %d: rt_shutdown_timeout returned RT_OK but dropped %" PRIu64
         " non-timer tasks",
         round, nontimer_dropped);
  rt_stats_t s = get_stats(h);
  if (shutdown_rc == RT_ETIMEDOUT && s.dropped == 0)
    FAIL("round %d: RT_ETIMEDOUT but nothing was dropped", round);
  if (s.spawned != accepted || s.completed != ran ||
      s.dropped != observed_drops + spawn_unran ||
      s.spawned != s.completed + s.dropped) {
    FAIL("round %d stats: spawned %" PRIu64 " completed %" PRIu64 " dropped %" PRIu64
         "; ledger: accepted %" PRIu64 " ran %" PRIu64 " dropped %" PRIu64
         " (+%" PRIu64 " unran rt_spawn)",
         round, s.spawned, s.completed, s.dropped, accepted, ran, observed_drops,
         spawn_unran);
  }
  CHECK_TRUE(s.shutdown);
  CHECK_EQ(s.queued, 0);
  CHECK_EQ(s.timers, 0);
  printf("round %2d %-8s rc %-13s ledger %5zu: accepted %5" PRIu64 " ran %5" PRIu64
         " dropped %4" PRIu64 " refused %3" PRIu64 "\n",
         round, graceful ? "graceful" : "timeout", rt_code_name(shutdown_rc), n,
         accepted, ran, s.dropped, (uint64_t)n - accepted);
}

/* 8 foreign threads race every spawn kind and block_on against rt_shutdown
 * or rt_shutdown_timeout called at a random point, 20 rounds. */
TEST(stress_shutdown_race) {
  pool = calloc(POOL, sizeof *pool);
  CHECK_NOT_NULL(pool);
  uint64_t rng = test_seed();
  for (int round = 0; round < ROUNDS; round++) {
    atomic_store(&pool_next, 0);
    bool graceful = round % 2 == 0;
    rt_runtime_t *rt = make_rt(1 + (unsigned)(rng_next(&rng) % 3), 0);
    rt_handle_t *h = rt_handle(rt);
    gate_t go;
    gate_init(&go);
    struct spawner sp[THREADS];
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
      sp[i] = (struct spawner){h, rng_next(&rng) | 1, &go, 0};
      CHECK_EQ(pthread_create(&th[i], NULL, spawner_main, &sp[i]), 0);
    }
    gate_open(&go);
    sleep_us((unsigned)(rng_next(&rng) % 5000));
    int rc;
    if (graceful) {
      rc = rt_shutdown(rt);
      CHECK_RC(rc, RT_OK);
    } else {
      rc = rt_shutdown_timeout(rt, rng_next(&rng) % (2 * MS));
      if (rc != RT_OK && rc != RT_ETIMEDOUT)
        FAIL("rt_shutdown_timeout returned %d (%s)", rc, rt_code_name(rc));
    }
    for (int i = 0; i < THREADS; i++)
      pthread_join(th[i], NULL);
    check_round(round, graceful, rc, h);
    rt_handle_release(h);
    gate_destroy(&go);
  }
  free(pool);
}

struct canceller {
  rt_handle_t *h;
  struct item items[3000];
  int cancel_rc[3000];
  int join_rc[3000];
};

static void *cancel_main(void *arg) {
  struct canceller *c = arg;
  for (int i = 0; i < 3000; i++) {
    struct item *it = &c->items[i];
    atomic_init(&it->ran, 0);
    atomic_init(&it->dropped, 0);
    it->spawn_child = false;
    it->slow = false;
    rt_task_t *t = NULL;
    CHECK_RC(rt_spawn_full(c->h, item_call, it, item_drop, &t), RT_OK);
    if (i % 3)
      sleep_us(0);
    c->cancel_rc[i] = rt_task_cancel(t);
    c->join_rc[i] = rt_task_join(t, -1, NULL);
    rt_task_release(t);
  }
  return NULL;
}

/* Cancels racing the workers starting the same tasks: RT_OK means dropped
 * once and never run (join RT_ECANCELED); RT_EBUSY means it ran once (join
 * RT_OK). */
TEST(stress_cancel_race) {
  enum { T = 4 };
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  struct canceller *c = calloc(T, sizeof *c);
  CHECK_NOT_NULL(c);
  pthread_t th[T];
  for (int i = 0; i < T; i++) {
    c[i].h = h;
    CHECK_EQ(pthread_create(&th[i], NULL, cancel_main, &c[i]), 0);
  }
  for (int i = 0; i < T; i++)
    pthread_join(th[i], NULL);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  uint64_t cancelled = 0;
  for (int i = 0; i < T; i++) {
    for (int k = 0; k < 3000; k++) {
      int r = atomic_load(&c[i].items[k].ran), d = atomic_load(&c[i].items[k].dropped);
      if (c[i].cancel_rc[k] == RT_OK) {
        cancelled++;
        if (r != 0 || d != 1 || c[i].join_rc[k] != RT_ECANCELED)
          FAIL("cancelled task: ran %d dropped %d join %s", r, d,
               rt_code_name(c[i].join_rc[k]));
      } else if (c[i].cancel_rc[k] == RT_EBUSY) {
        if (r != 1 || d != 0 || c[i].join_rc[k] != RT_OK)
          FAIL("task too late to cancel: ran %d dropped %d join %s", r, d,
               rt_code_name(c[i].join_rc[k]));
      } else {
        FAIL("rt_task_cancel returned %d (%s)", c[i].cancel_rc[k],
             rt_code_name(c[i].cancel_rc[k]));
      }
    }
  }
  printf("%" PRIu64 " of %d cancels won\n", cancelled, T * 3000);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, T * 3000);
  CHECK_EQ(s.dropped, cancelled);
  CHECK_EQ(s.completed, T * 3000 - cancelled);
  rt_handle_release(h);
  free(c);
}

static atomic_int hook_starts, hook_stops;

static void hook_start(void *u) {
  (void)u;
  atomic_fetch_add(&hook_starts, 1);
}

static void hook_stop(void *u) {
  (void)u;
  atomic_fetch_add(&hook_stops, 1);
}

/* Runtimes created and shut down (both ways) in a loop with work in flight:
 * hooks balance, every task is accounted for, no thread leaks. */
TEST(stress_new_shutdown_cycles) {
  uint64_t rng = test_seed();
  unsigned total_workers = 0;
  int threads_after_first = 0;
  for (int round = 0; round < 40; round++) {
    rt_config_t cfg;
    rt_config_init(&cfg);
    cfg.workers = 1 + (unsigned)(rng_next(&rng) % 4);
    cfg.on_thread_start = hook_start;
    cfg.on_thread_stop = hook_stop;
    total_workers += cfg.workers;
    rt_runtime_t *rt = rt_new(&cfg);
    CHECK_NOT_NULL(rt);
    CHECK_EQ(atomic_load(&hook_starts), total_workers);
    rt_handle_t *h = rt_handle(rt);
    counter_t c[50];
    for (int i = 0; i < 50; i++) {
      counter_init(&c[i]);
      CHECK_RC(rt_spawn_full(h, counter_call, &c[i], counter_drop, NULL), RT_OK);
    }
    int rc = round % 2 ? rt_shutdown(rt) : rt_shutdown_timeout(rt, 0);
    CHECK_EQ(atomic_load(&hook_stops), total_workers);
    int dropped = 0;
    for (int i = 0; i < 50; i++) {
      int r = atomic_load(&c[i].ran), d = atomic_load(&c[i].dropped);
      if (r + d != 1)
        FAIL("round %d task %d: ran %d dropped %d", round, i, r, d);
      dropped += d;
    }
    if (round % 2)
      CHECK_RC(rc, RT_OK);
    CHECK_RC(rc, dropped ? RT_ETIMEDOUT : RT_OK);
    rt_stats_t s = get_stats(h);
    CHECK_EQ(s.spawned, 50);
    CHECK_EQ(s.dropped, dropped);
    CHECK_EQ(s.completed, 50 - dropped);
    rt_handle_release(h);
    /* Nothing accumulates: whatever the first cycle left (lazily started
     * library threads), later cycles add no thread. A joined thread can
     * linger in /proc for a moment after pthread_join, so allow it time to
     * go; a leaked one never does. */
    if (round == 0) {
      sleep_ms(50);
      threads_after_first = count_threads(NULL);
    } else {
      uint64_t deadline = now_ns() + 2000 * MS;
      while (count_threads(NULL) > threads_after_first && now_ns() < deadline)
        sleep_ms(1);
      if (count_threads(NULL) != threads_after_first) {
        print_threads();
        FAIL("round %d: %d threads after the shutdown, %d after the first one",
             round, count_threads(NULL), threads_after_first);
      }
    }
  }
}
