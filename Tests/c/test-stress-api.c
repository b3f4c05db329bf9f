/* test-stress-api.c — every API call at once, at random, racing a shutdown.
 *
 * Each round starts a runtime (1 to 4 workers, sometimes a bounded queue),
 * lets 2 to 8 foreign threads and the runtime's own tasks issue random
 * interleavings of every call the API has (spawns of every kind, drop
 * callbacks, timers from 0 to "never", block_on, joins with timeouts from
 * 0 to forever, cancels, is_finished, enter/exit with out-of-order exits,
 * handle clones and releases, trampolines in both modes, stats with every
 * size, strand spawns of every kind and strand block_on, with each strand
 * job checking it runs alone on its strand, rt_apply with each index
 * checked once, and blocking work: rt_spawn_blocking jobs that block for
 * 0-200 us, some cancelled at once, blocking regions (nested, with spawns
 * and joins inside, and off the runtime, where they are refused), and
 * tasks that join a task that blocks), on a runtime with a small blocking
 * pool (1-4 threads, so regions get RT_EAGAIN and blocking jobs queue), a
 * short keep-alive (threads exit and start again) and a short stranded
 * limit, while one thread shuts the runtime down at a random instant,
 * gracefully or with a timeout from 0 to ample. The threads go on calling
 * after the shutdown returned.
 *
 * A ledger holds one entry per unit of work: how often its fn ran and its
 * drop ran, and what its spawn returned. Afterwards it checks that each
 * accepted unit ran xor was dropped, exactly once; refused ones neither;
 * joins and cancels agreed with what happened; the stats add up
 * (spawned == completed + dropped, and each figure equals the ledger's;
 * blocking_spawned and blocking_regions exactly, the pool's thread counts
 * within their cap and 0 after the shutdown); the hooks balanced and
 * every thread of the runtime is gone. Against a debug
 * library (make stress) it also counts live objects: no runtime, task,
 * guard or callback outlives the round.
 *
 * STRESS_SECONDS (default 2) is how long it goes on, round after round.
 * The seed is printed; RTCTX_SEED=<seed> replays each thread's sequence of
 * calls and each round's configuration (the interleaving itself is the
 * scheduler's). */
#include "harness.h"

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

/* ------------------------------------------------------------------------ */
/* The ledger                                                                */
/* ------------------------------------------------------------------------ */

enum kind {
  K_SPAWN,        /* rt_spawn: no drop callback */
  K_FULL,         /* rt_spawn_full */
  K_AFTER,        /* rt_spawn_after */
  K_BLOCK_ON,     /* rt_block_on from a foreign thread */
  K_BLOCK_INLINE, /* rt_block_on from a task: runs inline, not counted */
  K_POST,         /* a POST trampoline call: its refusal is not visible */
  K_WAIT,         /* a WAIT trampoline call from a foreign thread: likewise */
  K_WAIT_INLINE,  /* a WAIT call from a task: inline, not counted */
  K_STRAND,       /* rt_strand_spawn */
  K_STRAND_FULL,  /* rt_strand_spawn_full */
  K_STRAND_AFTER, /* rt_strand_spawn_after */
  K_STRAND_BLOCK, /* rt_strand_block_on (counted: it is a strand job) */
  K_GROUP,        /* rt_group_spawn */
  K_GROUP_STRAND, /* rt_group_strand_spawn */
  K_BLOCKING,     /* rt_spawn_blocking */
  K_LEAF,         /* rt_spawn_full or rt_spawn_blocking of a job that only blocks, joined at once */
  K_LOOP,         /* rt_loop_spawn */
  K_LOOP_FULL,    /* rt_loop_spawn_full */
  K_LOOP_AFTER,   /* rt_loop_spawn_after */
  K_LOOP_BLOCK,   /* rt_loop_block_on (counted: it is a loop job) */
  K_THEN,         /* rt_spawn_then: the task; its completion is a K_COMPLETION item */
  K_COMPLETION,   /* a completion: ran (fn) or dropped (drop) once if its task was accepted */
  K_COUNT
};
static const char *const kind_name[K_COUNT] = {
    "rt_spawn", "rt_spawn_full", "rt_spawn_after", "rt_block_on",
    "rt_block_on (inline)", "POST call", "WAIT call", "WAIT call (inline)",
    "rt_strand_spawn", "rt_strand_spawn_full", "rt_strand_spawn_after", "rt_strand_block_on",
    "rt_group_spawn", "rt_group_strand_spawn", "rt_spawn_blocking", "a joined leaf",
    "rt_loop_spawn", "rt_loop_spawn_full", "rt_loop_spawn_after", "rt_loop_block_on",
    "rt_spawn_then", "a completion"};

static bool is_timer(enum kind k) { return k == K_AFTER || k == K_STRAND_AFTER || k == K_LOOP_AFTER; }
static bool is_loop(enum kind k) { return k >= K_LOOP && k <= K_LOOP_BLOCK; }

#define RC_UNKNOWN 1 /* not yet returned, or not observable */

struct item {
  atomic_int ran;
  atomic_int dropped;
  atomic_int rc;
  atomic_int join_ok;       /* a join returned RT_OK */
  atomic_int join_canceled; /* a join returned RT_ECANCELED */
  atomic_int cancel_ok;     /* rt_task_cancel returned RT_OK */
  enum kind kind;
  bool has_drop;
  bool from_task;
  int depth; /* 0 from a foreign thread, else its parent's + 1 */
  uint64_t delay;
  uint64_t seq; /* creation order: tasks join only older ones (no cycles) */
  uint64_t rng; /* what the task does when it runs */
  int strand;   /* index into R.strands, or -1 */
  bool blocking; /* went to rt_spawn_blocking */
  struct item *parent; /* a completion's task */
  int target;          /* a completion's: 0 any worker, 1 the loop, 2 a strand */
  bool held;     /* its fn, drop or POST handler waits for `hold` */
  atomic_int hold;
};

enum { POOL = 1 << 16, BOARD = 64, MAX_THREADS = 8, MAX_GUARDS = 4, MAX_CLONES = 4, MAX_STRANDS = 4 };

/* Calls made, by function. */
enum call {
  C_SPAWN, C_SPAWN_FULL, C_SPAWN_AFTER, C_BLOCK_ON, C_JOIN, C_CANCEL,
  C_IS_FINISHED, C_TASK_RELEASE, C_ENTER, C_EXIT, C_CURRENT, C_CLONE,
  C_RELEASE, C_HANDLE, C_CALLBACK_NEW, C_CALLBACK_CALL, C_CALLBACK_FREE,
  C_STATS, C_SHUTDOWN, C_STRERROR, C_STRAND_NEW, C_STRAND_SPAWN, C_STRAND_BLOCK_ON,
  C_STRAND_CURRENT, C_STRAND_RELEASE, C_APPLY, C_GROUP_NEW, C_GROUP_SPAWN, C_GROUP_WAIT,
  C_GROUP_CANCEL, C_GROUP_PENDING, C_GROUP_RELEASE, C_SPAWN_BLOCKING, C_BLOCKING_BEGIN,
  C_BLOCKING_END, C_LOOP_SPAWN, C_LOOP_BLOCK_ON, C_LOOP_RUN, C_SPAWN_THEN, C_SLOT_NEW, C_SLOT_POST,
  C_SLOT_FREE, C_SECOND_RELEASE, C_COUNT
};

/* A join handle shared by every thread and task of the round: a thread
 * borrows it, and the last borrower of a retired slot releases it (the API
 * has no rt_task_clone, so one reference serves them all). */
struct slot {
  pthread_mutex_t mu;
  rt_task_t *task;
  struct item *it;
  int users;
  bool retiring;
};

static struct round {
  rt_runtime_t *rt;
  rt_handle_t *h;
  unsigned workers;
  size_t capacity;
  struct item *pool;
  atomic_size_t next;
  atomic_uint_least64_t seq;
  struct slot board[BOARD];
  /* Shared trampolines, alive from before the first call to after the
   * last task: tasks may call them at any time. */
  rt_callback_t *post_cb, *wait_cb;
  void *post_code, *wait_code;
  atomic_int shutdown_started, shutdown_done, stop;
  atomic_int starts, stops;
  atomic_uint_least64_t calls[C_COUNT];
  atomic_uintptr_t published_guard; /* some thread's guard, for foreign exits */
  rt_strand_t *strands[MAX_STRANDS];
  int nstrands;
  atomic_int strand_busy[MAX_STRANDS]; /* a job of that strand is running */
  /* rt_apply calls that began: each may post up to workers - 1 helper
   * jobs, which count in the stats like tasks (the header says so). */
  atomic_uint_least64_t applies;
  rt_group_t *groups[2];
  /* Blocking work: the configured cap (resolved), the outermost regions
   * opened (rt_blocking_begin at depth 0 that did not return RT_EINVAL),
   * those of them that got RT_EAGAIN, and blocking jobs accepted and not
   * yet run or dropped (foreign threads stop adding past a bound, so
   * that a pool of one thread drains in milliseconds). */
  unsigned max_blocking;
  atomic_uint_least64_t regions, regions_eagain;
  atomic_int blocking_backlog;
  /* The round's loop, owned by its own thread, which runs it until
   * loop_stop (after the shutdown and the foreign threads). */
  rt_loop_t *loop;
  pthread_t loop_owner;
  atomic_int loop_stop;
  gate_t loop_made;
  /* Repeating timers: each firing is a task the item ledger does not
   * know; each start and each firing schedules at most one, so the sums
   * allow that many more. Timers made and dropped (once each). */
  atomic_uint_least64_t timer_bound;
  atomic_int timers_made, timer_drops;
  /* Signal slots: a ledger entry for each slot made, two shared by every
   * thread and task (made before the first call, freed after the
   * shutdown; the signal handler posts to the first), and those the
   * threads and tasks make, post to and free at random. */
  struct sigslot *slots;
  atomic_size_t nslots;
  struct sigslot *shared_slots[2];
  /* Known before the threads start: a graceful round never drops a
   * queued POST call, so a trampoline freed twice after one stays held. */
  bool graceful;
} R;

/* One signal slot's ledger: posts begin by taking a ticket; a run notes
 * the tickets taken when it starts. A post that returned RT_OK must be
 * followed by the start of a run (seen >= its ticket); runs never
 * overlap, never outnumber the posts; the drop runs once, never during a
 * run. */
struct sigslot {
  rt_signal_slot_t *slot;
  atomic_uint_least64_t tickets, last_ok, seen, runs, ok, refused;
  atomic_int in_run, dropped;
  bool shared;
};
enum { SLOT_POOL = 4096 };

/* Totals over every round, for the summary line. */
static struct {
  uint64_t rounds, threads, calls, accepted, ran, dropped, refused, graceful,
      with_timeout, timed_out, inline_runs, background;
  uint64_t blocking_spawned, blocking_started, regions, regions_eagain, handoffs,
      joins_helped, stranded_moved, small_pools;
  uint64_t slots, slot_posts, slot_runs, second_releases;
} total;

static long (*live_objects)(int kind); /* debug libraries only */

static void count_call(enum call c) { atomic_fetch_add_explicit(&R.calls[c], 1, memory_order_relaxed); }

