/* test-strand.c — rt_strand_*: order, mutual exclusion, fairness, shutdown. */
#include "harness.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* One strand's record: jobs check that none overlaps (busy) and that each
 * poster's jobs come in the order it posted them (last seq per poster). */
#define MAX_POSTERS 8
typedef struct strand_rec {
  rt_strand_t *strand;
  atomic_int busy;
  atomic_int overlaps;
  atomic_int out_of_order;
  atomic_int ran;
  long last[MAX_POSTERS]; /* written only inside the strand's jobs */
} strand_rec_t;

typedef struct strand_job {
  strand_rec_t *rec;
  int poster;
  long seq;
} strand_job_t;

static void rec_init(strand_rec_t *r, rt_strand_t *s) {
  memset(r, 0, sizeof *r);
  r->strand = s;
  for (int i = 0; i < MAX_POSTERS; i++)
    r->last[i] = -1;
}

static void ordered_job(void *arg) {
  strand_job_t *job = arg;
  strand_rec_t *r = job->rec;
  if (atomic_exchange(&r->busy, 1) != 0)
    atomic_fetch_add(&r->overlaps, 1);
  if (rt_strand_current() != r->strand)
    FAIL("rt_strand_current() is not the job's strand");
  /* Plain reads and writes: the strand's happens-before makes them safe
   * (TSan checks it). */
  if (job->seq != r->last[job->poster] + 1)
    atomic_fetch_add(&r->out_of_order, 1);
  r->last[job->poster] = job->seq;
  atomic_fetch_add(&r->ran, 1);
  atomic_store(&r->busy, 0);
}

/* Jobs of one strand run in the order they were posted, never two at once,
 * and each sees the writes of the one before (no lock in ordered_job). */
TEST(strand_order_one_poster) {
  rt_runtime_t *rt = make_rt(4, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_strand_t *s = rt_strand_new(h);
  CHECK_NOT_NULL(s);
  enum { N = 100000 };
  strand_rec_t rec;
  rec_init(&rec, s);
  strand_job_t *jobs = calloc(N, sizeof *jobs);
  for (long i = 0; i < N; i++) {
    jobs[i] = (strand_job_t){&rec, 0, i};
    CHECK_RC(rt_strand_spawn(s, ordered_job, &jobs[i]), RT_OK);
  }
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&rec.ran), N);
  CHECK_EQ(atomic_load(&rec.overlaps), 0);
  CHECK_EQ(atomic_load(&rec.out_of_order), 0);
  rt_stats_t st = get_stats(h);
  CHECK_EQ(st.spawned, (uint64_t)N);
  CHECK_EQ(st.completed, (uint64_t)N);
  rt_strand_release(s);
  rt_handle_release(h);
  free(jobs);
}

/* 1000 strands, 8 posting threads, 10^6 jobs in all (fewer under a
 * sanitizer): per strand no overlap, per poster and strand FIFO. */
enum { MANY_STRANDS = 1000 };
typedef struct poster {
  strand_rec_t *recs;
  strand_job_t *jobs;
  int index;
  long per_poster;
  uint64_t seed;
} poster_t;

static void *poster_main(void *arg) {
  poster_t *p = arg;
  long *next = calloc(MANY_STRANDS, sizeof *next);
  for (long i = 0; i < p->per_poster; i++) {
    int k = (int)(rng_next(&p->seed) % MANY_STRANDS);
    strand_job_t *job = &p->jobs[i];
    *job = (strand_job_t){&p->recs[k], p->index, next[k]++};
    int rc;
    while ((rc = rt_strand_spawn(p->recs[k].strand, ordered_job, job)) == RT_EAGAIN)
      sched_yield();
    CHECK_RC(rc, RT_OK);
  }
  free(next);
  return NULL;
}

