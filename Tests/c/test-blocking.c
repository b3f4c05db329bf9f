/* test-blocking.c — tasks that block: no work is stranded behind them, joins
 * help, blocking regions hand the worker's queue to a spare thread, and the
 * blocking pool (rt_spawn_blocking). */
#include "harness.h"

#include <stdlib.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Saturation: every worker busy with its own chain of short tasks           */
/* ------------------------------------------------------------------------ */

/* A chain keeps one worker busy and its local queue never empty: each link
 * spins briefly, then spawns the next from the worker, so the next link
 * sits in that worker's own queue and the worker never needs to steal. */
typedef struct load {
  rt_handle_t *h;
  atomic_int stop;
  atomic_long links;
  atomic_int chains_running;
  /* Where the blocked task goes: spawned by link number `blocker_at`. */
  long blocker_at;
  rt_fn blocker;
  void *blocker_arg;
  atomic_int blocker_spawned;
} load_t;

static void spin_us(unsigned us) {
  uint64_t end = now_ns() + (uint64_t)us * 1000;
  while (now_ns() < end) {
  }
}

static void chain_link(void *arg) {
  load_t *l = arg;
  long n = atomic_fetch_add(&l->links, 1);
  if (n == l->blocker_at && !atomic_exchange(&l->blocker_spawned, 1))
    CHECK_RC(rt_spawn(l->h, l->blocker, l->blocker_arg), RT_OK);
  spin_us(20);
  if (atomic_load(&l->stop)) {
    atomic_fetch_sub(&l->chains_running, 1);
    return;
  }
  CHECK_RC(rt_spawn(l->h, chain_link, l), RT_OK);
}

static void start_chains(load_t *l, rt_handle_t *h, unsigned chains) {
  l->h = h;
  atomic_store(&l->chains_running, (int)chains);
  for (unsigned i = 0; i < chains; i++)
    CHECK_RC(rt_spawn(h, chain_link, l), RT_OK);
}

static void stop_chains(load_t *l) {
  atomic_store(&l->stop, 1);
  WAIT_UNTIL(atomic_load(&l->chains_running) == 0);
}

/* The blocked task: spawns a child from its worker (so the child sits in
 * that worker's queue, behind the chain's next link) and blocks in the OS
 * until the child ran. It never joins, so nothing of the runtime knows
 * it waits. */
typedef struct stranded {
  rt_handle_t *h;
  gate_t child_ran;
  atomic_int ok;
  atomic_int done;
  bool use_region;
  atomic_long links_at_child;
  load_t *load;
} stranded_t;

static void stranded_child(void *arg) {
  stranded_t *s = arg;
  atomic_store(&s->links_at_child, atomic_load(&s->load->links));
  gate_open(&s->child_ran);
}

static void stranded_parent(void *arg) {
  stranded_t *s = arg;
  CHECK_RC(rt_spawn(s->h, stranded_child, s), RT_OK);
  if (s->use_region)
    CHECK_RC(rt_blocking_begin(), RT_OK);
  /* A liveness bound, not a speed one: 10 s is forever here. */
  atomic_store(&s->ok, gate_wait_ms(&s->child_ran, 10000));
  if (s->use_region)
    CHECK_RC(rt_blocking_end(), RT_OK);
  atomic_store(&s->done, 1);
}

/* tokio's ping_pong_saturation, in C: a task spawned under saturation by a
 * task that then blocks completes while the load goes on. */
static void saturated_with_blocked_worker(unsigned workers, bool use_region) {
  rt_runtime_t *rt = make_rt(workers, 0);
  rt_handle_t *h = rt_handle(rt);
  stranded_t s = {.h = h, .use_region = use_region};
  gate_init(&s.child_ran);
  load_t load = {.blocker_at = 200, .blocker = stranded_parent, .blocker_arg = &s};
  s.load = &load;
  start_chains(&load, h, workers);
  WAIT_UNTIL(atomic_load(&s.done));
  /* The load was still going when the child ran: the chains never stop
   * before the parent is done. */
  CHECK_TRUE(atomic_load(&s.ok));
  CHECK_FALSE(atomic_load(&load.stop));
  stop_chains(&load);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
  gate_destroy(&s.child_ran);
}

TEST(blocking_stranded_child_runs_2_workers) { saturated_with_blocked_worker(2, false); }

/* ------------------------------------------------------------------------ */
/* A join that would block its worker                                        */
/* ------------------------------------------------------------------------ */

