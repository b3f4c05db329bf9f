/* test-stats.c — rt_stats_get: versioned size, NULLs, and what each counter
 * counts. */
#include "harness.h"

/* NULL handle or NULL out: RT_EINVAL. */
TEST(stats_null_arguments) {
  rt_stats_t s;
  memset(&s, 0, sizeof s);
  s.size = sizeof s;
  CHECK_RC(rt_stats_get(NULL, &s), RT_EINVAL);
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  CHECK_RC(rt_stats_get(h, NULL), RT_EINVAL);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_RC(rt_stats_get(h, NULL), RT_EINVAL);
  rt_handle_release(h);
}

/* A size larger than the library knows is RT_EINVAL, and so is one too
 * small to hold the size field itself. Nothing is written. */
TEST(stats_bad_size) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  struct {
    rt_stats_t s;
    unsigned char future[32];
  } big;
  const size_t bad[] = {sizeof(rt_stats_t) + 1, sizeof big, (size_t)-1, 0, 1,
                        sizeof(size_t) - 1};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    memset(&big, 0xA5, sizeof big);
    big.s.size = bad[i];
    CHECK_RC(rt_stats_get(h, &big.s), RT_EINVAL);
    const unsigned char *p = (const unsigned char *)&big;
    for (size_t k = sizeof(size_t); k < sizeof big; k++)
      if (p[k] != 0xA5)
        FAIL("size %zu: byte %zu was written on RT_EINVAL", bad[i], k);
    CHECK_EQ(big.s.size, bad[i]);
  }
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

/* An older caller's smaller size is accepted: the fields it has are filled
 * and the bytes beyond `size` are not touched. */
TEST(stats_smaller_size) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  counter_t c;
  counter_init(&c);
  CHECK_RC(rt_spawn_full(h, counter_call, &c, NULL, NULL), RT_OK);
  WAIT_UNTIL(get_stats(h).completed == 1);
  const size_t sizes[] = {
      sizeof(size_t),                                    /* just the size */
      offsetof(rt_stats_t, workers) + sizeof(unsigned),  /* + workers */
      offsetof(rt_stats_t, completed),                   /* + spawned */
      offsetof(rt_stats_t, rejected),                    /* up to timers */
      offsetof(rt_stats_t, shutdown),                    /* all but shutdown */
  };
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    rt_stats_t s;
    memset(&s, 0xA5, sizeof s);
    s.size = sizes[i];
    CHECK_RC(rt_stats_get(h, &s), RT_OK);
    CHECK_EQ(s.size, sizes[i]);
    const unsigned char *p = (const unsigned char *)&s;
    for (size_t k = sizes[i]; k < sizeof s; k++)
      if (p[k] != 0xA5)
        FAIL("size %zu: byte %zu beyond size was written", sizes[i], k);
    if (sizes[i] >= offsetof(rt_stats_t, workers) + sizeof(unsigned))
      CHECK_EQ(s.workers, 2);
    if (sizes[i] >= offsetof(rt_stats_t, completed))
      CHECK_EQ(s.spawned, 1);
    if (sizes[i] >= offsetof(rt_stats_t, rejected)) {
      CHECK_EQ(s.completed, 1);
      CHECK_EQ(s.dropped, 0);
      CHECK_EQ(s.queued, 0);
      CHECK_EQ(s.timers, 0);
    }
  }
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

