/* test-apply.c — rt_apply: every index exactly once, spread over the
 * workers and the caller, the calls' writes visible after the return; from
 * foreign threads, from tasks and nested in an apply, on one worker and on
 * several, without deadlock; refused with nothing called, and never losing
 * an index to a shutdown that races it. */
#include "harness.h"

#include <stdlib.h>

/* Index counts worth checking: empty, one, two, one per worker, many. */
static const size_t SIZES_BASE[] = {0, 1, 2};

/* One counter per index, and how many calls ran off the calling thread. */
struct counts {
  atomic_int *hits;
  size_t n;
  pthread_t caller;
  atomic_size_t on_caller;
  atomic_size_t on_workers;
};

static void counts_init(struct counts *c, size_t n) {
  c->hits = calloc(n ? n : 1, sizeof *c->hits);
  CHECK_NOT_NULL(c->hits);
  c->n = n;
  c->caller = pthread_self();
  atomic_init(&c->on_caller, 0);
  atomic_init(&c->on_workers, 0);
}

/* Every index ran exactly once; frees the counters. */
static void counts_check_once(struct counts *c) {
  for (size_t i = 0; i < c->n; i++) {
    int hits = atomic_load_explicit(&c->hits[i], memory_order_relaxed);
    if (hits != 1)
      FAIL("index %zu of %zu ran %d times", i, c->n, hits);
  }
  CHECK_EQ(atomic_load(&c->on_caller) + atomic_load(&c->on_workers), c->n);
  free(c->hits);
  c->hits = NULL;
}

/* Every index ran never; frees the counters. */
static void counts_check_none(struct counts *c) {
  for (size_t i = 0; i < c->n; i++)
    if (atomic_load_explicit(&c->hits[i], memory_order_relaxed) != 0)
      FAIL("index %zu of %zu ran, but rt_apply refused", i, c->n);
  free(c->hits);
  c->hits = NULL;
}

static void count_index(void *ctx, size_t i) {
  struct counts *c = ctx;
  if (i >= c->n)
    FAIL("index %zu out of range (n = %zu)", i, c->n);
  atomic_fetch_add_explicit(&c->hits[i], 1, memory_order_relaxed);
  if (pthread_equal(pthread_self(), c->caller))
    atomic_fetch_add_explicit(&c->on_caller, 1, memory_order_relaxed);
  else
    atomic_fetch_add_explicit(&c->on_workers, 1, memory_order_relaxed);
}

/* rt_apply(h, n) over fresh counters, checked exactly once each. */
static void apply_and_check(rt_handle_t *h, size_t n) {
  struct counts c;
  counts_init(&c, n);
  CHECK_RC(rt_apply(h, n, count_index, &c), RT_OK);
  counts_check_once(&c);
}

static void check_sizes(rt_handle_t *h, unsigned workers) {
  for (size_t k = 0; k < sizeof SIZES_BASE / sizeof SIZES_BASE[0]; k++)
    apply_and_check(h, SIZES_BASE[k]);
  apply_and_check(h, workers);
  apply_and_check(h, 1000000);
}

/* n = 0, 1, 2, workers, 10^6, on 1, 2 and 4 workers: each index once. */
TEST(apply_each_index_once) {
  static const unsigned WORKERS[] = {1, 2, 4};
  for (size_t w = 0; w < sizeof WORKERS / sizeof WORKERS[0]; w++) {
    rt_runtime_t *rt = make_rt(WORKERS[w], 0);
    rt_handle_t *h = rt_handle(rt);
    check_sizes(h, WORKERS[w]);
    CHECK_RC(rt_shutdown(rt), RT_OK);
    rt_stats_t s = get_stats(h);
    CHECK_EQ(s.spawned, s.completed + s.dropped);
    rt_handle_release(h);
  }
}

static void trivial(void *ctx, size_t i) {
  atomic_size_t *sum = ctx;
  /* A relaxed add on one word would serialise the calls: count per call
   * only every 4096th index, so the body stays trivial. */
  if ((i & 4095) == 0)
    atomic_fetch_add_explicit(sum, 1, memory_order_relaxed);
}