static struct item *new_item(enum kind k, bool from_task, int depth, uint64_t *rng) {
  size_t i = atomic_fetch_add(&R.next, 1);
  if (i >= POOL)
    return NULL; /* pool full: the caller skips this call */
  struct item *it = &R.pool[i];
  atomic_init(&it->ran, 0);
  atomic_init(&it->dropped, 0);
  atomic_init(&it->rc, RC_UNKNOWN);
  atomic_init(&it->join_ok, 0);
  atomic_init(&it->join_canceled, 0);
  atomic_init(&it->cancel_ok, 0);
  it->kind = k;
  it->has_drop = false;
  it->from_task = from_task;
  it->depth = depth;
  it->delay = 0;
  it->seq = atomic_fetch_add(&R.seq, 1);
  it->rng = rng_next(rng) | 1;
  it->strand = -1;
  it->blocking = false;
  it->parent = NULL;
  it->target = 0;
  it->held = false;
  atomic_init(&it->hold, 0);
  return it;
}

static size_t item_index(const struct item *it) { return (size_t)(it - R.pool); }

/* ------------------------------------------------------------------------ */
/* What tasks do                                                             */
/* ------------------------------------------------------------------------ */

static void task_ops(struct item *self);

/* A held item's fn, drop or POST handler waits here until its spawner
 * made its second release: till then a queue, a worker or a drop holds
 * the object released twice, so the second release reads live memory. */
static void wait_hold(struct item *it) {
  if (!it->held)
    return;
  while (!atomic_load(&it->hold))
    sched_yield();
}

static void mark_ran(struct item *it) {
  if (it->blocking)
    atomic_fetch_sub(&R.blocking_backlog, 1);
  if (atomic_fetch_add(&it->ran, 1) != 0)
    FAIL("item %zu (%s) ran twice", item_index(it), kind_name[it->kind]);
  if (atomic_load(&it->dropped) != 0)
    FAIL("item %zu (%s) ran after it was dropped", item_index(it), kind_name[it->kind]);
}

/* The oldest task running on this thread's stack: tasks nest on a worker
 * (rt_block_on runs inline, a join runs a queued task inline), and a task
 * that waited without limit for one further up its own stack would wait
 * for itself. Waiting only for tasks older than all of them cannot close
 * a cycle, on this thread or across threads. */
static _Thread_local uint64_t stack_oldest = UINT64_MAX;

static void leaf_block(struct item *it);

static void *item_call(void *p) {
  struct item *it = p;
  wait_hold(it);
  mark_ran(it);
  if (rt_handle_current() != R.h)
    FAIL("item %zu: rt_handle_current() is %p in a task, want %p", item_index(it),
         (void *)rt_handle_current(), (void *)R.h);
  if (it->kind == K_LEAF) {
    leaf_block(it);
    return it;
  }
  if (is_loop(it->kind)) {
    /* On the owner, which calls nothing else: no task_ops. */
    if (rt_loop_current() != R.loop || !pthread_equal(pthread_self(), R.loop_owner))
      FAIL("item %zu (%s): not on the loop's owner", item_index(it), kind_name[it->kind]);
    return it;
  }
  /* A blocking job blocks: half of them in the OS for 0-200 us. */
  if (it->blocking && it->rng % 2)
    sleep_us((unsigned)(it->rng / 2 % 201));
  if (it->strand >= 0) {
    count_call(C_STRAND_CURRENT);
    if (rt_strand_current() != R.strands[it->strand])
      FAIL("item %zu (%s): rt_strand_current() is not its strand", item_index(it), kind_name[it->kind]);
    if (atomic_exchange(&R.strand_busy[it->strand], 1) != 0)
      FAIL("item %zu (%s): another job of strand %d was running", item_index(it), kind_name[it->kind],
           it->strand);
  }
  uint64_t outer = stack_oldest;
  if (it->seq < stack_oldest)
    stack_oldest = it->seq;
  task_ops(it);
  stack_oldest = outer;
  if (it->strand >= 0)
    atomic_store(&R.strand_busy[it->strand], 0);
  return it;
}

static void item_fn(void *p) { (void)item_call(p); }

static void item_drop(void *p) {
  struct item *it = p;
  wait_hold(it);
  if (it->blocking)
    atomic_fetch_sub(&R.blocking_backlog, 1);
  if (atomic_fetch_add(&it->dropped, 1) != 0)
    FAIL("item %zu (%s) dropped twice", item_index(it), kind_name[it->kind]);
  if (atomic_load(&it->ran) != 0)
    FAIL("item %zu (%s) dropped after it ran", item_index(it), kind_name[it->kind]);
}

/* A completion (rt_spawn_then): its status agrees with its task, and it
 * runs on its target (unless refused there: any-worker completions then
 * run where the task ended). */
static void then_fn(void *arg, int status, void *result) {
  struct item *c = arg;
  struct item *p = c->parent;
  mark_ran(c);
  if (status == RT_OK ? (atomic_load(&p->ran) != 1 || result != p)
                      : (status != RT_ECANCELED || atomic_load(&p->ran) != 0 || result != NULL))
    FAIL("completion of item %zu: status %s, result %p, its task ran %d", item_index(p),
         rt_code_name(status), result, atomic_load(&p->ran));
  if (c->target == 1 && rt_loop_current() != R.loop)
    FAIL("completion of item %zu: not on its loop", item_index(p));
  if (c->target == 2 && rt_strand_current() != R.strands[c->strand])
    FAIL("completion of item %zu: not on its strand", item_index(p));
}

/* POST: void (void *item). */
static void post_handler(void *result, void **args, void *user) {
  (void)user;
  if (result != NULL)
    FAIL("POST handler got a result pointer");
  wait_hold(*(struct item **)args[0]);
  mark_ran(*(struct item **)args[0]);
}

/* WAIT: long (void *item, int x), returns 2x + 1; zero-filled if refused. */
static void wait_handler(void *result, void **args, void *user) {
  (void)user;
  mark_ran(*(struct item **)args[0]);
  *(long *)result = 2L * *(int *)args[1] + 1;
}

typedef void (*post_fn)(void *);
typedef long (*wait_fn)(void *, int);

static void call_post(void *code, struct item *it) {
  count_call(C_CALLBACK_CALL);
  ((post_fn)code)(it);
}

static void call_wait(void *code, struct item *it, uint64_t *rng) {
  count_call(C_CALLBACK_CALL);
  int x = (int)(rng_next(rng) % 100000);
  long got = ((wait_fn)code)(it, x);
  if (got == 0) {
    if (it->kind == K_WAIT_INLINE)
      FAIL("an inline WAIT call returned 0: it did not run");
    if (atomic_load(&it->ran) != 0)
      FAIL("WAIT call %zu ran but returned 0", item_index(it));
  } else if (got != 2L * x + 1 || atomic_load(&it->ran) != 1) {
    FAIL("WAIT call %zu returned %ld for %d (ran %d)", item_index(it), got, x,
         atomic_load(&it->ran));
  }
}

/* ------------------------------------------------------------------------ */
/* The board of shared join handles                                          */
/* ------------------------------------------------------------------------ */

static void board_put(rt_task_t *t, struct item *it) {
  size_t start = (size_t)(it->rng % BOARD);
  for (size_t k = 0; k < BOARD; k++) {
    struct slot *s = &R.board[(start + k) % BOARD];
    pthread_mutex_lock(&s->mu);
    if (s->task == NULL) {
      s->task = t;
      s->it = it;
      s->users = 0;
      s->retiring = false;
      pthread_mutex_unlock(&s->mu);
      return;
    }
    pthread_mutex_unlock(&s->mu);
  }
  count_call(C_TASK_RELEASE);
  rt_task_release(t);
}

static bool board_borrow(size_t i, rt_task_t **t, struct item **it) {
  struct slot *s = &R.board[i % BOARD];
  pthread_mutex_lock(&s->mu);
  bool ok = s->task != NULL && !s->retiring;
  if (ok) {
    s->users++;
    *t = s->task;
    *it = s->it;
  }
  pthread_mutex_unlock(&s->mu);
  return ok;
}

static void slot_release_if_done(struct slot *s) {
  if (s->retiring && s->users == 0) {
    count_call(C_TASK_RELEASE);
    rt_task_release(s->task);
    s->task = NULL;
    s->it = NULL;
  }
}

static void board_give_back(size_t i) {
  struct slot *s = &R.board[i % BOARD];
  pthread_mutex_lock(&s->mu);
  s->users--;
  slot_release_if_done(s);
  pthread_mutex_unlock(&s->mu);
}

static void board_retire(size_t i) {
  struct slot *s = &R.board[i % BOARD];
  pthread_mutex_lock(&s->mu);
  if (s->task != NULL && !s->retiring) {
    s->retiring = true;
    slot_release_if_done(s);
  }
  pthread_mutex_unlock(&s->mu);
}

/* ------------------------------------------------------------------------ */
/* Calls, shared by foreign threads and tasks                                */
/* ------------------------------------------------------------------------ */

static const uint64_t delays[] = {0, 10000, 300000, 2 * MS, 20 * MS, 1000 * MS, UINT64_MAX};

static void check_join(struct item *it, int rc, void *res);

/* Checks what a spawn returned against the shutdown state around it. */
static void check_spawn_rc(struct item *it, int rc, bool before_shutdown, bool after_shutdown) {
  switch (rc) {
  case RT_OK:
    if (after_shutdown)
      FAIL("%s accepted after rt_shutdown returned", kind_name[it->kind]);
    break;
  case RT_ESHUTDOWN:
    if (before_shutdown)
      FAIL("%s refused with RT_ESHUTDOWN before the shutdown started", kind_name[it->kind]);
    break;
  case RT_EAGAIN:
    if (R.capacity == 0 || (it->kind != K_SPAWN && it->kind != K_FULL && it->kind != K_STRAND &&
                            it->kind != K_STRAND_FULL && it->kind != K_GROUP &&
                            it->kind != K_GROUP_STRAND && it->kind != K_BLOCKING &&
                            it->kind != K_LEAF && it->kind != K_LOOP && it->kind != K_LOOP_FULL &&
                            it->kind != K_THEN))
      FAIL("%s returned RT_EAGAIN (capacity %zu)", kind_name[it->kind], R.capacity);
    break;
  case RT_ECANCELED:
    if (it->kind != K_BLOCK_ON && it->kind != K_STRAND_BLOCK && it->kind != K_LOOP_BLOCK)
      FAIL("%s returned RT_ECANCELED", kind_name[it->kind]);
    break;
  default:
    FAIL("%s returned %d (%s)", kind_name[it->kind], rc, rt_code_name(rc));
  }
  atomic_store(&it->rc, rc);
}