TEST(strand_order_many_strands_many_posters) {
  rt_runtime_t *rt = make_rt(4, 1 << 16);
  rt_handle_t *h = rt_handle(rt);
  long total = (UNDER_TSAN || UNDER_ASAN || under_valgrind()) ? 100000 : 1000000;
  strand_rec_t *recs = calloc(MANY_STRANDS, sizeof *recs);
  for (int k = 0; k < MANY_STRANDS; k++) {
    rt_strand_t *s = rt_strand_new(h);
    CHECK_NOT_NULL(s);
    rec_init(&recs[k], s);
  }
  poster_t posters[MAX_POSTERS];
  pthread_t threads[MAX_POSTERS];
  uint64_t seed = test_seed();
  for (int i = 0; i < MAX_POSTERS; i++) {
    posters[i] = (poster_t){recs, calloc(total / MAX_POSTERS, sizeof(strand_job_t)), i,
                            total / MAX_POSTERS, seed + (uint64_t)i * 7919 + 1};
    pthread_create(&threads[i], NULL, poster_main, &posters[i]);
  }
  for (int i = 0; i < MAX_POSTERS; i++)
    pthread_join(threads[i], NULL);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  long ran = 0;
  for (int k = 0; k < MANY_STRANDS; k++) {
    CHECK_EQ(atomic_load(&recs[k].overlaps), 0);
    CHECK_EQ(atomic_load(&recs[k].out_of_order), 0);
    ran += atomic_load(&recs[k].ran);
    rt_strand_release(recs[k].strand);
  }
  CHECK_EQ(ran, total);
  rt_stats_t st = get_stats(h);
  CHECK_EQ(st.spawned, (uint64_t)total);
  CHECK_EQ(st.completed, (uint64_t)total);
  for (int i = 0; i < MAX_POSTERS; i++)
    free(posters[i].jobs);
  free(recs);
  rt_handle_release(h);
}

/* Two strands run in parallel: a job of A waits for a job of B. */
typedef struct pair {
  gate_t b_ran;
} pair_t;

static void wait_for_b(void *arg) {
  pair_t *p = arg;
  if (!gate_wait_ms(&p->b_ran, 10000))
    FAIL("strand B never ran while strand A's job waited for it");
}

static void open_b(void *arg) {
  pair_t *p = arg;
  gate_open(&p->b_ran);
}

TEST(strand_different_strands_run_in_parallel) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_strand_t *a = rt_strand_new(h), *b = rt_strand_new(h);
  pair_t p;
  gate_init(&p.b_ran);
  CHECK_RC(rt_strand_spawn(a, wait_for_b, &p), RT_OK);
  CHECK_RC(rt_strand_spawn(b, open_b, &p), RT_OK);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_TRUE(gate_is_open(&p.b_ran));
  gate_destroy(&p.b_ran);
  rt_strand_release(a);
  rt_strand_release(b);
  rt_handle_release(h);
}

/* Inside a job: the strand and the runtime are current; outside: NULL. */
typedef struct where {
  rt_strand_t *strand;
  rt_handle_t *handle;
} where_t;

static void *where_call(void *arg) {
  where_t *w = arg;
  w->strand = rt_strand_current();
  w->handle = rt_handle_current();
  return w;
}

TEST(strand_current_inside_jobs_only) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_strand_t *s = rt_strand_new(h);
  CHECK_NULL(rt_strand_current());
  where_t w = {0};
  void *res = NULL;
  CHECK_RC(rt_strand_block_on(s, where_call, &w, &res), RT_OK);
  CHECK_PTR_EQ(res, &w);
  CHECK_PTR_EQ(w.strand, s);
  CHECK_PTR_EQ(w.handle, h);
  /* A plain task is on no strand. */
  CHECK_RC(rt_block_on(h, where_call, &w, NULL), RT_OK);
  CHECK_NULL(w.strand);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_strand_release(s);
  rt_handle_release(h);
}

/* rt_strand_block_on runs after the jobs accepted before it. */
static void slow_increment(void *arg) {
  sleep_us(200);
  (*(long *)arg)++;
}

static void *read_long(void *arg) { return (void *)(intptr_t)*(long *)arg; }

TEST(strand_block_on_after_earlier_jobs) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_strand_t *s = rt_strand_new(h);
  long value = 0;
  for (int i = 0; i < 50; i++)
    CHECK_RC(rt_strand_spawn(s, slow_increment, &value), RT_OK);
  void *res = NULL;
  CHECK_RC(rt_strand_block_on(s, read_long, &value, &res), RT_OK);
  CHECK_EQ((long)(intptr_t)res, 50);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_strand_release(s);
  rt_handle_release(h);
}