/* tokio's test_disable_lifo_slot, in C: a task on worker B waits (in the
 * OS) for a child it spawned onto B's queue, while the only other worker
 * joins that task. The joining worker must run the child. */
typedef struct join_pattern {
  rt_handle_t *h;
  gate_t child_ran;
  atomic_int parent_started;
  atomic_int joining;
  atomic_int ok;
  rt_task_t *parent;
  atomic_int join_rc;
} join_pattern_t;

static void jp_child(void *arg) { gate_open(&((join_pattern_t *)arg)->child_ran); }

static void *jp_parent(void *arg) {
  join_pattern_t *p = arg;
  atomic_store(&p->parent_started, 1);
  /* Spawn the child only once the other worker is in the join: an idle
   * worker would steal it anyway. */
  while (!atomic_load(&p->joining))
    sleep_us(100);
  sleep_ms(2);
  CHECK_RC(rt_spawn(p->h, jp_child, p), RT_OK);
  atomic_store(&p->ok, gate_wait_ms(&p->child_ran, 10000));
  return p;
}

static void *jp_joiner(void *arg) {
  join_pattern_t *p = arg;
  void *result = NULL;
  atomic_store(&p->joining, 1);
  atomic_store(&p->join_rc, rt_task_join(p->parent, -1, &result));
  CHECK_PTR_EQ(result, p);
  return NULL;
}

static void join_frees_its_worker(const rt_config_t *cfg) {
  rt_runtime_t *rt = rt_new(cfg);
  CHECK_NOT_NULL(rt);
  rt_handle_t *h = rt_handle(rt);
  join_pattern_t p = {.h = h, .join_rc = 1};
  gate_init(&p.child_ran);
  CHECK_RC(rt_spawn_full(h, jp_parent, &p, NULL, &p.parent), RT_OK);
  WAIT_UNTIL(atomic_load(&p.parent_started));
  void *unused;
  CHECK_RC(rt_block_on(h, jp_joiner, &p, &unused), RT_OK);
  CHECK_RC(atomic_load(&p.join_rc), RT_OK);
  CHECK_TRUE(atomic_load(&p.ok));
  rt_task_release(p.parent);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
  gate_destroy(&p.child_ran);
}

TEST(blocking_join_runs_other_work) {
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = 2;
  join_frees_its_worker(&cfg);
}

static rt_runtime_t *make_blocking_rt(unsigned workers, unsigned max_blocking,
                                      uint64_t keep_alive_ns, const char *name) {
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = workers;
  cfg.max_blocking_threads = max_blocking;
  cfg.blocking_keep_alive_ns = keep_alive_ns;
  cfg.thread_name = name;
  rt_runtime_t *rt = rt_new(&cfg);
  CHECK_NOT_NULL(rt);
  return rt;
}

/* Saturation with one blocked worker, for every worker count 1-8: without
 * a hint (the monitor moves the child; not with one worker, where nobody
 * is left to run it), and in a blocking region (the worker moves). */
TEST(blocking_saturation_every_worker_count) {
  for (unsigned workers = 1; workers <= 8; workers++) {
    saturated_with_blocked_worker(workers, true);
    if (workers >= 2)
      saturated_with_blocked_worker(workers, false);
  }
}

/* The monitor's work shows in the counters; with the monitor off there is
 * no "-m" thread. */
TEST(blocking_monitor_counts_and_can_be_off) {
  rt_runtime_t *rt = make_blocking_rt(2, 0, 0, "moncount");
  rt_handle_t *h = rt_handle(rt);
  stranded_t s = {.h = h};
  gate_init(&s.child_ran);
  load_t load = {.blocker_at = 50, .blocker = stranded_parent, .blocker_arg = &s};
  s.load = &load;
  start_chains(&load, h, 2);
  WAIT_UNTIL(atomic_load(&s.done));
  CHECK_TRUE(atomic_load(&s.ok));
  stop_chains(&load);
  CHECK_GT(get_stats(h).stranded_moved, 0);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
  gate_destroy(&s.child_ran);

  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = 2;
  cfg.thread_name = "monoff";
  cfg.stranded_after_ns = UINT64_MAX;
  rt = rt_new(&cfg);
  CHECK_NOT_NULL(rt);
  WAIT_UNTIL(count_threads("monoff-") == 2);
  sleep_ms(20);
  CHECK_EQ(count_threads("monoff-m"), 0);
  CHECK_RC(rt_shutdown(rt), RT_OK);
}