/* One spawn of kind k (K_SPAWN, K_FULL, K_AFTER, K_BLOCK_ON/INLINE). */
static void do_spawn(enum kind k, bool from_task, int depth, uint64_t *rng) {
  struct item *it = new_item(k, from_task, depth, rng);
  if (it == NULL)
    return;
  /* Done before the call began: it must be refused. */
  bool after = atomic_load(&R.shutdown_done) != 0;
  rt_handle_t *h = from_task ? rt_handle_current() : R.h;
  rt_task_t *t = NULL;
  bool want_task = rng_next(rng) % 2 == 0;
  int rc;
  switch (k) {
  case K_SPAWN:
    count_call(C_SPAWN);
    rc = rt_spawn(h, item_fn, it);
    break;
  case K_FULL:
    count_call(C_SPAWN_FULL);
    it->has_drop = rng_next(rng) % 4 != 0;
    rc = rt_spawn_full(h, item_call, it, it->has_drop ? item_drop : NULL, want_task ? &t : NULL);
    break;
  case K_AFTER:
    count_call(C_SPAWN_AFTER);
    it->has_drop = rng_next(rng) % 4 != 0;
    /* Tasks set short timers only: a task joining a far one would hold
     * up a graceful drain (the contract lets it). */
    it->delay = delays[rng_next(rng) % (from_task ? 4 : 7)];
    rc = rt_spawn_after(h, it->delay, item_call, it, it->has_drop ? item_drop : NULL,
                        want_task ? &t : NULL);
    break;
  case K_GROUP:
  case K_GROUP_STRAND: {
    rt_group_t *g = R.groups[rng_next(rng) % 2];
    it->has_drop = rng_next(rng) % 4 != 0;
    count_call(C_GROUP_SPAWN);
    if (k == K_GROUP) {
      rc = rt_group_spawn(g, item_call, it, it->has_drop ? item_drop : NULL);
    } else {
      it->strand = (int)(rng_next(rng) % (uint64_t)R.nstrands);
      rc = rt_group_strand_spawn(g, R.strands[it->strand], item_call, it,
                                 it->has_drop ? item_drop : NULL);
    }
    want_task = false;
    break;
  }
  case K_BLOCKING:
  case K_LEAF:
    it->has_drop = rng_next(rng) % 4 != 0;
    it->blocking = k == K_BLOCKING || rng_next(rng) % 2 == 0;
    if (k == K_LEAF)
      want_task = true; /* joined below, at once */
    if (it->blocking) {
      count_call(C_SPAWN_BLOCKING);
      atomic_fetch_add(&R.blocking_backlog, 1);
      rc = rt_spawn_blocking(h, item_call, it, it->has_drop ? item_drop : NULL,
                             want_task ? &t : NULL);
      if (rc != RT_OK)
        atomic_fetch_sub(&R.blocking_backlog, 1);
    } else {
      count_call(C_SPAWN_FULL);
      rc = rt_spawn_full(h, item_call, it, it->has_drop ? item_drop : NULL, &t);
    }
    break;
  case K_STRAND:
  case K_STRAND_FULL:
  case K_STRAND_AFTER:
  case K_STRAND_BLOCK: {
    it->strand = (int)(rng_next(rng) % (uint64_t)R.nstrands);
    rt_strand_t *s = R.strands[it->strand];
    count_call(k == K_STRAND_BLOCK ? C_STRAND_BLOCK_ON : C_STRAND_SPAWN);
    if (k == K_STRAND) {
      rc = rt_strand_spawn(s, item_fn, it);
    } else if (k == K_STRAND_BLOCK) {
      void *res = NULL;
      rc = rt_strand_block_on(s, item_call, it, &res);
      if (rc == RT_OK && (res != it || atomic_load(&it->ran) != 1))
        FAIL("rt_strand_block_on: RT_OK, result %p (want %p), ran %d", res, (void *)it,
             atomic_load(&it->ran));
    } else {
      it->has_drop = rng_next(rng) % 4 != 0;
      it->delay = k == K_STRAND_FULL ? 0 : delays[1 + rng_next(rng) % (from_task ? 3 : 6)];
      rc = k == K_STRAND_FULL
               ? rt_strand_spawn_full(s, item_call, it, it->has_drop ? item_drop : NULL,
                                      want_task ? &t : NULL)
               : rt_strand_spawn_after(s, it->delay, item_call, it,
                                       it->has_drop ? item_drop : NULL, want_task ? &t : NULL);
    }
    break;
  }
  case K_LOOP:
  case K_LOOP_FULL:
  case K_LOOP_AFTER:
    count_call(C_LOOP_SPAWN);
    if (k == K_LOOP) {
      rc = rt_loop_spawn(R.loop, item_fn, it);
      want_task = false;
    } else {
      it->has_drop = rng_next(rng) % 4 != 0;
      it->delay = k == K_LOOP_FULL ? 0 : delays[1 + rng_next(rng) % (from_task ? 3 : 6)];
      rc = k == K_LOOP_FULL ? rt_loop_spawn_full(R.loop, item_call, it, it->has_drop ? item_drop : NULL,
                                                 want_task ? &t : NULL)
                            : rt_loop_spawn_after(R.loop, it->delay, item_call, it,
                                                  it->has_drop ? item_drop : NULL, want_task ? &t : NULL);
    }
    break;
  case K_LOOP_BLOCK: {
    count_call(C_LOOP_BLOCK_ON);
    void *res = NULL;
    rc = rt_loop_block_on(R.loop, item_call, it, &res);
    if (rc == RT_OK && (res != it || atomic_load(&it->ran) != 1))
      FAIL("rt_loop_block_on: RT_OK, result %p (want %p), ran %d", res, (void *)it, atomic_load(&it->ran));
    break;
  }
  case K_THEN: {
    struct item *c = new_item(K_COMPLETION, from_task, depth, rng);
    if (c == NULL) {
      /* Pool full: the task goes without a completion. */
      count_call(C_SPAWN_FULL);
      rc = rt_spawn_full(h, item_call, it, NULL, want_task ? &t : NULL);
      break;
    }
    c->parent = it;
    c->has_drop = true;
    c->target = (int)(rng_next(rng) % 3);
    if (c->target == 2)
      c->strand = (int)(rng_next(rng) % (uint64_t)R.nstrands);
    it->has_drop = rng_next(rng) % 4 != 0;
    rt_completion_t comp = {sizeof comp, then_fn, c, c->target == 1 ? R.loop : NULL,
                            c->target == 2 ? R.strands[c->strand] : NULL, item_drop};
    count_call(C_SPAWN_THEN);
    rc = rt_spawn_then(h, item_call, it, it->has_drop ? item_drop : NULL, &comp, want_task ? &t : NULL);
    atomic_store(&c->rc, rc);
    break;
  }
  default: {
    count_call(C_BLOCK_ON);
    void *res = NULL;
    rc = rt_block_on(h, item_call, it, &res);
    if (rc == RT_OK && res != it)
      FAIL("rt_block_on result %p, want %p", res, (void *)it);
    if (k == K_BLOCK_INLINE && rc != RT_OK)
      FAIL("rt_block_on from a task returned %s", rt_code_name(rc));
    if (rc == RT_OK && atomic_load(&it->ran) != 1)
      FAIL("rt_block_on returned RT_OK but fn ran %d times", atomic_load(&it->ran));
    break;
  }
  }
  /* Not started when the call returned: it must not be refused for it. */
  bool before = atomic_load(&R.shutdown_started) == 0;
  check_spawn_rc(it, rc, before, after);
  if (t != NULL && rc != RT_OK)
    FAIL("%s failed with %s but set task_out", kind_name[k], rt_code_name(rc));
  if (t != NULL && k == K_BLOCKING && rng_next(rng) % 3 == 0) {
    /* Cancelled at once: with a pool of one busy thread, often before it starts. */
    count_call(C_CANCEL);
    int crc = rt_task_cancel(t);
    if (crc == RT_OK) {
      if (atomic_load(&it->ran) != 0 || (it->has_drop && atomic_load(&it->dropped) != 1))
        FAIL("rt_task_cancel RT_OK on blocking item %zu, but ran %d dropped %d", item_index(it),
             atomic_load(&it->ran), atomic_load(&it->dropped));
      atomic_store(&it->cancel_ok, 1);
    } else if (crc != RT_EBUSY) {
      FAIL("rt_task_cancel of a blocking job returned %s", rt_code_name(crc));
    }
  }
  if (t != NULL && k == K_LEAF) {
    /* A join of a task that blocks: a leaf waits for nothing, so even a
     * join from a task (of a younger task) ends, and on a worker it
     * helps. Two exceptions join in short turns, which only wait: a
     * strand holder (a job it helps with may block_on that strand: the
     * header's "a lock that a queued job may take"). And a task waits
     * for a blocking leaf only briefly, then leaves it on the board: a
     * join on a worker leaves a queued blocking job to the pool, whose
     * threads may all run jobs that wait for this task. */
    bool turns = rt_strand_current() != NULL;
    bool brief = from_task && it->blocking;
    int64_t timeout = brief ? (int64_t)MS : turns ? 100000 : -1;
    int jrc;
    do {
      void *res = NULL;
      count_call(C_JOIN);
      jrc = rt_task_join(t, timeout, &res);
      check_join(it, jrc, res);
    } while (jrc == RT_ETIMEDOUT && turns && !brief);
    if (jrc == RT_ETIMEDOUT && timeout < 0)
      FAIL("rt_task_join(-1) of a leaf returned RT_ETIMEDOUT");
    if (jrc != RT_ETIMEDOUT) {
      count_call(C_TASK_RELEASE);
      rt_task_release(t);
      t = NULL;
    }
  }
  if (t != NULL) {
    board_put(t, it);
  } else if (want_task && rc == RT_OK &&
             (k == K_FULL || k == K_AFTER || k == K_STRAND_FULL || k == K_STRAND_AFTER ||
              k == K_BLOCKING)) {
    FAIL("%s returned RT_OK without a task", kind_name[k]);
  }
}

static void check_join(struct item *it, int rc, void *res) {
  switch (rc) {
  case RT_OK:
    if (res != it || atomic_load(&it->ran) != 1)
      FAIL("join of item %zu: RT_OK with %p (want %p), ran %d", item_index(it), res,
           (void *)it, atomic_load(&it->ran));
    atomic_store(&it->join_ok, 1);
    break;
  case RT_ECANCELED:
    if (atomic_load(&it->ran) != 0 || (it->has_drop && atomic_load(&it->dropped) != 1))
      FAIL("join of item %zu: RT_ECANCELED, ran %d dropped %d", item_index(it),
           atomic_load(&it->ran), atomic_load(&it->dropped));
    atomic_store(&it->join_canceled, 1);
    break;
  case RT_ETIMEDOUT:
    break;
  default:
    FAIL("rt_task_join returned %d (%s)", rc, rt_code_name(rc));
  }
}

/* How deep in blocking regions this thread is, as the library counts it:
 * rt_blocking_begin() is RT_OK or RT_EAGAIN at depth 0 on a thread of the
 * runtime, RT_OK deeper, and rt_blocking_end() RT_EINVAL at depth 0. */
static _Thread_local int region_depth;

/* A join, cancel, is_finished or retire of a shared task. A task waits
 * without limit only for a task older than every task on its thread's
 * stack (see stack_oldest), and never for a timer (it may be far, and the
 * drain waits for the joiner), never for a strand job (it never runs
 * inline, and its strand's wake-up may be queued behind the joiner), and
 * never while it holds a strand (a task in rt_strand_block_on may be
 * waiting for that strand), never in a blocking region (its join only
 * waits, and with RT_EAGAIN it holds its worker: with every worker so
 * held, a strand job the joined task waits for would never start), and
 * never for a blocking job (a join on a worker leaves a queued one to the
 * pool, whose few threads may all be running jobs that wait for the
 * joiner); else briefly. */