/* From a task on a one-worker runtime: the strand's wake-up would sit
 * behind the caller on its only worker, so the caller drains the strand. */
typedef struct nested {
  rt_strand_t *strand;
  long value;
  int rc;
  void *res;
} nested_t;

static void *block_on_from_task(void *arg) {
  nested_t *n = arg;
  for (int i = 0; i < 10; i++)
    if (rt_strand_spawn(n->strand, slow_increment, &n->value) != RT_OK)
      FAIL("spawn onto the strand from a task failed");
  n->rc = rt_strand_block_on(n->strand, read_long, &n->value, &n->res);
  return NULL;
}

TEST(strand_block_on_from_task_one_worker) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  nested_t n = {rt_strand_new(h), 0, -1, NULL};
  CHECK_RC(rt_block_on(h, block_on_from_task, &n, NULL), RT_OK);
  CHECK_RC(n.rc, RT_OK);
  CHECK_EQ((long)(intptr_t)n.res, 10);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_strand_release(n.strand);
  rt_handle_release(h);
}

/* From a job of the same strand it would wait for itself. */
static void block_on_own_strand(void *arg) {
  nested_t *n = arg;
  n->rc = rt_strand_block_on(n->strand, never_call, NULL, NULL);
}

TEST(strand_block_on_own_strand_is_edeadlk) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  nested_t n = {rt_strand_new(h), 0, 1, NULL};
  CHECK_RC(rt_strand_spawn(n.strand, block_on_own_strand, &n), RT_OK);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_RC(n.rc, RT_EDEADLK);
  rt_strand_release(n.strand);
  rt_handle_release(h);
}

/* Fairness: with one worker, a task spawned behind a long strand backlog
 * runs long before the backlog is done (the strand yields every batch). */
static atomic_long backlog_ran;
static atomic_long seen_by_task = -1;

static void backlog_job(void *arg) {
  (void)arg;
  atomic_fetch_add(&backlog_ran, 1);
}

static void note_backlog(void *arg) {
  (void)arg;
  atomic_store(&seen_by_task, atomic_load(&backlog_ran));
}

TEST(strand_backlog_yields_the_worker) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_strand_t *s = rt_strand_new(h);
  blocker_t b;
  blocker_init(&b);
  blocker_start(h, &b); /* nothing runs until the backlog is queued */
  enum { BACKLOG = 20000 };
  for (int i = 0; i < BACKLOG; i++)
    CHECK_RC(rt_strand_spawn(s, backlog_job, NULL), RT_OK);
  CHECK_RC(rt_spawn(h, note_backlog, NULL), RT_OK);
  gate_open(&b.gate);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&backlog_ran), BACKLOG);
  long seen = atomic_load(&seen_by_task);
  CHECK_GE(seen, 0);
  /* The strand ran at most a few batches of 64 before the task's turn. */
  CHECK_LT(seen, 64 * 4);
  rt_strand_release(s);
  rt_handle_release(h);
}

/* rt_shutdown runs every accepted strand job, in order, including jobs
 * strand jobs post while the runtime drains. */
typedef struct chain {
  rt_strand_t *strand;
  atomic_int ran;
  int left;
} chain_t;

static void chain_job(void *arg) {
  chain_t *c = arg;
  atomic_fetch_add(&c->ran, 1);
  if (c->left-- > 0 && rt_strand_spawn(c->strand, chain_job, c) != RT_OK)
    FAIL("a strand job's own spawn was refused while the runtime drained");
}

TEST(strand_shutdown_runs_every_job) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  chain_t c = {rt_strand_new(h), 0, 1000};
  CHECK_RC(rt_strand_spawn(c.strand, chain_job, &c), RT_OK);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&c.ran), 1001);
  rt_stats_t st = get_stats(h);
  CHECK_EQ(st.spawned, 1001);
  CHECK_EQ(st.completed, 1001);
  CHECK_EQ(st.dropped, 0);
  CHECK_RC(rt_strand_spawn(c.strand, never_fn, NULL), RT_ESHUTDOWN);
  CHECK_NULL(rt_strand_new(h));
  rt_strand_release(c.strand);
  rt_handle_release(h);
}