/* The join pattern frees its worker by helping alone: the monitor is off. */
TEST(blocking_join_helps_without_monitor) {
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = 2;
  cfg.stranded_after_ns = UINT64_MAX;
  join_frees_its_worker(&cfg);
}

/* Nested joins 10 deep, each child likely stolen by the other worker (its
 * parent spins first), so the joins wait and help rather than run inline. */
typedef struct nest {
  rt_handle_t *h;
  int depth;
} nest_t;

static void *nest_fn(void *arg) {
  nest_t *n = arg;
  if (n->depth == 10)
    return (void *)(intptr_t)10;
  nest_t child = {.h = n->h, .depth = n->depth + 1};
  rt_task_t *t;
  CHECK_RC(rt_spawn_full(n->h, nest_fn, &child, NULL, &t), RT_OK);
  spin_us(200);
  void *r = NULL;
  CHECK_RC(rt_task_join(t, -1, &r), RT_OK);
  rt_task_release(t);
  return (void *)((intptr_t)r + n->depth);
}

TEST(blocking_nested_joins_10_deep) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  for (int round = 0; round < 20; round++) {
    nest_t root = {.h = h, .depth = 0};
    void *r = NULL;
    CHECK_RC(rt_block_on(h, nest_fn, &root, &r), RT_OK);
    CHECK_EQ((intptr_t)r, 55); /* 0 + 1 + ... + 10 */
  }
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

/* A task joining itself, or a task further down its own thread's stack,
 * gets RT_EDEADLK at once. */
typedef struct self_join {
  gate_t have_handle;
  rt_task_t *self;
  rt_task_t *parent;
  rt_handle_t *h;
  atomic_int rc;
  atomic_int child_rc;
} self_join_t;

static void *join_self(void *arg) {
  self_join_t *s = arg;
  gate_wait(&s->have_handle);
  atomic_store(&s->rc, rt_task_join(s->self, -1, NULL));
  return NULL;
}

static void *join_parent(void *arg) {
  self_join_t *s = arg;
  atomic_store(&s->child_rc, rt_task_join(s->parent, -1, NULL));
  return NULL;
}

static void *parent_joins_child(void *arg) {
  self_join_t *s = arg;
  gate_wait(&s->have_handle);
  rt_task_t *child;
  CHECK_RC(rt_spawn_full(s->h, join_parent, s, NULL, &child), RT_OK);
  /* One worker: the child is still queued, so the join runs it inline,
   * and its join on us finds us further down this thread's stack. */
  CHECK_RC(rt_task_join(child, -1, NULL), RT_OK);
  rt_task_release(child);
  return s;
}

TEST(blocking_join_cycle_on_own_stack_is_edeadlk) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  self_join_t s = {.h = h, .rc = 1, .child_rc = 1};
  gate_init(&s.have_handle);
  CHECK_RC(rt_spawn_full(h, join_self, &s, NULL, &s.self), RT_OK);
  gate_open(&s.have_handle);
  CHECK_RC(rt_task_join(s.self, -1, NULL), RT_OK);
  CHECK_RC(atomic_load(&s.rc), RT_EDEADLK);
  rt_task_release(s.self);

  gate_destroy(&s.have_handle);
  gate_init(&s.have_handle);
  CHECK_RC(rt_spawn_full(h, parent_joins_child, &s, NULL, &s.parent), RT_OK);
  gate_open(&s.have_handle);
  void *r = NULL;
  CHECK_RC(rt_task_join(s.parent, -1, &r), RT_OK);
  CHECK_PTR_EQ(r, &s);
  CHECK_RC(atomic_load(&s.child_rc), RT_EDEADLK);
  rt_task_release(s.parent);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
  gate_destroy(&s.have_handle);
}

/* rt_block_on onto another runtime, from the only worker of a first one,
 * helps the first: the job it waits for is queued behind it. */
typedef struct two_rt {
  rt_handle_t *a, *b;
  gate_t opened;
} two_rt_t;

static void open_it(void *arg) { gate_open(&((two_rt_t *)arg)->opened); }

static void *wait_open(void *arg) {
  two_rt_t *x = arg;
  return gate_wait_ms(&x->opened, 10000) ? x : NULL;
}

static void *on_a(void *arg) {
  two_rt_t *x = arg;
  CHECK_RC(rt_spawn(x->a, open_it, x), RT_OK); /* queued behind us on a */
  void *r = NULL;
  CHECK_RC(rt_block_on(x->b, wait_open, x, &r), RT_OK);
  return r;
}