static void do_task_op(struct item *self, uint64_t *rng) {
  size_t i = (size_t)rng_next(rng);
  rt_task_t *t;
  struct item *it;
  if (!board_borrow(i, &t, &it))
    return;
  unsigned op = (unsigned)(rng_next(rng) % 8);
  if (op < 4) {
    static const int64_t timeouts[] = {0, 100000, (int64_t)MS, -1};
    int64_t timeout = timeouts[rng_next(rng) % 4];
    if (self != NULL && timeout < 0 &&
        (it->seq >= stack_oldest || it->delay > 0 || it->strand >= 0 || rt_strand_current() != NULL ||
         region_depth > 0 || it->blocking))
      timeout = 100000;
    void *res = NULL;
    count_call(C_JOIN);
    int rc = rt_task_join(t, timeout, &res);
    check_join(it, rc, res);
    if (rc == RT_ETIMEDOUT && timeout < 0)
      FAIL("rt_task_join(-1) returned RT_ETIMEDOUT");
    if (rc == RT_ETIMEDOUT && atomic_load(&R.shutdown_done))
      FAIL("item %zu not finished after rt_shutdown returned", item_index(it));
  } else if (op < 6) {
    count_call(C_CANCEL);
    int rc = rt_task_cancel(t);
    if (rc == RT_OK) {
      if (atomic_load(&it->ran) != 0 || (it->has_drop && atomic_load(&it->dropped) != 1))
        FAIL("rt_task_cancel RT_OK on item %zu, but ran %d dropped %d", item_index(it),
             atomic_load(&it->ran), atomic_load(&it->dropped));
      atomic_store(&it->cancel_ok, 1);
      count_call(C_CANCEL);
      CHECK_RC(rt_task_cancel(t), RT_EBUSY);
    } else if (rc != RT_EBUSY) {
      FAIL("rt_task_cancel returned %d (%s)", rc, rt_code_name(rc));
    }
  } else if (op < 7) {
    count_call(C_IS_FINISHED);
    if (rt_task_is_finished(t)) {
      count_call(C_JOIN);
      void *res = NULL;
      int rc = rt_task_join(t, 0, &res);
      if (rc == RT_ETIMEDOUT)
        FAIL("item %zu: finished, but rt_task_join(0) timed out", item_index(it));
      check_join(it, rc, res);
    }
  }
  board_give_back(i);
  if (op == 7)
    board_retire(i);
}

/* rt_stats_get with a size at random: full, older, minimal, bad. */
static void do_stats(rt_handle_t *h, uint64_t *rng) {
  union {
    rt_stats_t s;
    unsigned char bytes[sizeof(rt_stats_t) + 16];
  } u;
  memset(&u, 0xA5, sizeof u);
  static const size_t sizes[] = {sizeof(rt_stats_t), offsetof(rt_stats_t, rejected),
                                 sizeof(size_t), 4, sizeof(rt_stats_t) + 8, 0,
                                 offsetof(rt_stats_t, blocking_threads)};
  size_t size = sizes[rng_next(rng) % 7];
  u.s.size = size;
  count_call(C_STATS);
  int rc = rt_stats_get(h, &u.s);
  bool good = size >= sizeof(size_t) && size <= sizeof(rt_stats_t);
  if (rc != (good ? RT_OK : RT_EINVAL))
    FAIL("rt_stats_get(size %zu) returned %s", size, rt_code_name(rc));
  for (size_t b = good ? size : sizeof(size_t); b < sizeof u.bytes; b++)
    if (u.bytes[b] != 0xA5)
      FAIL("rt_stats_get(size %zu) wrote byte %zu", size, b);
  if (good && size >= offsetof(rt_stats_t, spawned) && u.s.workers != R.workers)
    FAIL("stats.workers %u, want %u", u.s.workers, R.workers);
  if (size == sizeof(rt_stats_t) && rc == RT_OK && atomic_load(&R.shutdown_done) && !u.s.shutdown)
    FAIL("stats.shutdown false after rt_shutdown returned");
}

/* Enter 1-3 times (with the handle or a clone), check current, try exits
 * that must fail, then exit in order. */
static void do_enter_exit(rt_handle_t *h, uint64_t *rng) {
  rt_guard_t *g[3];
  rt_handle_t *hs[3];
  int n = 1 + (int)(rng_next(rng) % 3);
  rt_handle_t *before = rt_handle_current();
  for (int i = 0; i < n; i++) {
    hs[i] = NULL;
    if (rng_next(rng) % 2) {
      count_call(C_CLONE);
      hs[i] = rt_handle_clone(h);
      CHECK_PTR_EQ(hs[i], h);
    }
    count_call(C_ENTER);
    g[i] = rt_enter(h);
    CHECK_NOT_NULL(g[i]);
    count_call(C_CURRENT);
    CHECK_PTR_EQ(rt_handle_current(), h);
  }
  atomic_store(&R.published_guard, (uintptr_t)g[n - 1]);
  if (n > 1) {
    count_call(C_EXIT);
    CHECK_RC(rt_exit(g[0]), RT_EINVAL); /* not the innermost */
  }
  count_call(C_EXIT);
  CHECK_RC(rt_exit(NULL), RT_EINVAL);
  /* Another thread's guard (maybe already freed): never dereferenced. */
  rt_guard_t *other = (rt_guard_t *)atomic_load(&R.published_guard);
  bool mine = false;
  for (int i = 0; i < n; i++)
    mine = mine || other == g[i];
  if (other != NULL && !mine) {
    count_call(C_EXIT);
    CHECK_RC(rt_exit(other), RT_EINVAL);
  }
  for (int i = n - 1; i >= 0; i--) {
    count_call(C_EXIT);
    CHECK_RC(rt_exit(g[i]), RT_OK);
    if (hs[i] != NULL) {
      count_call(C_RELEASE);
      rt_handle_release(hs[i]);
    }
  }
  atomic_compare_exchange_strong(&R.published_guard, &(uintptr_t){(uintptr_t)g[n - 1]}, 0);
  count_call(C_CURRENT);
  CHECK_PTR_EQ(rt_handle_current(), before);
}

/* rt_apply over a small range: every index exactly once, or RT_ESHUTDOWN
 * (only once a shutdown began) with none. */
struct apply_ctx {
  atomic_int hits[256];
};

static void apply_fn(void *ctx, size_t i) {
  struct apply_ctx *a = ctx;
  atomic_fetch_add_explicit(&a->hits[i], 1, memory_order_relaxed);
}

static void do_apply(rt_handle_t *h, uint64_t *rng) {
  struct apply_ctx a;
  size_t n = (size_t)(rng_next(rng) % 257);
  for (size_t i = 0; i < n; i++)
    atomic_init(&a.hits[i], 0);
  bool before = atomic_load(&R.shutdown_started) == 0;
  atomic_fetch_add(&R.applies, 1);
  count_call(C_APPLY);
  int rc = rt_apply(h, n, apply_fn, &a);
  if (rc != RT_OK && (rc != RT_ESHUTDOWN || before))
    FAIL("rt_apply(n %zu) returned %s", n, rt_code_name(rc));
  for (size_t i = 0; i < n; i++)
    if (atomic_load(&a.hits[i]) != (rc == RT_OK ? 1 : 0))
      FAIL("rt_apply(n %zu) returned %s, index %zu ran %d times", n, rt_code_name(rc), i,
           atomic_load(&a.hits[i]));
}

/* From a foreign thread: wait for a group (briefly or not), cancel what
 * of it has not started, or read its pending count. A job that was
 * cancelled had its drop run (if it had one) and never runs. */
static void do_group_op(uint64_t *rng) {
  rt_group_t *g = R.groups[rng_next(rng) % 2];
  switch (rng_next(rng) % 4) {
  case 0:
  case 1: {
    static const int64_t timeouts[] = {0, 100000, (int64_t)MS, -1};
    int64_t timeout = timeouts[rng_next(rng) % 4];
    count_call(C_GROUP_WAIT);
    int rc = rt_group_wait(g, timeout);
    if (rc != RT_OK && !(rc == RT_ETIMEDOUT && timeout >= 0))
      FAIL("rt_group_wait(%" PRId64 ") returned %s", timeout, rt_code_name(rc));
    /* (Even after rt_shutdown returned, a spawn still in progress on
     * another thread counts until it is refused: only the end of the
     * round checks that the group is empty.) */
    break;
  }
  case 2: {
    count_call(C_GROUP_CANCEL);
    int n = rt_group_cancel(g);
    if (n < 0)
      FAIL("rt_group_cancel returned %d", n);
    break;
  }
  default:
    count_call(C_GROUP_PENDING);
    (void)rt_group_pending(g);
    break;
  }
}

/* ------------------------------------------------------------------------ */
/* Blocking regions                                                          */
/* ------------------------------------------------------------------------ */

/* On a thread of the runtime (a task, a leaf run inline by a joiner). */
static int region_begin(void) {
  int outer = region_depth;
  count_call(C_BLOCKING_BEGIN);
  int rc = rt_blocking_begin();
  if (outer > 0 ? rc != RT_OK : rc != RT_OK && rc != RT_EAGAIN)
    FAIL("rt_blocking_begin() at depth %d on a thread of the runtime returned %s", outer,
         rt_code_name(rc));
  region_depth++;
  if (outer == 0) {
    atomic_fetch_add(&R.regions, 1);
    if (rc == RT_EAGAIN)
      atomic_fetch_add(&R.regions_eagain, 1);
  }
  return rc;
}

static void region_end(void) {
  count_call(C_BLOCKING_END);
  int rc = rt_blocking_end();
  if (rc != RT_OK)
    FAIL("rt_blocking_end() at depth %d returned %s", region_depth, rt_code_name(rc));
  region_depth--;
  if (region_depth == 0) {
    /* An end without a begin. */
    count_call(C_BLOCKING_END);
    CHECK_RC(rt_blocking_end(), RT_EINVAL);
  }
}

/* A task that blocks for 0-200 us in a region (sometimes two, nested), and
 * spawns or joins inside it. */
static void do_region(struct item *self, uint64_t *rng) {
  region_begin();
  bool nested = rng_next(rng) % 3 == 0;
  if (nested)
    region_begin();
  sleep_us((unsigned)(rng_next(rng) % 201));
  switch (rng_next(rng) % 6) {
  case 0: do_spawn(K_FULL, true, self->depth + 1, rng); break;
  case 1: do_spawn(K_BLOCKING, true, self->depth + 1, rng); break;
  case 2: do_task_op(self, rng); break;
  case 3: do_spawn(K_LEAF, true, self->depth + 1, rng); break;
  default: break;
  }
  if (nested)
    region_end();
  region_end();
}

/* A leaf blocks, in a region or not, and waits for nothing. */
static void leaf_block(struct item *it) {
  bool region = it->rng % 2;
  if (region)
    region_begin();
  sleep_us((unsigned)(it->rng / 2 % 201));
  if (region)
    region_end();
}

/* Off the runtime, entered or not: there is nothing to protect. */
static void do_region_off_runtime(uint64_t *rng) {
  rt_guard_t *g = NULL;
  if (rng_next(rng) % 2) {
    count_call(C_ENTER);
    g = rt_enter(R.h);
    CHECK_NOT_NULL(g);
  }
  count_call(C_BLOCKING_BEGIN);
  CHECK_RC(rt_blocking_begin(), RT_EINVAL);
  count_call(C_BLOCKING_END);
  CHECK_RC(rt_blocking_end(), RT_EINVAL);
  if (g != NULL) {
    count_call(C_EXIT);
    CHECK_RC(rt_exit(g), RT_OK);
  }
}

/* ------------------------------------------------------------------------ */
/* Signal slots and second releases                                          */
/* ------------------------------------------------------------------------ */

