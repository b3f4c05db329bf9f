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
  gate_destroy(&p.child_ran);
}

TEST(blocking_join_runs_other_work) {
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = 2;
  join_frees_its_worker(&cfg);
}