TEST(blocking_block_on_other_runtime_helps) {
  rt_runtime_t *ra = make_rt(1, 0), *rb = make_rt(1, 0);
  two_rt_t x = {.a = rt_handle(ra), .b = rt_handle(rb)};
  gate_init(&x.opened);
  void *r = NULL;
  CHECK_RC(rt_block_on(x.a, on_a, &x, &r), RT_OK);
  CHECK_PTR_EQ(r, &x);
  CHECK_GE(get_stats(x.a).joins_helped, 1);
  CHECK_RC(rt_shutdown(ra), RT_OK);
  CHECK_RC(rt_shutdown(rb), RT_OK);
  rt_handle_release(x.a);
  rt_handle_release(x.b);
  gate_destroy(&x.opened);
}

/* ------------------------------------------------------------------------ */
/* The blocking pool                                                         */
/* ------------------------------------------------------------------------ */

typedef struct pool_job {
  atomic_int *ran;
  atomic_int *dropped;
  gate_t *gate; /* waited for, if not NULL */
  atomic_int *started;
  rt_handle_t *h;
  int current_ok;
  int value;
} pool_job_t;

static void *pool_fn(void *arg) {
  pool_job_t *j = arg;
  if (j->started)
    atomic_fetch_add(j->started, 1);
  if (j->gate)
    gate_wait(j->gate);
  if (j->h)
    j->current_ok = rt_handle_current() == j->h;
  atomic_fetch_add(j->ran, 1);
  return (void *)(intptr_t)(j->value * 2);
}

static void pool_drop(void *arg) { atomic_fetch_add(((pool_job_t *)arg)->dropped, 1); }

/* Each job runs once, on a thread of the runtime, and its join handle gives
 * its result. */
TEST(blocking_pool_runs_each_once) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  enum { N = 300 };
  atomic_int ran = 0, dropped = 0;
  pool_job_t *jobs = calloc(N, sizeof *jobs);
  rt_task_t *tasks[N] = {0};
  for (int i = 0; i < N; i++) {
    jobs[i] = (pool_job_t){.ran = &ran, .dropped = &dropped, .h = h, .value = i};
    CHECK_RC(rt_spawn_blocking(h, pool_fn, &jobs[i], pool_drop, i % 2 ? &tasks[i] : NULL), RT_OK);
  }
  for (int i = 1; i < N; i += 2) {
    void *r = NULL;
    CHECK_RC(rt_task_join(tasks[i], -1, &r), RT_OK);
    CHECK_EQ((intptr_t)r, 2 * i);
    rt_task_release(tasks[i]);
  }
  WAIT_UNTIL(atomic_load(&ran) == N);
  for (int i = 0; i < N; i++)
    CHECK_TRUE(jobs[i].current_ok);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.blocking_spawned, N);
  CHECK_GE(s.blocking_threads_peak, 1);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  s = get_stats(h);
  CHECK_EQ(s.spawned, s.completed + s.dropped);
  CHECK_EQ(atomic_load(&dropped), 0);
  CHECK_EQ(atomic_load(&ran), N);
  rt_handle_release(h);
  free(jobs);
}

/* The pool grows one thread per job while none idles, up to the cap; the
 * rest wait in order. Then idle threads exit after the keep-alive, and the
 * pool grows again on demand. */
TEST(blocking_pool_grows_to_cap_and_shrinks) {
  rt_runtime_t *rt = make_blocking_rt(1, 3, 30 * MS, "bpool");
  rt_handle_t *h = rt_handle(rt);
  atomic_int ran = 0, dropped = 0, started = 0;
  gate_t gate;
  gate_init(&gate);
  pool_job_t jobs[6];
  for (int i = 0; i < 6; i++) {
    jobs[i] = (pool_job_t){.ran = &ran, .dropped = &dropped, .gate = &gate, .started = &started};
    CHECK_RC(rt_spawn_blocking(h, pool_fn, &jobs[i], pool_drop, NULL), RT_OK);
  }
  WAIT_UNTIL(atomic_load(&started) == 3);
  sleep_ms(20);
  CHECK_EQ(atomic_load(&started), 3); /* the cap: three wait */
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.blocking_threads, 3);
  CHECK_EQ(s.queued, 3);
  CHECK_EQ(count_threads("bpool-b"), 3);
  gate_open(&gate);
  WAIT_UNTIL(atomic_load(&ran) == 6);
  CHECK_EQ(get_stats(h).blocking_threads_peak, 3);
  /* Idle for the keep-alive: every blocking thread exits. */
  WAIT_UNTIL(get_stats(h).blocking_threads == 0);
  WAIT_UNTIL(count_threads("bpool-b") == 0);
  /* And comes back. */
  CHECK_RC(rt_spawn_blocking(h, pool_fn, &jobs[0], pool_drop, NULL), RT_OK);
  WAIT_UNTIL(atomic_load(&ran) == 7);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&dropped), 0);
  CHECK_EQ(get_stats(h).blocking_threads, 0);
  rt_handle_release(h);
  gate_destroy(&gate);
}