static void slot_run(void *p) {
  struct sigslot *s = p;
  if (atomic_fetch_add(&s->in_run, 1) != 0)
    FAIL("slot %zu: two runs at once", (size_t)(s - R.slots));
  if (atomic_load(&s->dropped) != 0)
    FAIL("slot %zu: a run after its drop", (size_t)(s - R.slots));
  atomic_store(&s->seen, atomic_load(&s->tickets));
  atomic_fetch_add(&s->runs, 1);
  atomic_fetch_sub(&s->in_run, 1);
}

static void slot_drop(void *p) {
  struct sigslot *s = p;
  if (atomic_fetch_add(&s->dropped, 1) != 0)
    FAIL("slot %zu dropped twice", (size_t)(s - R.slots));
  if (atomic_load(&s->in_run) != 0)
    FAIL("slot %zu dropped during a run", (size_t)(s - R.slots));
}

/* A slot on `h`, or NULL: refused (shut down) or the ledger is full. */
static struct sigslot *slot_new(rt_handle_t *h) {
  size_t i = atomic_fetch_add(&R.nslots, 1);
  if (i >= SLOT_POOL)
    return NULL;
  struct sigslot *s = &R.slots[i];
  bool after = atomic_load(&R.shutdown_done) != 0;
  count_call(C_SLOT_NEW);
  s->slot = rt_signal_slot_new(h, slot_run, s, slot_drop);
  bool before = atomic_load(&R.shutdown_started) == 0;
  if (s->slot == NULL ? before : after)
    FAIL("rt_signal_slot_new returned %p (shutdown started %d, done %d)", (void *)s->slot,
         !before, after);
  if (s->slot == NULL)
    atomic_store(&s->dropped, 1); /* nothing to drop: arg is ours again */
  return s->slot != NULL ? s : NULL;
}

static void note_max(atomic_uint_least64_t *m, uint64_t v) {
  uint64_t old = atomic_load(m);
  while (old < v && !atomic_compare_exchange_weak(m, &old, v)) {
  }
}

/* What a post does, in a handler too (atomics only): 0 for RT_OK, 1 for
 * RT_ESHUTDOWN, 2 for anything else. */
static int slot_post_quietly(struct sigslot *s) {
  uint64_t ticket = atomic_fetch_add(&s->tickets, 1) + 1;
  int rc = rt_signal_slot_post(s->slot);
  if (rc == RT_OK) {
    note_max(&s->last_ok, ticket);
    atomic_fetch_add(&s->ok, 1);
    return 0;
  }
  atomic_fetch_add(&s->refused, 1);
  return rc == RT_ESHUTDOWN ? 1 : 2;
}

static void slot_post(struct sigslot *s) {
  bool after = atomic_load(&R.shutdown_done) != 0;
  count_call(C_SLOT_POST);
  int how = slot_post_quietly(s);
  bool before = atomic_load(&R.shutdown_started) == 0;
  if (how == 2 || (how == 0 && after) || (how == 1 && before))
    FAIL("rt_signal_slot_post: %s (shutdown started %d, done %d)",
         how == 0 ? "RT_OK" : how == 1 ? "RT_ESHUTDOWN" : "another code", !before, after);
}

static void slot_free(struct sigslot *s) {
  count_call(C_SLOT_FREE);
  rt_signal_slot_free(s->slot);
}

/* From a task or a thread: posts to the shared slots, or a slot of its
 * own, posted to and freed at once (its run may be queued or running). */
static void do_signal_slot(rt_handle_t *h, uint64_t *rng) {
  switch (rng_next(rng) % 4) {
  case 0:
  case 1:
    slot_post(R.shared_slots[rng_next(rng) % 2]);
    break;
  case 2: {
    struct sigslot *s = slot_new(h);
    if (s == NULL)
      break;
    for (int n = (int)(rng_next(rng) % 4); n > 0; n--)
      slot_post(s);
    slot_free(s);
    break;
  }
  default:
    count_call(C_SLOT_POST);
    CHECK_RC(rt_signal_slot_post(NULL), RT_EINVAL);
    count_call(C_SLOT_NEW);
    CHECK_NULL(rt_signal_slot_new(NULL, slot_run, NULL, slot_drop));
    count_call(C_SLOT_NEW);
    CHECK_NULL(rt_signal_slot_new(h, NULL, NULL, slot_drop));
    count_call(C_SLOT_FREE);
    rt_signal_slot_free(NULL);
    break;
  }
}

/* A debug library stops at a second release (test-lifetime.c): only a
 * release library gets them. */
static bool second_releases(void) { return live_objects == NULL; }

static void second_release(void (*release)(void *), void *p) {
  if (!second_releases())
    return;
  count_call(C_SECOND_RELEASE);
  release(p);
}

static void release_task(void *t) { rt_task_release(t); }
static void release_strand(void *s) { rt_strand_release(s); }
static void release_group(void *g) { rt_group_release(g); }
static void free_callback(void *cb) { rt_callback_free(cb); }

/* A second rt_task_release, rt_strand_release or rt_group_release while a
 * held job of the object is queued, running or being dropped (the header:
 * a no-op, "also while the library still holds the object"); then the
 * job goes on, and the ledger sees it ran or was dropped once. */
static void do_release_twice(bool from_task, int depth, uint64_t *rng) {
  rt_handle_t *h = from_task ? rt_handle_current() : R.h;
  unsigned which = (unsigned)(rng_next(rng) % 3);
  /* The strand or group first: an item is only made for a call made. */
  rt_strand_t *s = NULL;
  rt_group_t *g = NULL;
  if (which == 1) {
    count_call(C_STRAND_NEW);
    if ((s = rt_strand_new(h)) == NULL)
      return;
  } else if (which == 2) {
    count_call(C_GROUP_NEW);
    if ((g = rt_group_new(h)) == NULL)
      return;
  }
  bool after = atomic_load(&R.shutdown_done) != 0;
  struct item *it = new_item(which == 0 ? K_FULL : which == 1 ? K_STRAND_FULL : K_GROUP, from_task,
                             depth, rng);
  int rc = RT_EINVAL;
  if (it != NULL) {
    it->held = true;
    it->has_drop = true;
  }
  if (which == 0 && it != NULL) {
    rt_task_t *t = NULL;
    count_call(C_SPAWN_FULL);
    rc = rt_spawn_full(h, item_call, it, item_drop, &t);
    if (rc == RT_OK) {
      count_call(C_TASK_RELEASE);
      rt_task_release(t);
      second_release(release_task, t);
    }
  } else if (which == 1) {
    if (it != NULL) {
      count_call(C_STRAND_SPAWN);
      rc = rt_strand_spawn_full(s, item_call, it, item_drop, NULL);
    }
    count_call(C_STRAND_RELEASE);
    rt_strand_release(s);
    if (rc == RT_OK)
      second_release(release_strand, s);
  } else if (which == 2) {
    if (it != NULL) {
      count_call(C_GROUP_SPAWN);
      rc = rt_group_spawn(g, item_call, it, item_drop);
    }
    count_call(C_GROUP_RELEASE);
    rt_group_release(g);
    if (rc == RT_OK)
      second_release(release_group, g);
  }
  if (it == NULL)
    return;
  bool before = atomic_load(&R.shutdown_started) == 0;
  check_spawn_rc(it, rc, before, after);
  atomic_store(&it->hold, 1);
}

/* In a task, in a graceful round: a POST trampoline with one call queued
 * (its handler held until after the frees), freed twice; a free on a
 * thread of the runtime returns at once, and the second is a no-op. A
 * call that may have been refused (a shutdown had begun) holds nothing:
 * one free then. */
static void do_callback_free_twice(int depth, uint64_t *rng) {
  if (!R.graceful)
    return;
  static const rt_type_t post_args[] = {RT_TYPE_POINTER};
  void *code = NULL;
  count_call(C_CALLBACK_NEW);
  rt_callback_t *cb = rt_callback_new(rt_handle_current(), RT_CALLBACK_POST, RT_TYPE_VOID,
                                      post_args, 1, post_handler, NULL, &code);
  if (cb == NULL)
    return;
  struct item *it = new_item(K_POST, true, depth, rng);
  if (it != NULL) {
    it->held = true;
    call_post(code, it);
  }
  bool accepted = it != NULL && atomic_load(&R.shutdown_started) == 0;
  count_call(C_CALLBACK_FREE);
  rt_callback_free(cb);
  if (accepted)
    second_release(free_callback, cb);
  if (it != NULL)
    atomic_store(&it->hold, 1);
}

/* The signal storm: a process-wide timer signal at a few kHz for the
 * whole test, delivered to any thread (a worker inside the library, a
 * foreign thread, a blocking thread); the handler posts to the first
 * shared slot of the round, if any. The round unpublishes it and waits
 * until no handler is inside before freeing it. */
static struct sigslot *_Atomic handler_slot;
static atomic_int handlers_inside;
static atomic_uint_least64_t sig_delivered, sig_posted, sig_refused, sig_bad, sig_errno_moved;

static void on_stress_signal(int sig, siginfo_t *info, void *context) {
  (void)sig;
  (void)info;
  (void)context;
  int saved = errno;
  atomic_fetch_add(&sig_delivered, 1);
  atomic_fetch_add(&handlers_inside, 1);
  struct sigslot *s = atomic_load(&handler_slot);
  if (s != NULL) {
    int how = slot_post_quietly(s);
    atomic_fetch_add(how == 0 ? &sig_posted : how == 1 ? &sig_refused : &sig_bad, 1);
  }
  atomic_fetch_sub(&handlers_inside, 1);
  if (errno != saved)
    atomic_fetch_add(&sig_errno_moved, 1);
}

/* Blocking spawns from foreign threads stop while this many wait: a pool
 * of one thread then drains in tens of milliseconds at a shutdown. */
enum { BLOCKING_BACKLOG = 256 };