/* A fresh runtime: zero counters, the configured workers, not shut down. */
TEST(stats_fresh_runtime) {
  rt_runtime_t *rt = make_rt(3, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_stats_t s;
  memset(&s, 0xA5, sizeof s);
  s.size = sizeof s;
  CHECK_RC(rt_stats_get(h, &s), RT_OK);
  CHECK_EQ(s.size, sizeof s);
  CHECK_EQ(s.workers, 3);
  CHECK_EQ(s.spawned, 0);
  CHECK_EQ(s.completed, 0);
  CHECK_EQ(s.dropped, 0);
  CHECK_EQ(s.queued, 0);
  CHECK_EQ(s.timers, 0);
  CHECK_EQ(s.rejected, 0);
  CHECK_FALSE(s.shutdown);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

/* spawned counts spawns, timers and block_on; completed counts tasks that
 * ran; queued counts accepted, unstarted tasks without timers; timers counts
 * timers not yet due; dropped counts cancelled ones. */
TEST(stats_counts) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  blocker_t b;
  blocker_init(&b);
  blocker_start(h, &b);
  counter_t c[6];
  for (int i = 0; i < 6; i++)
    counter_init(&c[i]);
  rt_task_t *cancel_me = NULL, *timer = NULL;
  CHECK_RC(rt_spawn(h, counter_fn, &c[0]), RT_OK);
  CHECK_RC(rt_spawn_full(h, counter_call, &c[1], counter_drop, NULL), RT_OK);
  CHECK_RC(rt_spawn_full(h, counter_call, &c[2], counter_drop, &cancel_me), RT_OK);
  CHECK_RC(rt_spawn_after(h, 60ull * 1000 * MS, counter_call, &c[3], counter_drop,
                          &timer),
           RT_OK);
  CHECK_RC(rt_spawn_after(h, 60ull * 1000 * MS, counter_call, &c[4], counter_drop,
                          NULL),
           RT_OK);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, 6);
  CHECK_EQ(s.queued, 3);
  CHECK_EQ(s.timers, 2);
  CHECK_EQ(s.completed, 0);
  CHECK_EQ(s.dropped, 0);

  CHECK_RC(rt_task_cancel(cancel_me), RT_OK);
  CHECK_RC(rt_task_cancel(timer), RT_OK);
  s = get_stats(h);
  CHECK_EQ(s.queued, 2);
  CHECK_EQ(s.timers, 1);
  CHECK_EQ(s.dropped, 2);

  gate_open(&b.gate);
  WAIT_UNTIL(get_stats(h).completed == 3);
  CHECK_RC(rt_block_on(h, counter_call, &c[5], NULL), RT_OK);
  WAIT_UNTIL(get_stats(h).completed == 4);
  s = get_stats(h);
  CHECK_EQ(s.spawned, 7);
  CHECK_EQ(s.queued, 0);
  CHECK_EQ(s.timers, 1);
  CHECK_EQ(s.rejected, 0);

  CHECK_RC(rt_shutdown(rt), RT_OK);
  s = get_stats(h);
  CHECK_EQ(s.spawned, 7);
  CHECK_EQ(s.completed, 4);
  CHECK_EQ(s.dropped, 3); /* 2 cancelled + the pending timer */
  CHECK_EQ(s.spawned, s.completed + s.dropped);
  CHECK_EQ(s.timers, 0);
  CHECK_TRUE(s.shutdown);
  rt_task_release(cancel_me);
  rt_task_release(timer);
  rt_handle_release(h);
}

static void *nested_block_on(void *arg) {
  rt_handle_t *h = arg;
  counter_t c;
  counter_init(&c);
  for (int i = 0; i < 5; i++)
    CHECK_RC(rt_block_on(h, counter_call, &c, NULL), RT_OK);
  CHECK_EQ(atomic_load(&c.ran), 5);
  return NULL;
}

/* Work run inline (block_on on the runtime's own worker) is not counted. */
TEST(stats_inline_not_counted) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  CHECK_RC(rt_block_on(h, nested_block_on, h, NULL), RT_OK);
  WAIT_UNTIL(get_stats(h).completed == 1);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, 1);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  s = get_stats(h);
  CHECK_EQ(s.spawned, 1);
  CHECK_EQ(s.completed, 1);
  rt_handle_release(h);
}

/* ---- Cumulative counters never go backwards ----------------------------- */

#include <sched.h>
#include <stdlib.h>

static atomic_bool load_stop;

struct load {
  rt_handle_t *h;
  rt_strand_t *s;
  uint64_t seed;
  long rounds;
};

static void *nothing_call(void *arg) { return arg; }
static void nothing_fn(void *arg) { (void)arg; }

/* Spawns, timers (some fire, some are cancelled), joins, strands, groups,
 * blocking jobs and block_on, with a bounded queue so that some spawns are
 * refused. */
static void *load_main(void *p) {
  struct load *l = p;
  uint64_t rng = l->seed;
  while (!atomic_load(&load_stop)) {
    l->rounds++;
    for (int i = 0; i < 16; i++) {
      int rc = rt_spawn(l->h, nothing_fn, NULL);
      if (rc != RT_OK)
        CHECK_RC(rc, RT_EAGAIN);
    }
    rt_task_t *t[5];
    int have = 0;
    if (rt_spawn_full(l->h, nothing_call, NULL, NULL, &t[have]) == RT_OK)
      have++;
    CHECK_RC(rt_spawn_after(l->h, rng_next(&rng) % 100000, nothing_call, NULL, NULL, &t[have]),
             RT_OK);
    have++;
    CHECK_RC(rt_strand_spawn_after(l->s, rng_next(&rng) % 100000, nothing_call, NULL, NULL,
                                   &t[have]),
             RT_OK);
    have++;
    if (rt_strand_spawn_full(l->s, nothing_call, NULL, NULL, &t[have]) == RT_OK)
      have++;
    if (rng_next(&rng) % 8 == 0 &&
        rt_spawn_blocking(l->h, nothing_call, NULL, NULL, &t[have]) == RT_OK)
      have++;
    for (int i = 0; i < have; i++) {
      if (rng_next(&rng) % 2 == 0) {
        int rc = rt_task_cancel(t[i]);
        if (rc != RT_OK)
          CHECK_RC(rc, RT_EBUSY);
      }
      int rc = rt_task_join(t[i], -1, NULL);
      if (rc != RT_OK)
        CHECK_RC(rc, RT_ECANCELED);
      rt_task_release(t[i]);
    }
    rt_group_t *g = rt_group_new(l->h);
    CHECK_NOT_NULL(g);
    for (int i = 0; i < 4; i++) {
      int rc = rt_group_spawn(g, nothing_call, NULL, NULL);
      if (rc != RT_OK)
        CHECK_RC(rc, RT_EAGAIN);
    }
    CHECK_RC(rt_group_wait(g, -1), RT_OK);
    rt_group_release(g);
    CHECK_RC(rt_block_on(l->h, nothing_call, NULL, NULL), RT_OK);
  }
  return NULL;
}