/* rt_shutdown_timeout drops the strand's jobs not yet started, each
 * exactly once and in order, and runs none of them after. */
typedef struct exact {
  atomic_int ran[256];
  atomic_int dropped[256];
  atomic_int last_dropped;
  atomic_int drop_out_of_order;
} exact_t;

static exact_t ex;

static void *exact_call(void *arg) {
  atomic_fetch_add(&ex.ran[(intptr_t)arg], 1);
  return NULL;
}

static void exact_drop(void *arg) {
  int i = (int)(intptr_t)arg;
  atomic_fetch_add(&ex.dropped[i], 1);
  if (atomic_exchange(&ex.last_dropped, i) >= i)
    atomic_fetch_add(&ex.drop_out_of_order, 1);
}

TEST(strand_shutdown_timeout_drops_in_order_exactly_once) {
  atomic_store(&ex.last_dropped, -1);
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_strand_t *s = rt_strand_new(h);
  blocker_t b;
  blocker_init(&b);
  pthread_t opener = gate_open_later(&b.gate, 100);
  /* The blocker heads the strand; 255 jobs queue behind it. */
  CHECK_RC(rt_strand_spawn(s, blocker_fn, &b), RT_OK);
  for (intptr_t i = 1; i < 256; i++)
    CHECK_RC(rt_strand_spawn_full(s, exact_call, (void *)i, exact_drop, NULL), RT_OK);
  WAIT_UNTIL(atomic_load(&b.started) == 1);
  CHECK_RC(rt_shutdown_timeout(rt, 10 * MS), RT_ETIMEDOUT);
  int dropped = 0;
  for (int i = 1; i < 256; i++) {
    CHECK_EQ(atomic_load(&ex.ran[i]) + atomic_load(&ex.dropped[i]), 1);
    dropped += atomic_load(&ex.dropped[i]);
  }
  CHECK_EQ(dropped, 255);
  CHECK_EQ(atomic_load(&ex.drop_out_of_order), 0);
  rt_stats_t st = get_stats(h);
  CHECK_EQ(st.spawned, 256);
  CHECK_EQ(st.completed + st.dropped, 256);
  CHECK_EQ(st.dropped, 255);
  pthread_join(opener, NULL);
  rt_strand_release(s);
  rt_handle_release(h);
}

/* Join handles: a result; cancel skips a queued job in the order. */
static void *times_two(void *arg) { return (void *)((intptr_t)arg * 2); }

TEST(strand_spawn_full_join_and_cancel) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_strand_t *s = rt_strand_new(h);
  blocker_t b;
  blocker_init(&b);
  CHECK_RC(rt_strand_spawn(s, blocker_fn, &b), RT_OK);
  WAIT_UNTIL(atomic_load(&b.started) == 1);
  counter_t cancelled, kept;
  counter_init(&cancelled);
  counter_init(&kept);
  rt_task_t *t1 = NULL, *t2 = NULL, *t3 = NULL;
  CHECK_RC(rt_strand_spawn_full(s, counter_call, &cancelled, counter_drop, &t1), RT_OK);
  CHECK_RC(rt_strand_spawn_full(s, counter_call, &kept, counter_drop, &t2), RT_OK);
  CHECK_RC(rt_strand_spawn_full(s, times_two, (void *)21, NULL, &t3), RT_OK);
  CHECK_RC(rt_task_cancel(t1), RT_OK);
  CHECK_EQ(atomic_load(&cancelled.dropped), 1);
  /* A join with a timeout waits: the job is behind the blocker. */
  CHECK_RC(rt_task_join(t3, 0, NULL), RT_ETIMEDOUT);
  gate_open(&b.gate);
  void *res = NULL;
  CHECK_RC(rt_task_join(t3, -1, &res), RT_OK);
  CHECK_EQ((intptr_t)res, 42);
  CHECK_RC(rt_task_join(t2, -1, &res), RT_OK);
  CHECK_PTR_EQ(res, &kept);
  CHECK_RC(rt_task_join(t1, -1, NULL), RT_ECANCELED);
  CHECK_EQ(atomic_load(&cancelled.ran), 0);
  CHECK_EQ(atomic_load(&kept.ran), 1);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_stats_t st = get_stats(h);
  CHECK_EQ(st.spawned, 4);
  CHECK_EQ(st.completed, 3);
  CHECK_EQ(st.dropped, 1);
  rt_task_release(t1);
  rt_task_release(t2);
  rt_task_release(t3);
  rt_strand_release(s);
  rt_handle_release(h);
}