/* What a task does when it runs: nothing, mostly; else one or two calls. */
static void task_ops(struct item *self) {
  uint64_t rng = self->rng;
  int n = self->depth >= 3 ? 0 : (int)(rng_next(&rng) % 3);
  for (int i = 0; i < n; i++) {
    switch (rng_next(&rng) % 30) {
    case 0: do_spawn(K_SPAWN, true, self->depth + 1, &rng); break;
    case 1: case 2: do_spawn(K_FULL, true, self->depth + 1, &rng); break;
    case 3: do_spawn(K_AFTER, true, self->depth + 1, &rng); break;
    case 4: do_spawn(K_BLOCK_INLINE, true, self->depth + 1, &rng); break;
    case 5: case 6: do_task_op(self, &rng); break;
    case 7: do_enter_exit(rt_handle_current(), &rng); break;
    case 8: do_stats(rt_handle_current(), &rng); break;
    case 9: {
      struct item *it = new_item(K_POST, true, self->depth + 1, &rng);
      if (it != NULL)
        call_post(R.post_code, it);
      break;
    }
    case 10: {
      struct item *it = new_item(K_WAIT_INLINE, true, self->depth + 1, &rng);
      if (it != NULL)
        call_wait(R.wait_code, it, &rng);
      break;
    }
    case 12: do_spawn(K_STRAND, true, self->depth + 1, &rng); break;
    case 13: do_spawn(K_STRAND_FULL, true, self->depth + 1, &rng); break;
    case 14: do_spawn(K_STRAND_AFTER, true, self->depth + 1, &rng); break;
    case 15:
      /* Not while holding a strand: its own jobs only wait briefly, so a
       * block_on onto a strand always finds its holder making progress. */
      count_call(C_STRAND_CURRENT);
      if (rt_strand_current() == NULL)
        do_spawn(K_STRAND_BLOCK, true, self->depth + 1, &rng);
      break;
    case 16: do_apply(rt_handle_current(), &rng); break;
    case 17: do_spawn(K_GROUP, true, self->depth + 1, &rng); break;
    case 18: do_spawn(K_GROUP_STRAND, true, self->depth + 1, &rng); break;
    case 19: do_region(self, &rng); break;
    case 20:
      if (atomic_load(&R.blocking_backlog) < 2 * BLOCKING_BACKLOG)
        do_spawn(K_BLOCKING, true, self->depth + 1, &rng);
      break;
    case 21: do_spawn(K_LEAF, true, self->depth + 1, &rng); break;
    case 23: do_spawn(K_LOOP, true, self->depth + 1, &rng); break;
    case 24: do_spawn(K_LOOP_FULL + rng_next(&rng) % 2, true, self->depth + 1, &rng); break;
    case 25:
      /* As case 15: a strand holder's wait helps, and a helped job may
       * block_on the strand it holds. */
      count_call(C_STRAND_CURRENT);
      if (rt_strand_current() == NULL)
        do_spawn(K_LOOP_BLOCK, true, self->depth + 1, &rng);
      break;
    case 26: do_spawn(K_THEN, true, self->depth + 1, &rng); break;
    case 27: do_signal_slot(rt_handle_current(), &rng); break;
    case 28: do_release_twice(true, self->depth + 1, &rng); break;
    case 29: do_callback_free_twice(self->depth + 1, &rng); break;
    default:
      /* Shutdown from a worker or a blocking thread of this runtime:
       * refused, changes nothing. R.rt is valid: the shutdown waits for
       * this task. */
      count_call(C_SHUTDOWN);
      CHECK_RC(rt_shutdown(R.rt), RT_EDEADLK);
      count_call(C_HANDLE);
      rt_handle_t *h = rt_handle(R.rt);
      CHECK_PTR_EQ(h, R.h);
      count_call(C_RELEASE);
      rt_handle_release(h);
      break;
    }
  }
}

/* ------------------------------------------------------------------------ */
/* Foreign threads                                                           */
/* ------------------------------------------------------------------------ */

struct foreign {
  uint64_t rng;
  pthread_t thread;
  rt_handle_t *clones[MAX_CLONES];
  int nclones;
  rt_callback_t *cb; /* its own trampoline, created and freed at random */
  void *cb_code;
  bool cb_wait;
  rt_timer_t *timer; /* its own repeating timer, made, re-armed and freed at random */
  struct timer_state *ts;
};

struct timer_state {
  atomic_int inside, drops;
};

static void stress_tick(void *arg) {
  struct timer_state *ts = arg;
  if (atomic_fetch_add(&ts->inside, 1) != 0)
    FAIL("a repeating timer's callback ran concurrently with itself");
  atomic_fetch_add(&R.timer_bound, 1);
  atomic_fetch_sub(&ts->inside, 1);
}

static void stress_tick_drop(void *arg) {
  struct timer_state *ts = arg;
  if (atomic_load(&ts->inside) != 0 || atomic_fetch_add(&ts->drops, 1) != 0)
    FAIL("a repeating timer's drop ran during its callback, or twice");
  atomic_fetch_add(&R.timer_drops, 1);
  free(ts);
}

static void foreign_timer(struct foreign *f) {
  uint64_t *rng = &f->rng;
  if (f->timer == NULL) {
    struct timer_state *ts = calloc(1, sizeof *ts);
    CHECK_NOT_NULL(ts);
    f->timer = rt_timer_new(R.h, stress_tick, ts, stress_tick_drop);
    if (f->timer == NULL) {
      CHECK_TRUE(atomic_load(&R.shutdown_started));
      free(ts);
      return;
    }
    f->ts = ts;
    atomic_fetch_add(&R.timers_made, 1);
    return;
  }
  static const uint64_t ns[] = {0, 1, 20000, 200000, 2 * MS, 3600000 * MS};
  switch (rng_next(rng) % 6) {
  case 0:
  case 1: {
    atomic_fetch_add(&R.timer_bound, 1);
    int rc = rt_timer_start(f->timer, ns[rng_next(rng) % 6], ns[rng_next(rng) % 6]);
    if (rc != RT_OK && !(rc == RT_ESHUTDOWN && atomic_load(&R.shutdown_started)))
      FAIL("rt_timer_start gave %s", rt_code_name(rc));
    break;
  }
  case 2: {
    atomic_fetch_add(&R.timer_bound, 1);
    int rc = rt_timer_again(f->timer);
    if (rc != RT_OK && rc != RT_EINVAL && !(rc == RT_ESHUTDOWN && atomic_load(&R.shutdown_started)))
      FAIL("rt_timer_again gave %s", rt_code_name(rc));
    break;
  }
  case 3: {
    int rc = rt_timer_stop(f->timer);
    CHECK_TRUE(rc == RT_OK || rc == RT_EBUSY);
    break;
  }
  case 4: {
    uint64_t due;
    int rc = rt_timer_due_in(f->timer, &due);
    CHECK_TRUE(rc == RT_OK || rc == RT_ECANCELED);
    break;
  }
  default:
    rt_timer_free(f->timer);
    f->timer = NULL;
    break;
  }
}

static void foreign_callback(struct foreign *f) {
  uint64_t *rng = &f->rng;
  if (f->cb == NULL) {
    f->cb_wait = rng_next(rng) % 2;
    static const rt_type_t post_args[] = {RT_TYPE_POINTER};
    static const rt_type_t wait_args[] = {RT_TYPE_POINTER, RT_TYPE_INT};
    count_call(C_CALLBACK_NEW);
    f->cb = f->cb_wait ? rt_callback_new(R.h, RT_CALLBACK_WAIT, RT_TYPE_LONG, wait_args, 2,
                                         wait_handler, NULL, &f->cb_code)
                       : rt_callback_new(R.h, RT_CALLBACK_POST, RT_TYPE_VOID, post_args, 1,
                                         post_handler, NULL, &f->cb_code);
    CHECK_NOT_NULL(f->cb);
    return;
  }
  if (rng_next(rng) % 4 == 0) {
    count_call(C_CALLBACK_FREE);
    rt_callback_free(f->cb); /* returns once its queued calls ran or were dropped */
    f->cb = NULL;
    return;
  }
  struct item *it = new_item(f->cb_wait ? K_WAIT : K_POST, false, 0, rng);
  if (it == NULL)
    return;
  if (f->cb_wait)
    call_wait(f->cb_code, it, rng);
  else
    call_post(f->cb_code, it);
}