enum { NCUMULATIVE = 12 };

struct sampler {
  rt_handle_t *h;
  long samples;
  long decreases[NCUMULATIVE];
  long negative;     /* a gauge that read as a wrapped negative */
};

static const char *const cumulative_names[NCUMULATIVE] = {
    "spawned",          "completed",        "dropped",  "rejected",
    "strand_turns",     "shutdown",         "blocking_threads_peak",
    "blocking_spawned", "blocking_regions", "handoffs", "stranded_moved",
    "joins_helped"};

static void cumulative(const rt_stats_t *s, uint64_t out[NCUMULATIVE]) {
  out[0] = s->spawned;
  out[1] = s->completed;
  out[2] = s->dropped;
  out[3] = s->rejected;
  out[4] = s->strand_turns;
  out[5] = s->shutdown ? 1 : 0;
  out[6] = s->blocking_threads_peak;
  out[7] = s->blocking_spawned;
  out[8] = s->blocking_regions;
  out[9] = s->handoffs;
  out[10] = s->stranded_moved;
  out[11] = s->joins_helped;
}

static void *sampler_main(void *p) {
  struct sampler *sm = p;
  uint64_t prev[NCUMULATIVE] = {0};
  while (!atomic_load(&load_stop)) {
    rt_stats_t s = get_stats(sm->h);
    uint64_t now[NCUMULATIVE];
    cumulative(&s, now);
    for (int k = 0; k < NCUMULATIVE; k++)
      if (now[k] < prev[k]) {
        if (sm->decreases[k]++ == 0)
          printf("%s went from %" PRIu64 " to %" PRIu64 "\n", cumulative_names[k], prev[k],
                 now[k]);
      }
    const uint64_t gauges[5] = {s.queued, s.timers, s.strands, s.groups, s.blocking_threads};
    for (int k = 0; k < 5; k++)
      if (gauges[k] > (UINT64_C(1) << 62))
        sm->negative++;
    memcpy(prev, now, sizeof prev);
    /* Leaves the loaders (and the workers) a share of the two cores. */
    if (++sm->samples % 16 == 0)
      sched_yield();
  }
  return NULL;
}

/* Two threads sample rt_stats_get while two others spawn, set, cancel and
 * join for two seconds: no cumulative field of one thread's samples ever
 * decreases, and no gauge reads negative. After the shutdown, the header's
 * identities hold exactly. */
TEST(stats_monotonic_under_load) {
  enum { LOADERS = 2, SAMPLERS = 2 };
  const unsigned seconds = 2;
  rt_runtime_t *rt = make_rt(2, 64);
  rt_handle_t *h = rt_handle(rt);
  rt_strand_t *s = rt_strand_new(h);
  CHECK_NOT_NULL(s);
  atomic_store(&load_stop, false);
  uint64_t seed = test_seed();
  struct load l[LOADERS];
  struct sampler sm[SAMPLERS];
  pthread_t lt[LOADERS], st[SAMPLERS];
  memset(sm, 0, sizeof sm);
  for (int i = 0; i < SAMPLERS; i++) {
    sm[i].h = h;
    CHECK_EQ(pthread_create(&st[i], NULL, sampler_main, &sm[i]), 0);
  }
  for (int i = 0; i < LOADERS; i++) {
    l[i] = (struct load){.h = h, .s = s, .seed = seed + (uint64_t)i * 7919};
    CHECK_EQ(pthread_create(&lt[i], NULL, load_main, &l[i]), 0);
  }
  sleep_ms(seconds * 1000);
  atomic_store(&load_stop, true);
  for (int i = 0; i < LOADERS; i++)
    pthread_join(lt[i], NULL);
  for (int i = 0; i < SAMPLERS; i++)
    pthread_join(st[i], NULL);
  long samples = 0;
  for (int i = 0; i < SAMPLERS; i++) {
    samples += sm[i].samples;
    CHECK_GT(sm[i].samples, 0);
    for (int k = 0; k < NCUMULATIVE; k++)
      if (sm[i].decreases[k] != 0)
        FAIL("sampler %d: %s decreased %ld times in %ld samples", i, cumulative_names[k],
             sm[i].decreases[k], sm[i].samples);
    CHECK_EQ(sm[i].negative, 0);
  }
  printf("stats samples: %ld, decreases seen: 0, load rounds: %ld\n", samples,
         l[0].rounds + l[1].rounds);
  rt_strand_release(s);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_stats_t f = get_stats(h);
  CHECK_TRUE(f.shutdown);
  CHECK_GT(f.spawned, 0);
  CHECK_EQ(f.spawned, f.completed + f.dropped);
  CHECK_EQ(f.queued, 0);
  CHECK_EQ(f.timers, 0);
  CHECK_EQ(f.strands, 0);
  CHECK_EQ(f.groups, 0);
  rt_handle_release(h);
}