/* 10^7 trivial calls: all made, and in no time worth a watchdog. */
TEST(apply_ten_million_trivial) {
  rt_runtime_t *rt = make_rt(0, 0);
  rt_handle_t *h = rt_handle(rt);
  atomic_size_t sum = 0;
  const size_t n = 10000000;
  uint64_t start = now_ns();
  CHECK_RC(rt_apply(h, n, trivial, &sum), RT_OK);
  uint64_t took = now_ns() - start;
  CHECK_EQ(atomic_load(&sum), (n + 4095) / 4096);
  printf("rt_apply: 10^7 trivial calls in %.2f ms\n", (double)took / 1e6);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

/* The caller's calls wait until a worker made one: the apply is spread
 * (and the test does not depend on how fast a loaded machine wakes one). */
static void count_after_a_worker(void *ctx, size_t i) {
  struct counts *c = ctx;
  if (pthread_equal(pthread_self(), c->caller))
    WAIT_UNTIL(atomic_load(&c->on_workers) > 0);
  count_index(ctx, i);
}

struct foreign {
  rt_handle_t *h;
  struct counts c;
  int rc;
};

static void *apply_on_thread(void *arg) {
  struct foreign *f = arg;
  counts_init(&f->c, 64);
  f->rc = rt_apply(f->h, 64, count_after_a_worker, &f->c);
  return NULL;
}

/* From a thread the runtime never created: every index once, some on the
 * caller and some on workers; the caller stays outside the runtime. */
TEST(apply_from_foreign_thread) {
  rt_runtime_t *rt = make_rt(4, 0);
  struct foreign f = {rt_handle(rt), {0}, 1};
  pthread_t t;
  CHECK_EQ(pthread_create(&t, NULL, apply_on_thread, &f), 0);
  CHECK_EQ(pthread_join(t, NULL), 0);
  CHECK_RC(f.rc, RT_OK);
  CHECK_GT(atomic_load(&f.c.on_workers), 0);
  CHECK_GT(atomic_load(&f.c.on_caller), 0);
  counts_check_once(&f.c);
  CHECK_NULL(rt_handle_current());
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(f.h);
}

struct in_task {
  rt_handle_t *h;
  size_t n;
  int rc;
  bool current_after;
};

static void *apply_in_task(void *arg) {
  struct in_task *t = arg;
  struct counts c;
  counts_init(&c, t->n);
  t->rc = rt_apply(t->h, t->n, count_index, &c);
  counts_check_once(&c);
  t->current_after = rt_handle_current() == t->h;
  return NULL;
}

/* From one of the runtime's own tasks, on one worker (the task's worker is
 * the only one: the caller runs everything) and on several. */
TEST(apply_from_task) {
  static const unsigned WORKERS[] = {1, 4};
  for (size_t w = 0; w < sizeof WORKERS / sizeof WORKERS[0]; w++) {
    rt_runtime_t *rt = make_rt(WORKERS[w], 0);
    rt_handle_t *h = rt_handle(rt);
    struct in_task t = {h, 100000, 1, false};
    CHECK_RC(rt_block_on(h, apply_in_task, &t, NULL), RT_OK);
    CHECK_RC(t.rc, RT_OK);
    CHECK_TRUE(t.current_after);
    /* And from a spawned task joined from outside. */
    struct in_task t2 = {h, 1000, 1, false};
    rt_task_t *task = NULL;
    CHECK_RC(rt_spawn_full(h, apply_in_task, &t2, NULL, &task), RT_OK);
    CHECK_RC(rt_task_join(task, -1, NULL), RT_OK);
    rt_task_release(task);
    CHECK_RC(t2.rc, RT_OK);
    CHECK_RC(rt_shutdown(rt), RT_OK);
    rt_handle_release(h);
  }
}

/* Nested: each outer index applies over its own row of inner indices. */
enum { OUTER = 16, INNER = 2000 };

struct nested {
  rt_handle_t *h;
  atomic_int hits[OUTER][INNER];
  atomic_int failures;
};

struct row {
  struct nested *n;
  size_t outer;
};

static void inner_index(void *ctx, size_t j) {
  struct row *r = ctx;
  if (j >= INNER)
    FAIL("inner index %zu out of range", j);
  atomic_fetch_add_explicit(&r->n->hits[r->outer][j], 1, memory_order_relaxed);
}

static void outer_index(void *ctx, size_t i) {
  struct nested *n = ctx;
  struct row r = {n, i}; /* on this call's stack: the inner apply waits */
  if (rt_apply(n->h, INNER, inner_index, &r) != RT_OK)
    atomic_fetch_add(&n->failures, 1);
}

static void check_nested(struct nested *n) {
  CHECK_EQ(atomic_load(&n->failures), 0);
  for (size_t i = 0; i < OUTER; i++)
    for (size_t j = 0; j < INNER; j++)
      if (atomic_load_explicit(&n->hits[i][j], memory_order_relaxed) != 1)
        FAIL("nested index (%zu, %zu) ran %d times", i, j, atomic_load(&n->hits[i][j]));
}

static void *nested_in_task(void *arg) {
  struct nested *n = arg;
  CHECK_RC(rt_apply(n->h, OUTER, outer_index, n), RT_OK);
  return NULL;
}

/* An apply inside an apply's fn, two levels, from a foreign thread and
 * from a task, on one worker and on several: no deadlock, each index once. */
TEST(apply_nested) {
  static const unsigned WORKERS[] = {1, 2, 4};
  for (size_t w = 0; w < sizeof WORKERS / sizeof WORKERS[0]; w++) {
    rt_runtime_t *rt = make_rt(WORKERS[w], 0);
    rt_handle_t *h = rt_handle(rt);
    struct nested *n = calloc(1, sizeof *n);
    CHECK_NOT_NULL(n);
    n->h = h;
    CHECK_RC(rt_apply(h, OUTER, outer_index, n), RT_OK);
    check_nested(n);
    memset(n->hits, 0, sizeof n->hits);
    CHECK_RC(rt_block_on(h, nested_in_task, n, NULL), RT_OK);
    check_nested(n);
    free(n);
    CHECK_RC(rt_shutdown(rt), RT_OK);
    rt_handle_release(h);
  }
}

/* Every worker blocked in an apply whose calls apply again: the callers
 * do the work themselves, so it finishes with no worker free. */
struct busy {
  rt_handle_t *h;
  atomic_int done;
};

static void busy_inner(void *ctx, size_t i) {
  (void)i;
  (void)ctx;
}

static void busy_outer(void *ctx, size_t i) {
  struct busy *b = ctx;
  (void)i;
  CHECK_RC(rt_apply(b->h, 64, busy_inner, NULL), RT_OK);
}

static void busy_task(void *arg) {
  struct busy *b = arg;
  CHECK_RC(rt_apply(b->h, 32, busy_outer, b), RT_OK);
  atomic_fetch_add(&b->done, 1);
}

TEST(apply_every_worker_in_apply) {
  enum { WORKERS = 2, TASKS = 8 };
  rt_runtime_t *rt = make_rt(WORKERS, 0);
  struct busy b = {rt_handle(rt), 0};
  for (int i = 0; i < TASKS; i++)
    CHECK_RC(rt_spawn(b.h, busy_task, &b), RT_OK);
  WAIT_UNTIL(atomic_load(&b.done) == TASKS);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(b.h);
}

/* Plain stores by the calls (no atomics): the caller reads them after the
 * return, ordered by rt_apply alone (TSan checks the ordering). */
static void store_square(void *ctx, size_t i) {
  uint64_t *v = ctx;
  v[i] = (uint64_t)i * i;
}

TEST(apply_results_visible) {
  enum { N = 200000 };
  static const unsigned WORKERS[] = {1, 4};
  for (size_t w = 0; w < sizeof WORKERS / sizeof WORKERS[0]; w++) {
    rt_runtime_t *rt = make_rt(WORKERS[w], 0);
    rt_handle_t *h = rt_handle(rt);
    uint64_t *v = malloc(N * sizeof *v);
    CHECK_NOT_NULL(v);
    for (int round = 0; round < 5; round++) {
      memset(v, 0xff, N * sizeof *v);
      CHECK_RC(rt_apply(h, N, store_square, v), RT_OK);
      for (uint64_t i = 0; i < N; i++)
        if (v[i] != i * i)
          FAIL("v[%" PRIu64 "] is %" PRIu64 " after rt_apply", i, v[i]);
    }
    free(v);
    CHECK_RC(rt_shutdown(rt), RT_OK);
    rt_handle_release(h);
  }
}

/* NULL h or fn: RT_EINVAL and nothing called, whatever n is. */
TEST(apply_einval) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  CHECK_RC(rt_apply(NULL, 10, never_apply, NULL), RT_EINVAL);
  CHECK_RC(rt_apply(NULL, 0, never_apply, NULL), RT_EINVAL);
  CHECK_RC(rt_apply(h, 10, NULL, NULL), RT_EINVAL);
  CHECK_RC(rt_apply(h, 0, NULL, NULL), RT_EINVAL);
  CHECK_RC(rt_apply(h, 0, never_apply, NULL), RT_OK);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(get_stats(h).spawned, 0);
  rt_handle_release(h);
}