/* A queued blocking job can be cancelled: dropped once, never run; a full
 * queue refuses with RT_EAGAIN and takes nothing. */
TEST(blocking_pool_cancel_and_capacity) {
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = 1;
  cfg.max_blocking_threads = 1;
  cfg.queue_capacity = 2;
  rt_runtime_t *rt = rt_new(&cfg);
  CHECK_NOT_NULL(rt);
  rt_handle_t *h = rt_handle(rt);
  atomic_int ran = 0, dropped = 0, started = 0;
  gate_t gate;
  gate_init(&gate);
  pool_job_t first = {.ran = &ran, .dropped = &dropped, .gate = &gate, .started = &started};
  pool_job_t queued = {.ran = &ran, .dropped = &dropped};
  rt_task_t *t1, *t2, *t3;
  CHECK_RC(rt_spawn_blocking(h, pool_fn, &first, pool_drop, &t1), RT_OK);
  WAIT_UNTIL(atomic_load(&started) == 1);
  CHECK_RC(rt_spawn_blocking(h, pool_fn, &queued, pool_drop, &t2), RT_OK);
  CHECK_RC(rt_spawn_blocking(h, pool_fn, &queued, pool_drop, &t3), RT_OK);
  CHECK_RC(rt_spawn_blocking(h, pool_fn, &queued, pool_drop, NULL), RT_EAGAIN);
  CHECK_RC(rt_task_cancel(t2), RT_OK);
  CHECK_EQ(atomic_load(&dropped), 1);
  CHECK_RC(rt_task_cancel(t2), RT_EBUSY);
  gate_open(&gate);
  CHECK_RC(rt_task_join(t1, -1, NULL), RT_OK);
  CHECK_RC(rt_task_join(t2, -1, NULL), RT_ECANCELED);
  CHECK_RC(rt_task_join(t3, -1, NULL), RT_OK);
  CHECK_RC(rt_task_cancel(t3), RT_EBUSY);
  rt_task_release(t1);
  rt_task_release(t2);
  rt_task_release(t3);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&ran), 2);
  CHECK_EQ(atomic_load(&dropped), 1);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, s.completed + s.dropped);
  CHECK_EQ(s.rejected, 1);
  rt_handle_release(h);
  gate_destroy(&gate);
}

/* rt_shutdown waits for running and queued blocking jobs and runs them all;
 * rt_shutdown_timeout drops the queued ones, each exactly once. */
static void *sleep_then_count(void *arg) {
  pool_job_t *j = arg;
  sleep_ms(20);
  atomic_fetch_add(j->ran, 1);
  return NULL;
}

TEST(blocking_pool_shutdown_drains) {
  rt_runtime_t *rt = make_blocking_rt(1, 2, 0, NULL);
  rt_handle_t *h = rt_handle(rt);
  atomic_int ran = 0, dropped = 0;
  pool_job_t j = {.ran = &ran, .dropped = &dropped};
  for (int i = 0; i < 8; i++)
    CHECK_RC(rt_spawn_blocking(h, sleep_then_count, &j, pool_drop, NULL), RT_OK);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&ran), 8);
  CHECK_EQ(atomic_load(&dropped), 0);
  CHECK_RC(rt_spawn_blocking(h, sleep_then_count, &j, pool_drop, NULL), RT_ESHUTDOWN);
  CHECK_EQ(atomic_load(&dropped), 0);
  rt_handle_release(h);
}