/* A delayed job runs on the strand after its delay; cancelling a pending
 * one drops it. */
TEST(strand_spawn_after_runs_on_the_strand) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_strand_t *s = rt_strand_new(h);
  where_t w = {0};
  rt_task_t *t = NULL, *late = NULL;
  uint64_t start = now_ns();
  CHECK_RC(rt_strand_spawn_after(s, 20 * MS, where_call, &w, NULL, &t), RT_OK);
  counter_t c;
  counter_init(&c);
  CHECK_RC(rt_strand_spawn_after(s, 3600000 * MS, counter_call, &c, counter_drop, &late), RT_OK);
  CHECK_RC(rt_task_join(t, -1, NULL), RT_OK);
  CHECK_GE(now_ns() - start, 20 * MS);
  CHECK_PTR_EQ(w.strand, s);
  CHECK_RC(rt_task_cancel(late), RT_OK);
  CHECK_EQ(atomic_load(&c.dropped), 1);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&c.ran), 0);
  rt_task_release(t);
  rt_task_release(late);
  rt_strand_release(s);
  rt_handle_release(h);
}

/* Bad arguments get RT_EINVAL or NULL; a full queue RT_EAGAIN. */
TEST(strand_invalid_arguments_and_full_queue) {
  CHECK_NULL(rt_strand_new(NULL));
  rt_strand_release(NULL);
  CHECK_RC(rt_strand_spawn(NULL, never_fn, NULL), RT_EINVAL);
  CHECK_RC(rt_strand_spawn_full(NULL, never_call, NULL, NULL, NULL), RT_EINVAL);
  CHECK_RC(rt_strand_spawn_after(NULL, 1, never_call, NULL, NULL, NULL), RT_EINVAL);
  CHECK_RC(rt_strand_block_on(NULL, never_call, NULL, NULL), RT_EINVAL);
  rt_runtime_t *rt = make_rt(1, 4);
  rt_handle_t *h = rt_handle(rt);
  rt_strand_t *s = rt_strand_new(h);
  CHECK_RC(rt_strand_spawn(s, NULL, NULL), RT_EINVAL);
  CHECK_RC(rt_strand_spawn_full(s, NULL, NULL, NULL, NULL), RT_EINVAL);
  CHECK_RC(rt_strand_block_on(s, NULL, NULL, NULL), RT_EINVAL);
  blocker_t b;
  blocker_init(&b);
  blocker_start(h, &b);
  counter_t c;
  counter_init(&c);
  int accepted = 0, rc;
  while ((rc = rt_strand_spawn(s, counter_fn, &c)) == RT_OK)
    accepted++;
  CHECK_RC(rc, RT_EAGAIN);
  CHECK_EQ(accepted, 4);
  gate_open(&b.gate);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&c.ran), 4);
  rt_strand_release(s);
  rt_handle_release(h);
}

/* Releasing the strand with jobs queued: they still run. */
TEST(strand_release_with_jobs_queued) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_strand_t *s = rt_strand_new(h);
  strand_rec_t rec;
  rec_init(&rec, s);
  strand_job_t jobs[1000];
  for (long i = 0; i < 1000; i++) {
    jobs[i] = (strand_job_t){&rec, 0, i};
    CHECK_RC(rt_strand_spawn(s, ordered_job, &jobs[i]), RT_OK);
  }
  rt_strand_release(s);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&rec.ran), 1000);
  CHECK_EQ(atomic_load(&rec.out_of_order), 0);
  rt_handle_release(h);
}