/* After a shutdown: RT_ESHUTDOWN, fn never called, for any n but 0; from a
 * thread the runtime never created. */
TEST(apply_after_shutdown) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_RC(rt_apply(h, 1, never_apply, NULL), RT_ESHUTDOWN);
  CHECK_RC(rt_apply(h, 2, never_apply, NULL), RT_ESHUTDOWN);
  CHECK_RC(rt_apply(h, 1000000, never_apply, NULL), RT_ESHUTDOWN);
  CHECK_RC(rt_apply(h, SIZE_MAX, never_apply, NULL), RT_ESHUTDOWN);
  CHECK_RC(rt_apply(h, 0, never_apply, NULL), RT_OK);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, 0);
  rt_handle_release(h);
}

struct draining {
  rt_handle_t *h;
  int rc;
  struct counts c;
};

static void apply_while_draining(void *arg) {
  struct draining *d = arg;
  /* Once the shutdown began (the main thread is in it, waiting for this
   * task), the runtime's own tasks may still apply. */
  WAIT_UNTIL(get_stats(d->h).shutdown);
  counts_init(&d->c, 50000);
  d->rc = rt_apply(d->h, 50000, count_index, &d->c);
}

TEST(apply_from_task_while_draining) {
  rt_runtime_t *rt = make_rt(2, 0);
  struct draining d = {rt_handle(rt), 1, {0}};
  CHECK_RC(rt_spawn(d.h, apply_while_draining, &d), RT_OK);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_RC(d.rc, RT_OK);
  counts_check_once(&d.c);
  rt_handle_release(d.h);
}