TEST(blocking_pool_shutdown_timeout_drops_queued_once) {
  rt_runtime_t *rt = make_blocking_rt(1, 1, 0, NULL);
  rt_handle_t *h = rt_handle(rt);
  atomic_int ran = 0, dropped = 0, started = 0;
  gate_t gate;
  gate_init(&gate);
  pool_job_t first = {.ran = &ran, .dropped = &dropped, .gate = &gate, .started = &started};
  pool_job_t rest = {.ran = &ran, .dropped = &dropped};
  rt_task_t *last;
  CHECK_RC(rt_spawn_blocking(h, pool_fn, &first, pool_drop, NULL), RT_OK);
  WAIT_UNTIL(atomic_load(&started) == 1);
  for (int i = 0; i < 9; i++)
    CHECK_RC(rt_spawn_blocking(h, pool_fn, &rest, pool_drop, i == 8 ? &last : NULL), RT_OK);
  pthread_t opener = gate_open_later(&gate, 200);
  CHECK_RC(rt_shutdown_timeout(rt, 30 * MS), RT_ETIMEDOUT);
  pthread_join(opener, NULL);
  CHECK_EQ(atomic_load(&ran), 1);
  CHECK_EQ(atomic_load(&dropped), 9);
  CHECK_RC(rt_task_join(last, -1, NULL), RT_ECANCELED);
  rt_task_release(last);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, s.completed + s.dropped);
  CHECK_EQ(s.dropped, 9);
  rt_handle_release(h);
  gate_destroy(&gate);
}

/* The thread hooks run on blocking threads too, once each. */
static atomic_int hook_starts, hook_stops;
static void count_start(void *u) { (void)u; atomic_fetch_add(&hook_starts, 1); }
static void count_stop(void *u) { (void)u; atomic_fetch_add(&hook_stops, 1); }

TEST(blocking_pool_threads_run_hooks) {
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = 2;
  cfg.on_thread_start = count_start;
  cfg.on_thread_stop = count_stop;
  rt_runtime_t *rt = rt_new(&cfg);
  CHECK_NOT_NULL(rt);
  rt_handle_t *h = rt_handle(rt);
  CHECK_EQ(atomic_load(&hook_starts), 2);
  atomic_int ran = 0, dropped = 0;
  pool_job_t j = {.ran = &ran, .dropped = &dropped};
  rt_task_t *t;
  CHECK_RC(rt_spawn_blocking(h, pool_fn, &j, pool_drop, &t), RT_OK);
  CHECK_RC(rt_task_join(t, -1, NULL), RT_OK);
  rt_task_release(t);
  CHECK_EQ(atomic_load(&hook_starts), 3);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&hook_stops), 3);
  rt_handle_release(h);
}

TEST(blocking_pool_bad_arguments) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_task_t *t = (rt_task_t *)&t;
  CHECK_RC(rt_spawn_blocking(NULL, pool_fn, NULL, NULL, &t), RT_EINVAL);
  CHECK_RC(rt_spawn_blocking(h, NULL, NULL, NULL, &t), RT_EINVAL);
  CHECK_PTR_EQ(t, &t); /* untouched on failure */
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

/* ------------------------------------------------------------------------ */
/* Blocking regions                                                          */
/* ------------------------------------------------------------------------ */

typedef struct region_codes {
  int begin, nested, end_inner, end_outer, extra_end;
  int pool_begin, pool_end;
} region_codes_t;

static void region_codes_fn(void *arg) {
  region_codes_t *c = arg;
  c->begin = rt_blocking_begin();
  c->nested = rt_blocking_begin();
  c->end_inner = rt_blocking_end();
  c->end_outer = rt_blocking_end();
  c->extra_end = rt_blocking_end();
}

static void *region_in_pool(void *arg) {
  region_codes_t *c = arg;
  c->pool_begin = rt_blocking_begin();
  c->pool_end = rt_blocking_end();
  return NULL;
}

TEST(blocking_region_codes) {
  CHECK_RC(rt_blocking_begin(), RT_EINVAL); /* not a runtime's thread */
  CHECK_RC(rt_blocking_end(), RT_EINVAL);
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  region_codes_t c;
  memset(&c, 0x7f, sizeof c);
  void *unused;
  /* rt_block_on from outside runs on the worker. */
  CHECK_RC(rt_block_on(h, (rt_call_fn)(void *)region_in_pool, &c, &unused), RT_OK);
  CHECK_RC(c.pool_begin, RT_OK);
  CHECK_RC(c.pool_end, RT_OK);
  rt_task_t *t;
  CHECK_RC(rt_spawn_blocking(h, region_in_pool, &c, NULL, &t), RT_OK);
  CHECK_RC(rt_task_join(t, -1, NULL), RT_OK);
  rt_task_release(t);
  CHECK_RC(c.pool_begin, RT_OK);
  CHECK_RC(c.pool_end, RT_OK);
  CHECK_RC(rt_spawn(h, region_codes_fn, &c), RT_OK);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_RC(c.begin, RT_OK);
  CHECK_RC(c.nested, RT_OK);
  CHECK_RC(c.end_inner, RT_OK);
  CHECK_RC(c.end_outer, RT_OK);
  CHECK_RC(c.extra_end, RT_EINVAL);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.blocking_regions, 3); /* block_on's, the pool job's, the task's */
  CHECK_EQ(s.handoffs, 2);         /* the pool job had nothing to hand off */
  rt_handle_release(h);
}