/* rt_stats_t counts the strands alive and the turns they got. */
TEST(strand_stats_strands_and_turns) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  uint64_t before = get_stats(h).strands;
  rt_strand_t *a = rt_strand_new(h), *b = rt_strand_new(h);
  CHECK_EQ(get_stats(h).strands, before + 2);
  CHECK_EQ(get_stats(h).strand_turns, 0);
  counter_t c;
  counter_init(&c);
  for (int i = 0; i < 10; i++)
    CHECK_RC(rt_strand_spawn(a, counter_fn, &c), RT_OK);
  CHECK_RC(rt_strand_block_on(a, counter_call, &c, NULL), RT_OK);
  CHECK_EQ(atomic_load(&c.ran), 11);
  CHECK_GE(get_stats(h).strand_turns, 1);
  rt_strand_release(a);
  rt_strand_release(b);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_stats_t st = get_stats(h);
  CHECK_EQ(st.strands, before);
  CHECK_EQ(st.spawned, 11);
  CHECK_EQ(st.completed, 11);
  /* A caller built against 0.1 passes the older size: accepted. */
  rt_stats_t old;
  memset(&old, 0xA5, sizeof old);
  old.size = offsetof(rt_stats_t, strands);
  CHECK_RC(rt_stats_get(h, &old), RT_OK);
  CHECK_EQ(old.spawned, 11);
  CHECK_EQ(old.strands, 0xA5A5A5A5A5A5A5A5ull);
  rt_handle_release(h);
}

/* Strand jobs in a group: in the strand's order; a wait from a task of a
 * one-worker runtime drains the strand (its wake-up sits behind the
 * waiter on the only worker); cancel drops the queued ones once. */
typedef struct grouped {
  rt_group_t *group;
  rt_strand_t *strand;
  strand_rec_t rec;
  strand_job_t jobs[200];
  int wait_rc;
} grouped_t;

static void *ordered_call(void *arg) {
  ordered_job(arg);
  return NULL;
}

static void *wait_group_from_task(void *arg) {
  grouped_t *gr = arg;
  for (long i = 0; i < 200; i++) {
    gr->jobs[i] = (strand_job_t){&gr->rec, 0, i};
    if (rt_group_strand_spawn(gr->group, gr->strand, ordered_call, &gr->jobs[i], NULL) != RT_OK)
      FAIL("rt_group_strand_spawn from a task refused");
  }
  gr->wait_rc = rt_group_wait(gr->group, -1);
  return NULL;
}

TEST(strand_in_group_order_and_wait_on_one_worker) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  grouped_t *gr = calloc(1, sizeof *gr);
  gr->group = rt_group_new(h);
  gr->strand = rt_strand_new(h);
  rec_init(&gr->rec, gr->strand);
  gr->wait_rc = 1;
  CHECK_RC(rt_block_on(h, wait_group_from_task, gr, NULL), RT_OK);
  CHECK_RC(gr->wait_rc, RT_OK);
  CHECK_EQ(atomic_load(&gr->rec.ran), 200);
  CHECK_EQ(atomic_load(&gr->rec.out_of_order), 0);
  CHECK_EQ(rt_group_pending(gr->group), 0);
  /* Bad arguments. */
  CHECK_RC(rt_group_strand_spawn(NULL, gr->strand, ordered_call, NULL, NULL), RT_EINVAL);
  CHECK_RC(rt_group_strand_spawn(gr->group, NULL, ordered_call, NULL, NULL), RT_EINVAL);
  CHECK_RC(rt_group_strand_spawn(gr->group, gr->strand, NULL, NULL, NULL), RT_EINVAL);
  rt_runtime_t *other = make_rt(1, 0);
  rt_handle_t *oh = rt_handle(other);
  rt_strand_t *foreign = rt_strand_new(oh);
  CHECK_RC(rt_group_strand_spawn(gr->group, foreign, never_call, NULL, NULL), RT_EINVAL);
  rt_strand_release(foreign);
  CHECK_RC(rt_shutdown(other), RT_OK);
  rt_handle_release(oh);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_group_release(gr->group);
  rt_strand_release(gr->strand);
  rt_handle_release(h);
  free(gr);
}