static void *foreign_main(void *arg) {
  struct foreign *f = arg;
  uint64_t *rng = &f->rng;
  while (!atomic_load(&R.stop)) {
    switch (rng_next(rng) % 41) {
    case 0: case 1: do_spawn(K_SPAWN, false, 0, rng); break;
    case 2: case 3: case 4: do_spawn(K_FULL, false, 0, rng); break;
    case 5: case 6: do_spawn(K_AFTER, false, 0, rng); break;
    case 7: case 8: do_spawn(K_BLOCK_ON, false, 0, rng); break;
    case 9: case 10: case 11: do_task_op(NULL, rng); break;
    case 12: do_enter_exit(R.h, rng); break;
    case 13:
      if (f->nclones < MAX_CLONES) {
        count_call(C_CLONE);
        f->clones[f->nclones] = rt_handle_clone(R.h);
        CHECK_PTR_EQ(f->clones[f->nclones], R.h);
        f->nclones++;
      } else {
        count_call(C_RELEASE);
        rt_handle_release(f->clones[--f->nclones]);
      }
      break;
    case 14: do_stats(f->nclones > 0 ? f->clones[0] : R.h, rng); break;
    case 15: case 16: foreign_callback(f); break;
    case 17: {
      struct item *it = new_item(K_POST, false, 0, rng);
      if (it != NULL)
        call_post(R.post_code, it);
      break;
    }
    case 18: {
      struct item *it = new_item(K_WAIT, false, 0, rng);
      if (it != NULL)
        call_wait(R.wait_code, it, rng);
      break;
    }
    case 19: do_spawn(K_STRAND, false, 0, rng); break;
    case 20: do_spawn(K_STRAND_FULL, false, 0, rng); break;
    case 21: do_spawn(K_STRAND_AFTER, false, 0, rng); break;
    case 22: do_spawn(K_STRAND_BLOCK, false, 0, rng); break;
    case 23: do_apply(R.h, rng); break;
    case 24: do_spawn(K_GROUP, false, 0, rng); break;
    case 25: do_spawn(K_GROUP_STRAND, false, 0, rng); break;
    case 26: case 27: do_group_op(rng); break;
    case 29: case 30:
      if (atomic_load(&R.blocking_backlog) < BLOCKING_BACKLOG)
        do_spawn(K_BLOCKING, false, 0, rng);
      break;
    case 31: do_spawn(K_LEAF, false, 0, rng); break;
    case 32: do_region_off_runtime(rng); break;
    case 33: do_spawn(K_LOOP + rng_next(rng) % 3, false, 0, rng); break;
    case 34: do_spawn(K_LOOP_BLOCK, false, 0, rng); break;
    case 35: do_spawn(K_THEN, false, 0, rng); break;
    case 36:
      count_call(C_CURRENT);
      CHECK_NULL(rt_loop_current());
      count_call(C_LOOP_RUN);
      CHECK_RC(rt_loop_run_pending(R.loop, 1), RT_EINVAL); /* not the owner */
      break;
    case 37: case 38: foreign_timer(f); break;
    case 39: do_signal_slot(R.h, rng); break;
    case 40: do_release_twice(false, 0, rng); break;
    default:
      count_call(C_CURRENT);
      CHECK_NULL(rt_handle_current());
      count_call(C_STRERROR);
      CHECK_NOT_NULL(rt_strerror((int)(rng_next(rng) % 300) - 150));
      break;
    }
    if (rng_next(rng) % 32 == 0)
      sleep_us((unsigned)(rng_next(rng) % 300));
  }
  while (f->nclones > 0) {
    count_call(C_RELEASE);
    rt_handle_release(f->clones[--f->nclones]);
  }
  if (f->cb != NULL) {
    count_call(C_CALLBACK_FREE);
    rt_callback_free(f->cb);
  }
  if (f->timer != NULL)
    rt_timer_free(f->timer); /* after the shutdown: its drop runs here */
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* A round                                                                   */
/* ------------------------------------------------------------------------ */

static void hook_start(void *u) {
  (void)u;
  atomic_fetch_add(&R.starts, 1);
  if (rt_handle_current() == NULL)
    FAIL("no current handle in on_thread_start");
}

static void hook_stop(void *u) {
  (void)u;
  atomic_fetch_add(&R.stops, 1);
}

static void check_live(const char *when) {
  if (live_objects == NULL)
    return;
  static const char *const names[] = {"runtimes", "task cells", "guards", "callbacks", "strands",
                                      "groups", "signal slots"};
  for (int k = 0; k < 7; k++) {
    long n = live_objects(k);
    if (n != 0)
      FAIL("%s: %ld %s still alive (debug library count)", when, n, names[k]);
  }
  if (live_objects(7) != 0)
    FAIL("%s: %ld loops still alive (debug library count)", when, live_objects(7));
  if (live_objects(8) != 0)
    FAIL("%s: %ld repeating timers still alive (debug library count)", when, live_objects(8));
}

/* Each slot made: freed by now (after the shutdown), so dropped once; no
 * more runs than posts; and for the shared slots, freed after the
 * shutdown, a run after the last post that returned RT_OK, whenever the
 * shutdown returned RT_OK. (With a timeout, a run that ends in the
 * dropping phase finds admission sealed and cannot queue the run a post
 * during it is owed: then rt_shutdown_timeout must return RT_ETIMEDOUT.
 * It returned RT_OK about 1 round in 60 before the ledger counted that
 * lost run.) (A slot freed before its run
 * was queued owes none: "no run is queued for it afterwards".) The runs and posts are what the stats hold. */
static void check_slots(int round, int shutdown_rc, uint64_t *runs, uint64_t *posts) {
  size_t n = atomic_load(&R.nslots);
  if (n > SLOT_POOL)
    n = SLOT_POOL;
  *runs = *posts = 0;
  for (size_t i = 0; i < n; i++) {
    struct sigslot *s = &R.slots[i];
    if (s->slot == NULL)
      continue;
    uint64_t r = atomic_load(&s->runs), t = atomic_load(&s->tickets), ok = atomic_load(&s->last_ok);
    if (atomic_load(&s->dropped) != 1 || r > t || (s->shared && shutdown_rc == RT_OK && ok > 0 && (r == 0 || atomic_load(&s->seen) < ok)))
      FAIL("round %d slot %zu%s: dropped %d, %" PRIu64 " runs, %" PRIu64 " posts (%" PRIu64
           " RT_OK), the last RT_OK post #%" PRIu64 ", the latest run saw #%" PRIu64,
           round, i, s->shared ? (R.graceful ? " (shared, graceful)" : " (shared, timeout)") : "", atomic_load(&s->dropped), r, t,
           (uint64_t)atomic_load(&s->ok), ok, (uint64_t)atomic_load(&s->seen));
    *runs += r;
    *posts += t;
  }
  total.slots += n;
  total.slot_posts += *posts;
  total.slot_runs += *runs;
}

static void check_ledger(int round, bool graceful, int shutdown_rc, uint64_t slot_runs,
                         uint64_t slot_posts) {
  uint64_t known = 0, accepted_known = 0, refused_known = 0, ran = 0, drops = 0,
           silent = 0, unknown_calls = 0, unknown_ran = 0, nontimer_dropped = 0,
           inline_runs = 0, blocking_accepted = 0, completions = 0, completions_ran = 0;
  size_t n = atomic_load(&R.next);
  if (n > POOL)
    n = POOL;
  for (size_t i = 0; i < n; i++) {
    struct item *it = &R.pool[i];
    int r = atomic_load(&it->ran), d = atomic_load(&it->dropped), rc = atomic_load(&it->rc);
    const char *kn = kind_name[it->kind];
    if (r > 1 || d > 1 || r + d > 1)
      FAIL("round %d item %zu (%s): ran %d, dropped %d", round, i, kn, r, d);
    if (d && !it->has_drop)
      FAIL("round %d item %zu (%s): a drop ran but none was given", round, i, kn);
    if (atomic_load(&it->join_ok) && r != 1)
      FAIL("round %d item %zu (%s): a join said RT_OK, ran %d", round, i, kn, r);
    if ((atomic_load(&it->join_canceled) || atomic_load(&it->cancel_ok)) && r != 0)
      FAIL("round %d item %zu (%s): cancelled or joined as cancelled, yet ran", round, i, kn);
    switch (it->kind) {
    case K_BLOCK_INLINE:
    case K_WAIT_INLINE:
      if (r != 1)
        FAIL("round %d item %zu (%s): ran %d, want 1", round, i, kn, r);
      inline_runs++;
      continue;
    case K_POST:
    case K_WAIT:
      unknown_calls++;
      unknown_ran += (uint64_t)r;
      continue;
    case K_COMPLETION:
      if (rc == RC_UNKNOWN)
        FAIL("round %d item %zu: a completion whose rt_spawn_then never returned", round, i);
      if (r + d != (rc == RT_OK ? 1 : 0))
        FAIL("round %d item %zu: completion of a task %s: ran %d, dropped %d", round, i,
             rc == RT_OK ? "accepted" : "refused", r, d);
      completions += rc == RT_OK;
      completions_ran += (uint64_t)r;
      continue;
    default:
      break;
    }
    known++;
    if (rc == RC_UNKNOWN)
      FAIL("round %d item %zu (%s): the call never returned", round, i, kn);
    bool accepted = rc == RT_OK || ((it->kind == K_BLOCK_ON || it->kind == K_STRAND_BLOCK ||
                                     it->kind == K_LOOP_BLOCK) && rc == RT_ECANCELED);
    if (!accepted) {
      refused_known++;
      if (r || d)
        FAIL("round %d item %zu (%s): refused (%s) but ran %d dropped %d", round, i, kn,
             rt_code_name(rc), r, d);
      continue;
    }
    accepted_known++;
    blocking_accepted += it->blocking;
    ran += (uint64_t)r;
    drops += (uint64_t)d;
    if (it->has_drop && r + d != 1)
      FAIL("round %d item %zu (%s, delay %" PRIu64 "): accepted, ran %d, dropped %d", round,
           i, kn, it->delay, r, d);
    if (!it->has_drop && r == 0)
      silent++;
    /* (A group job may have been dropped by rt_group_cancel.) */
    if (r == 0 && (!is_timer(it->kind) || it->delay == 0) && !atomic_load(&it->cancel_ok) &&
        it->kind != K_GROUP && it->kind != K_GROUP_STRAND)
      nontimer_dropped++;
  }
  if (graceful && nontimer_dropped > 0)
    FAIL("round %d: graceful shutdown dropped %" PRIu64 " tasks that were not timers", round,
         nontimer_dropped);
  if (shutdown_rc == RT_OK && !graceful && nontimer_dropped > 0)
    FAIL("round %d: rt_shutdown_timeout returned RT_OK but dropped %" PRIu64 " tasks", round,
         nontimer_dropped);

  rt_stats_t s = get_stats(R.h);
  /* Trampoline calls from outside: the ledger knows whether they ran, not
   * whether an unrun one was refused or dropped; the sums still close.
   * rt_apply's helper jobs (up to workers - 1 per call) count too, as
   * accepted (then ran or dropped) or refused. */
  uint64_t helpers = atomic_load(&R.applies) * (R.workers - 1) + atomic_load(&R.timer_bound);
  bool ok = s.shutdown && s.queued == 0 && s.timers == 0 && s.workers == R.workers &&
            s.spawned == s.completed + s.dropped && s.completed >= ran + unknown_ran + slot_runs &&
            s.completed <= ran + unknown_ran + helpers + completions_ran + slot_runs &&
            s.spawned + s.rejected >= known + unknown_calls + completions + slot_runs &&
            s.spawned + s.rejected <= known + unknown_calls + helpers + completions + slot_posts &&
            s.rejected >= refused_known && s.spawned >= accepted_known &&
            s.dropped >= drops + silent;
  if (!ok)
    FAIL("round %d stats: spawned %" PRIu64 " completed %" PRIu64 " dropped %" PRIu64
         " rejected %" PRIu64 " queued %" PRIu64 " timers %" PRIu64 " shutdown %d; ledger: "
         "%" PRIu64 " known calls (%" PRIu64 " accepted, %" PRIu64 " refused, %" PRIu64
         " ran, %" PRIu64 " dropped, %" PRIu64 " dropped silently), %" PRIu64
         " trampoline calls (%" PRIu64 " ran), up to %" PRIu64 " apply helpers, %" PRIu64
         " slot runs of %" PRIu64 " posts",
         round, s.spawned, s.completed, s.dropped, s.rejected, s.queued, s.timers,
         (int)s.shutdown, known, accepted_known, refused_known, ran, drops, silent,
         unknown_calls, unknown_ran, helpers, slot_runs, slot_posts);
  if (shutdown_rc == RT_ETIMEDOUT && s.dropped == 0)
    FAIL("round %d: RT_ETIMEDOUT, yet nothing was dropped", round);

  /* Blocking work: each rt_spawn_blocking accepted, and each outermost
   * region, counted once; a region either handed its worker off, found
   * nothing to move (RT_OK) or got RT_EAGAIN; the pool within its cap,
   * every thread of it started through the hooks, none left. */
  uint64_t regions = atomic_load(&R.regions), eagain = atomic_load(&R.regions_eagain);
  uint64_t started = (uint64_t)atomic_load(&R.starts) - R.workers;
  bool bok = s.blocking_spawned == blocking_accepted && s.blocking_spawned <= s.spawned &&
             s.blocking_regions == regions && s.handoffs + eagain <= s.blocking_regions &&
             s.blocking_threads == 0 && s.blocking_threads_peak <= R.max_blocking &&
             s.blocking_threads_peak <= started;
  if (!bok)
    FAIL("round %d blocking stats: blocking_spawned %" PRIu64 " (ledger %" PRIu64
         ", spawned %" PRIu64 "), blocking_regions %" PRIu64 " (ledger %" PRIu64
         ", %" PRIu64 " of them RT_EAGAIN), handoffs %" PRIu64 ", blocking_threads %" PRIu64
         " after shutdown, peak %" PRIu64 " (cap %u, %" PRIu64 " threads started)",
         round, s.blocking_spawned, blocking_accepted, s.spawned, s.blocking_regions, regions,
         eagain, s.handoffs, s.blocking_threads, s.blocking_threads_peak, R.max_blocking,
         started);
  total.blocking_spawned += s.blocking_spawned;
  total.blocking_started += started;
  total.regions += regions;
  total.regions_eagain += eagain;
  total.handoffs += s.handoffs;
  total.joins_helped += s.joins_helped;
  total.stranded_moved += s.stranded_moved;
  total.small_pools += R.max_blocking <= 4;

  total.accepted += s.spawned;
  total.ran += s.completed;
  total.dropped += s.dropped;
  total.refused += s.rejected;
  total.inline_runs += inline_runs;
}

/* The loop's owner: makes it, runs it (bounded, unbounded, with waits)
 * until told to stop, then frees it. */
static void *loop_owner_main(void *arg) {
  uint64_t rng = (uint64_t)(uintptr_t)arg | 1;
  count_call(C_LOOP_RUN);
  R.loop = rt_loop_new(R.h);
  CHECK_NOT_NULL(R.loop);
  gate_open(&R.loop_made);
  while (!atomic_load(&R.loop_stop)) {
    count_call(C_LOOP_RUN);
    int rc;
    switch (rng_next(&rng) % 3) {
    case 0: rc = rt_loop_run_pending(R.loop, 1 + (size_t)(rng_next(&rng) % 8)); break;
    case 1: rc = rt_loop_run(R.loop, (int64_t)(rng_next(&rng) % 500000)); break;
    default: rc = rt_loop_run_pending(R.loop, SIZE_MAX); break;
    }
    if (rc < 0 && rc != RT_ETIMEDOUT)
      FAIL("rt_loop_run*: %s", rt_code_name(rc));
  }
  CHECK_RC(rt_loop_free(R.loop), RT_OK);
  return NULL;
}

static void run_round(int round, uint64_t *master) {
  uint64_t rng = rng_next(master) | 1;
  memset(&R, 0, sizeof R);
  R.pool = calloc(POOL, sizeof *R.pool);
  CHECK_NOT_NULL(R.pool);
  R.slots = calloc(SLOT_POOL, sizeof *R.slots);
  CHECK_NOT_NULL(R.slots);
  for (int i = 0; i < BOARD; i++)
    pthread_mutex_init(&R.board[i].mu, NULL);

  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = 1 + (unsigned)(rng_next(&rng) % 4);
  cfg.queue_capacity = rng_next(&rng) % 4 == 0 ? 1 + (size_t)(rng_next(&rng) % 64) : 0;
  cfg.thread_name = "sx";
  cfg.on_thread_start = hook_start;
  cfg.on_thread_stop = hook_stop;
  /* Blocking work: mostly a pool of 1-4 threads (regions then get
   * RT_EAGAIN and blocking jobs queue), keep-alives from 1 ns to the
   * default 10 s, the stranded limit short, default or off. */
  cfg.max_blocking_threads = rng_next(&rng) % 5 == 0 ? 0 : 1 + (unsigned)(rng_next(&rng) % 4);
  static const uint64_t keep_alives[] = {0, 1, 50000, MS, 20 * MS};
  cfg.blocking_keep_alive_ns = keep_alives[rng_next(&rng) % 5];
  static const uint64_t stranded[] = {0, 200000, 200000, 50000, UINT64_MAX};
  cfg.stranded_after_ns = stranded[rng_next(&rng) % 5];
  R.max_blocking = cfg.max_blocking_threads != 0 ? cfg.max_blocking_threads : 512;
  R.workers = cfg.workers;
  R.capacity = cfg.queue_capacity;
  R.rt = rt_new(&cfg);
  CHECK_NOT_NULL(R.rt);
  CHECK_EQ(atomic_load(&R.starts), cfg.workers);
  R.h = rt_handle(R.rt);
  static const rt_type_t post_args[] = {RT_TYPE_POINTER};
  static const rt_type_t wait_args[] = {RT_TYPE_POINTER, RT_TYPE_INT};
  R.post_cb = rt_callback_new(R.h, RT_CALLBACK_POST, RT_TYPE_VOID, post_args, 1, post_handler,
                              NULL, &R.post_code);
  R.wait_cb = rt_callback_new(R.h, RT_CALLBACK_WAIT, RT_TYPE_LONG, wait_args, 2, wait_handler,
                              NULL, &R.wait_code);
  CHECK_NOT_NULL(R.post_cb);
  CHECK_NOT_NULL(R.wait_cb);
  for (int i = 0; i < 2; i++) {
    count_call(C_GROUP_NEW);
    R.groups[i] = rt_group_new(R.h);
    CHECK_NOT_NULL(R.groups[i]);
  }
  R.nstrands = 1 + (int)(rng_next(&rng) % MAX_STRANDS);
  for (int i = 0; i < R.nstrands; i++) {
    count_call(C_STRAND_NEW);
    R.strands[i] = rt_strand_new(R.h);
    CHECK_NOT_NULL(R.strands[i]);
  }

  gate_init(&R.loop_made);
  CHECK_EQ(pthread_create(&R.loop_owner, NULL, loop_owner_main, (void *)(uintptr_t)rng_next(&rng)), 0);
  gate_wait(&R.loop_made);
  for (int i = 0; i < 2; i++) {
    R.shared_slots[i] = slot_new(R.h);
    CHECK_NOT_NULL(R.shared_slots[i]);
    R.shared_slots[i]->shared = true;
  }
  atomic_store(&handler_slot, R.shared_slots[0]);
  /* The shutdown's kind, known to the tasks (do_callback_free_twice). */
  bool graceful = rng_next(&rng) % 2 == 0;
  R.graceful = graceful;

  int nthreads = 2 + (int)(rng_next(&rng) % (MAX_THREADS - 1));
  struct foreign f[MAX_THREADS];
  memset(f, 0, sizeof f);
  for (int i = 0; i < nthreads; i++) {
    f[i].rng = rng_next(&rng) | 1;
    CHECK_EQ(pthread_create(&f[i].thread, NULL, foreign_main, &f[i]), 0);
  }

  /* The shutdown, at a random instant, one way or the other. */
  static const uint64_t timeouts[] = {0, 100000, 2 * MS, 50 * MS, UINT64_MAX};
  uint64_t timeout = timeouts[rng_next(&rng) % 5];
  sleep_us((unsigned)(rng_next(&rng) % 150000));
  atomic_store(&R.shutdown_started, 1);
  count_call(C_SHUTDOWN);
  /* One round in six of the timeout kind shuts down in the background:
   * it returns at once, and the ledger is read once every thread of the
   * runtime ended on its own (the reaper, "sx-r", last). */
  bool background = !graceful && rng_next(&rng) % 6 == 0;
  int rc = graceful     ? rt_shutdown(R.rt)
           : background ? rt_shutdown_background(R.rt)
                        : rt_shutdown_timeout(R.rt, timeout);
  if (rc != RT_OK && !(rc == RT_ETIMEDOUT && !graceful && !background))
    FAIL("round %d: %s returned %s", round,
         graceful ? "rt_shutdown" : background ? "rt_shutdown_background" : "rt_shutdown_timeout",
         rt_code_name(rc));
  if (background) {
    WAIT_UNTIL(count_threads("sx-") == 0);
    total.background++;
    rc = 1; /* for the ledger: neither "all ran" nor "the timeout dropped some" */
  }
  atomic_store(&R.shutdown_done, 1);
  /* Workers and blocking threads alike run both hooks. */
  CHECK_EQ(atomic_load(&R.stops), atomic_load(&R.starts));
  /* Calls after the shutdown, for a while. */
  sleep_us((unsigned)(rng_next(&rng) % 5000));
  atomic_store(&R.stop, 1);
  for (int i = 0; i < nthreads; i++)
    CHECK_EQ(pthread_join(f[i].thread, NULL), 0);
  atomic_store(&R.loop_stop, 1);
  CHECK_EQ(pthread_join(R.loop_owner, NULL), 0);
  gate_destroy(&R.loop_made);

  /* No handler posts to the first shared slot once none is inside. */
  atomic_store(&handler_slot, NULL);
  WAIT_UNTIL(atomic_load(&handlers_inside) == 0);
  for (int i = 0; i < 2; i++)
    slot_free(R.shared_slots[i]);
  uint64_t slot_runs, slot_posts;
  check_slots(round, rc, &slot_runs, &slot_posts);
  check_ledger(round, graceful, rc, slot_runs, slot_posts);
  CHECK_EQ(atomic_load(&R.timer_drops), atomic_load(&R.timers_made));
  for (int i = 0; i < BOARD; i++)
    board_retire((size_t)i);
  rt_callback_free(R.post_cb);
  rt_callback_free(R.wait_cb);
  count_call(C_STRAND_NEW);
  CHECK_NULL(rt_strand_new(R.h)); /* shut down */
  for (int i = 0; i < R.nstrands; i++) {
    count_call(C_STRAND_RELEASE);
    rt_strand_release(R.strands[i]);
  }
  for (int i = 0; i < 2; i++) {
    CHECK_EQ(rt_group_pending(R.groups[i]), 0);
    CHECK_RC(rt_group_wait(R.groups[i], 0), RT_OK);
    count_call(C_GROUP_RELEASE);
    rt_group_release(R.groups[i]);
  }
  WAIT_UNTIL(count_threads("sx-") == 0); /* joined threads leave /proc soon after */
  rt_handle_release(R.h);
  check_live("after the round");

  uint64_t calls = 0;
  for (int c = 0; c < C_COUNT; c++)
    calls += atomic_load(&R.calls[c]);
  total.rounds++;
  total.threads += (uint64_t)nthreads;
  total.calls += calls;
  total.graceful += graceful;
  total.with_timeout += !graceful;
  total.timed_out += rc == RT_ETIMEDOUT;
  total.second_releases += atomic_load(&R.calls[C_SECOND_RELEASE]);
  for (int i = 0; i < BOARD; i++)
    pthread_mutex_destroy(&R.board[i].mu);
  free(R.pool);
  free(R.slots);
}

TEST(stress_api_random) {
  uint64_t master = test_seed();
  const char *env = getenv("STRESS_SECONDS");
  uint64_t seconds = env != NULL && atoi(env) > 0 ? (uint64_t)atoi(env) : 2;
  *(void **)&live_objects = dlsym(RTLD_DEFAULT, "rtctx_debug_live_objects");
  printf("stress: %" PRIu64 " s; live-object ledger: %s\n", seconds,
         live_objects != NULL ? "on (debug library)" : "off (release library)");
  /* make stress sets it: a debug library that lost the symbol must not
   * turn the ledger off unnoticed. */
  const char *need = getenv("RTCTX_STRESS_NEED_LEDGER");
  if (need != NULL && *need != '\0' && live_objects == NULL)
    FAIL("RTCTX_STRESS_NEED_LEDGER is set, but rtctx_debug_live_objects is not exported");
  check_live("before the first round");
  /* The storm: 2 kHz, process-directed (any thread that does not block
   * it); not under valgrind, which serializes the threads. */
  bool storm = !under_valgrind();
  timer_t timer;
  if (storm)
    timer = signal_storm_start(SIGUSR1, on_stress_signal, 500000);
  uint64_t end = now_ns() + seconds * 1000 * MS;
  int round = 0;
  do {
    run_round(round++, &master);
  } while (now_ns() < end);
  if (storm)
    signal_storm_stop(timer);
  CHECK_EQ(atomic_load(&sig_bad), 0);
  CHECK_EQ(atomic_load(&sig_errno_moved), 0);
  printf("stress: %" PRIu64 " rounds, %" PRIu64 " foreign threads, %" PRIu64
         " calls; %" PRIu64 " tasks accepted: %" PRIu64 " ran, %" PRIu64
         " dropped, 0 lost; %" PRIu64 " refused; %" PRIu64 " run inline; %" PRIu64
         " shutdowns raced (%" PRIu64 " graceful, %" PRIu64 " with a timeout, %" PRIu64
         " of them timed out, %" PRIu64 " in the background)\n",
         total.rounds, total.threads, total.calls, total.accepted, total.ran, total.dropped,
         total.refused, total.inline_runs, total.rounds, total.graceful, total.with_timeout,
         total.timed_out, total.background);
  printf("stress: blocking work: %" PRIu64 " rt_spawn_blocking accepted, %" PRIu64
         " regions (%" PRIu64 " RT_EAGAIN), %" PRIu64 " hand-offs, %" PRIu64
         " blocking threads started, %" PRIu64 " joins helped, %" PRIu64
         " stranded jobs moved; %" PRIu64 " rounds with a pool of 1-4 threads\n",
         total.blocking_spawned, total.regions, total.regions_eagain, total.handoffs,
         total.blocking_started, total.joins_helped, total.stranded_moved, total.small_pools);
  printf("stress: signal slots: %" PRIu64 " made, %" PRIu64 " posts, %" PRIu64
         " runs; %" PRIu64 " timer signals at 2 kHz, %" PRIu64 " posts from the handler (%" PRIu64
         " RT_ESHUTDOWN); second releases: %" PRIu64 " (%s)\n",
         total.slots, total.slot_posts, total.slot_runs, (uint64_t)atomic_load(&sig_delivered),
         (uint64_t)atomic_load(&sig_posted), (uint64_t)atomic_load(&sig_refused),
         total.second_releases, second_releases() ? "release library" : "skipped: a debug library stops at one");
}