/* With one worker, a task in a region blocks while 1000 others run: its
 * worker moved to another thread. */
typedef struct region_block {
  gate_t gate;
  atomic_int in_region;
  int rc;
} region_block_t;

static void region_blocker(void *arg) {
  region_block_t *b = arg;
  b->rc = rt_blocking_begin();
  atomic_store(&b->in_region, 1);
  gate_wait(&b->gate);
  CHECK_RC(rt_blocking_end(), RT_OK);
}

static void count_fn(void *arg) { atomic_fetch_add((atomic_int *)arg, 1); }

TEST(blocking_region_hands_off_the_worker) {
  rt_runtime_t *rt = make_blocking_rt(1, 0, 0, "handoff");
  rt_handle_t *h = rt_handle(rt);
  region_block_t b = {0};
  gate_init(&b.gate);
  CHECK_RC(rt_spawn(h, region_blocker, &b), RT_OK);
  WAIT_UNTIL(atomic_load(&b.in_region));
  CHECK_RC(b.rc, RT_OK);
  atomic_int ran = 0;
  for (int i = 0; i < 1000; i++)
    CHECK_RC(rt_spawn(h, count_fn, &ran), RT_OK);
  WAIT_UNTIL(atomic_load(&ran) == 1000);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.handoffs, 1);
  CHECK_EQ(s.blocking_threads, 1); /* the blocked task's thread */
  CHECK_EQ(count_threads("handoff-b0"), 1); /* runs the worker now */
  gate_open(&b.gate);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
  gate_destroy(&b.gate);
}

/* Past the cap, a region is refused with RT_EAGAIN and the worker stays;
 * rt_blocking_end still pairs with it. */
TEST(blocking_region_without_spare_is_eagain) {
  rt_runtime_t *rt = make_blocking_rt(2, 1, 0, NULL);
  rt_handle_t *h = rt_handle(rt);
  region_block_t a = {0}, b = {0};
  gate_init(&a.gate);
  gate_init(&b.gate);
  CHECK_RC(rt_spawn(h, region_blocker, &a), RT_OK);
  WAIT_UNTIL(atomic_load(&a.in_region));
  CHECK_RC(a.rc, RT_OK); /* the one blocking thread: a's own */
  CHECK_RC(rt_spawn(h, region_blocker, &b), RT_OK);
  WAIT_UNTIL(atomic_load(&b.in_region));
  CHECK_RC(b.rc, RT_EAGAIN);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.handoffs, 1);
  CHECK_EQ(s.blocking_regions, 2);
  gate_open(&a.gate);
  gate_open(&b.gate);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
  gate_destroy(&a.gate);
  gate_destroy(&b.gate);
}

/* ------------------------------------------------------------------------ */
/* fork() without exec, from inside a task                                   */
/* ------------------------------------------------------------------------ */

#include <sys/mman.h>
#include <sys/wait.h>

/* In a child forked by a task, nothing of the inherited runtime runs: its
 * blocking pool refuses, a region moves nothing, and a join that would
 * help in the parent runs none of the parent's queued jobs. The counter
 * lives in shared memory, so the child's runs would show in the parent. */
typedef struct fork_probe {
  rt_handle_t *h;
  atomic_int *runs; /* MAP_SHARED */
  int child_status;
  atomic_int stop_spinner;
  atomic_int spinner_started;
  rt_task_t *spinner;
} fork_probe_t;

static void shared_count(void *arg) { atomic_fetch_add(((fork_probe_t *)arg)->runs, 1); }
static void *shared_count_call(void *arg) {
  shared_count(arg);
  return NULL;
}

static void *slow_call(void *arg) {
  sleep_ms(20);
  return arg;
}

static void *spin_until_stopped(void *arg) {
  fork_probe_t *p = arg;
  atomic_store(&p->spinner_started, 1);
  while (!atomic_load(&p->stop_spinner))
    sleep_us(100);
  return NULL;
}