TEST(strand_in_group_cancel_drops_queued_once) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_group_t *g = rt_group_new(h);
  rt_strand_t *s = rt_strand_new(h);
  blocker_t b;
  blocker_init(&b);
  CHECK_RC(rt_strand_spawn(s, blocker_fn, &b), RT_OK);
  WAIT_UNTIL(atomic_load(&b.started) == 1);
  counter_t c[10];
  for (int i = 0; i < 10; i++) {
    counter_init(&c[i]);
    CHECK_RC(rt_group_strand_spawn(g, s, counter_call, &c[i], counter_drop), RT_OK);
  }
  CHECK_EQ(rt_group_pending(g), 10);
  CHECK_EQ(rt_group_cancel(g), 10);
  CHECK_EQ(rt_group_pending(g), 0);
  CHECK_RC(rt_group_wait(g, 0), RT_OK);
  gate_open(&b.gate);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  for (int i = 0; i < 10; i++) {
    CHECK_EQ(atomic_load(&c[i].ran), 0);
    CHECK_EQ(atomic_load(&c[i].dropped), 1);
  }
  rt_stats_t st = get_stats(h);
  CHECK_EQ(st.spawned, 11);
  CHECK_EQ(st.completed, 1);
  CHECK_EQ(st.dropped, 10);
  rt_group_release(g);
  rt_strand_release(s);
  rt_handle_release(h);
}

/* fork() without exec: in the child a strand of an inherited runtime
 * refuses everything, runs none of the parent's jobs, and rt_apply refuses
 * too; the parent's jobs then run, in order, once, in the parent. Also
 * from a child forked inside a strand job: rt_strand_block_on onto that
 * strand answers RT_ESHUTDOWN (the fork check comes before any inline
 * run), and rt_strand_current() is still the strand. */
static atomic_int child_status = -1;

static void fork_in_strand_job(void *s) {
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    counter_t c;
    counter_init(&c);
    int ok = rt_strand_current() == s &&
             rt_strand_block_on(s, counter_call, &c, NULL) == RT_ESHUTDOWN &&
             rt_strand_spawn(s, counter_fn, &c) == RT_ESHUTDOWN && atomic_load(&c.ran) == 0;
    child_exit(ok ? 0 : 1);
  }
  int status = 0;
  if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status))
    atomic_store(&child_status, WEXITSTATUS(status));
}

TEST(strand_fork_child_refuses) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_strand_t *s = rt_strand_new(h);
  blocker_t b;
  blocker_init(&b);
  blocker_start(h, &b);
  strand_rec_t rec;
  rec_init(&rec, s);
  strand_job_t jobs[10];
  for (long i = 0; i < 10; i++) {
    jobs[i] = (strand_job_t){&rec, 0, i};
    CHECK_RC(rt_strand_spawn(s, ordered_job, &jobs[i]), RT_OK);
  }
  fflush(NULL);
  pid_t pid = fork();
  CHECK_GE(pid, 0);
  if (pid == 0) {
    counter_t c;
    counter_init(&c);
    rt_task_t *t = NULL;
    int ok = rt_strand_spawn(s, counter_fn, &c) == RT_ESHUTDOWN &&
             rt_strand_spawn_full(s, counter_call, &c, counter_drop, &t) == RT_ESHUTDOWN &&
             rt_strand_spawn_after(s, MS, counter_call, &c, counter_drop, &t) == RT_ESHUTDOWN &&
             rt_strand_block_on(s, counter_call, &c, NULL) == RT_ESHUTDOWN && t == NULL &&
             rt_strand_new(h) == NULL && rt_strand_current() == NULL &&
             rt_apply(h, 3, never_apply, NULL) == RT_ESHUTDOWN && atomic_load(&c.ran) == 0 &&
             atomic_load(&c.dropped) == 0 && atomic_load(&rec.ran) == 0;
    if (!ok) fprintf(stderr, "strand_fork_child_refuses: a strand call in the child did not refuse\n");
    child_exit(ok ? 0 : 1);
  }
  int status = 0;
  CHECK_EQ(waitpid(pid, &status, 0), pid);
  CHECK_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  gate_open(&b.gate);
  /* A fork inside a strand job, after the ten jobs. */
  if (!UNDER_TSAN) {
    CHECK_RC(rt_strand_spawn(s, fork_in_strand_job, s), RT_OK);
  }
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&rec.ran), 10);
  CHECK_EQ(atomic_load(&rec.out_of_order), 0);
  if (!UNDER_TSAN)
    CHECK_EQ(atomic_load(&child_status), 0);
  rt_strand_release(s);
  rt_handle_release(h);
}