/* Every worker blocked: the helper jobs stay queued, and the caller runs
 * every index itself. A shutdown timeout then drops those helpers; the
 * apply had long returned, and the dropped helpers touch nothing of it. */
TEST(apply_without_free_workers) {
  enum { WORKERS = 2 };
  rt_runtime_t *rt = make_rt(WORKERS, 0);
  rt_handle_t *h = rt_handle(rt);
  blocker_t b[WORKERS];
  for (int i = 0; i < WORKERS; i++) {
    blocker_init(&b[i]);
    blocker_start(h, &b[i]);
  }
  struct counts c;
  counts_init(&c, 100000);
  CHECK_RC(rt_apply(h, 100000, count_index, &c), RT_OK);
  CHECK_EQ(atomic_load(&c.on_caller), 100000);
  counts_check_once(&c);
  pthread_t openers[WORKERS];
  for (int i = 0; i < WORKERS; i++)
    openers[i] = gate_open_later(&b[i].gate, 100);
  CHECK_RC(rt_shutdown_timeout(rt, 10 * MS), RT_ETIMEDOUT);
  for (int i = 0; i < WORKERS; i++)
    pthread_join(openers[i], NULL);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.dropped, WORKERS - 1); /* the helpers: one fewer than the workers */
  CHECK_EQ(s.spawned, s.completed + s.dropped);
  rt_handle_release(h);
}

struct racer {
  rt_handle_t *h;
  gate_t go;
  size_t n;
  int rc;
  struct counts c;
  bool slow;
};

static void count_maybe_slowly(void *ctx, size_t i) {
  struct counts *c = ctx;
  if (i % 1024 == 0)
    sleep_us(50);
  count_index(c, i);
}

static void *apply_racing(void *arg) {
  struct racer *r = arg;
  counts_init(&r->c, r->n);
  gate_wait(&r->go);
  r->rc = rt_apply(r->h, r->n, r->slow ? count_maybe_slowly : count_index, &r->c);
  return NULL;
}

/* rt_apply from a thread while another shuts down with a timeout: either
 * every index ran exactly once (RT_OK) or none did (RT_ESHUTDOWN). */
TEST(apply_races_shutdown_timeout) {
  uint64_t seed = test_seed();
  int ok = 0, refused = 0;
  for (int round = 0; round < 40; round++) {
    rt_runtime_t *rt = make_rt(1 + (unsigned)(rng_next(&seed) % 4), 0);
    struct racer r;
    memset(&r, 0, sizeof r);
    r.h = rt_handle(rt);
    r.n = 20000 + (size_t)(rng_next(&seed) % 50000);
    r.rc = 1;
    r.slow = round % 2 == 1;
    gate_init(&r.go);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, apply_racing, &r), 0);
    gate_open(&r.go);
    sleep_us((unsigned)(rng_next(&seed) % 400));
    uint64_t timeout = rng_next(&seed) % 2 ? 0 : (rng_next(&seed) % 200) * 1000;
    int rc = rt_shutdown_timeout(rt, timeout);
    if (rc != RT_OK && rc != RT_ETIMEDOUT)
      FAIL("rt_shutdown_timeout: %s", rt_strerror(rc));
    CHECK_EQ(pthread_join(t, NULL), 0);
    if (r.rc == RT_OK) {
      counts_check_once(&r.c);
      ok++;
    } else {
      CHECK_RC(r.rc, RT_ESHUTDOWN);
      counts_check_none(&r.c);
      refused++;
    }
    rt_stats_t s = get_stats(r.h);
    CHECK_EQ(s.spawned, s.completed + s.dropped);
    gate_destroy(&r.go);
    rt_handle_release(r.h);
  }
  printf("rt_apply racing rt_shutdown_timeout: %d finished, %d refused\n", ok, refused);
}