static void fork_in_task(void *arg) {
  fork_probe_t *p = arg;
  /* Queued behind us on this worker: a helping join in the child must
   * not run them. */
  for (int i = 0; i < 8; i++)
    CHECK_RC(rt_spawn(p->h, shared_count, p), RT_OK);
  pid_t pid = fork();
  if (pid == 0) {
    int bad = 0;
    if (rt_spawn_blocking(p->h, shared_count_call, p, NULL, NULL) != RT_ESHUTDOWN)
      bad |= 1;
    if (rt_blocking_begin() != RT_EAGAIN)
      bad |= 2;
    if (rt_blocking_end() != RT_OK)
      bad |= 4;
    /* Another worker runs it in the parent; here it never finishes. */
    if (rt_task_join(p->spinner, -1, NULL) != RT_ESHUTDOWN)
      bad |= 8;
    /* A join on a task of a runtime made in the child: this thread is a
     * worker of the inherited one, whose jobs the join must not help with.
     * (ThreadSanitizer cannot start threads in such a child.) */
    if (UNDER_TSAN)
      _exit(bad);
    rt_runtime_t *mine = rt_new(NULL);
    rt_handle_t *mh = rt_handle(mine);
    rt_task_t *t = NULL;
    if (rt_spawn_full(mh, slow_call, NULL, NULL, &t) != RT_OK || rt_task_join(t, -1, NULL) != RT_OK)
      bad |= 16;
    rt_task_release(t);
    if (rt_shutdown(mine) != RT_OK)
      bad |= 32;
    rt_handle_release(mh);
    _exit(bad);
  }
  CHECK_GT(pid, 0);
  int status = 0;
  CHECK_EQ(waitpid(pid, &status, 0), pid);
  p->child_status = WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

TEST(blocking_fork_child_runs_nothing) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  atomic_int *runs = mmap(NULL, sizeof *runs, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  CHECK_TRUE(runs != MAP_FAILED);
  atomic_store(runs, 0);
  fork_probe_t p = {.h = h, .runs = runs};
  CHECK_RC(rt_spawn_full(h, spin_until_stopped, &p, NULL, &p.spinner), RT_OK);
  WAIT_UNTIL(atomic_load(&p.spinner_started));
  void *unused;
  CHECK_RC(rt_block_on(h, (rt_call_fn)(void *)fork_in_task, &p, &unused), RT_OK);
  CHECK_EQ(p.child_status, 0);
  atomic_store(&p.stop_spinner, 1);
  CHECK_RC(rt_task_join(p.spinner, -1, NULL), RT_OK);
  rt_task_release(p.spinner);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(runs), 8); /* the parent's runs only */
  munmap(runs, sizeof *runs);
  rt_handle_release(h);
}

/* A join on a worker never runs a queued blocking job there (it waits for
 * the pool, helping meanwhile); a join on a blocking thread may. */
typedef struct join_pooled {
  rt_handle_t *h;
  pthread_t ran_on;
  pthread_t worker;
} join_pooled_t;

static void *note_thread(void *arg) {
  ((join_pooled_t *)arg)->ran_on = pthread_self();
  return NULL;
}

static void *join_queued_blocking(void *arg) {
  join_pooled_t *j = arg;
  j->worker = pthread_self();
  rt_task_t *t;
  CHECK_RC(rt_spawn_blocking(j->h, note_thread, j, NULL, &t), RT_OK);
  CHECK_RC(rt_task_join(t, -1, NULL), RT_OK);
  rt_task_release(t);
  return NULL;
}

TEST(blocking_join_leaves_queued_blocking_job_to_pool) {
  rt_runtime_t *rt = make_blocking_rt(1, 1, 0, NULL);
  rt_handle_t *h = rt_handle(rt);
  atomic_int ran = 0, dropped = 0, started = 0;
  gate_t gate;
  gate_init(&gate);
  /* The pool's one thread is taken: the next blocking job queues. */
  pool_job_t first = {.ran = &ran, .dropped = &dropped, .gate = &gate, .started = &started};
  CHECK_RC(rt_spawn_blocking(h, pool_fn, &first, NULL, NULL), RT_OK);
  WAIT_UNTIL(atomic_load(&started) == 1);
  pthread_t opener = gate_open_later(&gate, 20);
  join_pooled_t j = {.h = h};
  void *unused;
  CHECK_RC(rt_block_on(h, join_queued_blocking, &j, &unused), RT_OK);
  pthread_join(opener, NULL);
  CHECK_FALSE(pthread_equal(j.ran_on, j.worker));
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
  gate_destroy(&gate);
}
