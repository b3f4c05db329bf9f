/*
 * fuzz_api.c — a libFuzzer target for the whole C API (make fuzz).
 *
 * The input is a program: each byte picks a call, the following bytes its
 * arguments, with NULLs, zero and huge sizes, bad enumerators, out-of-order
 * exits, cancels after joins, repeated shutdowns, calls through handles
 * whose runtime is gone, trampolines of arbitrary signatures, and strands
 * (spawns of every kind, block_on, one from inside its own strand), and
 * rt_apply over sizes from 0 to a few thousand, and groups (spawns, strand
 * spawns, waits, cancels), and blocking work (rt_spawn_blocking with NULL
 * handles and functions, joins and cancels; regions in tasks, nested, and
 * ends without a begin; regions off the runtime; configurations with
 * zero, tiny and huge stranded limits, pool caps and keep-alives), signal
 * slots (posts that coalesce, frees with runs queued, a second free while
 * a run holds the slot, shutdowns with slots live) and second releases of
 * join handles, strands, groups and trampolines while a held job keeps
 * the object (a no-op, the header says). Up to
 * three runtimes live in one input, one at a time.
 *
 * The program never does what the contract calls undefined (a pointer used
 * after its last release, a second shutdown with no handle left): that is
 * the only rule the decoder keeps. Everything else is fair, and each result
 * is checked against the contract as far as it is determined. At the end of
 * each input the decoder exits its guards, frees its trampolines, shuts
 * every runtime down, joins and releases its tasks and releases its
 * handles; then a ledger checks that every accepted task ran xor was
 * dropped, exactly once, that refused ones did neither, and that each
 * runtime's stats add up. AddressSanitizer and LeakSanitizer watch the
 * memory, libFuzzer's -timeout any hang.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <time.h>

#include "rtctx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "fuzz_api.c:%d: CHECK(%s) failed: ", __LINE__, #cond);   \
      fprintf(stderr, __VA_ARGS__);                                            \
      fputc('\n', stderr);                                                     \
      abort();                                                                 \
    }                                                                          \
  } while (0)

#define MS 1000000ull

/* ------------------------------------------------------------------------ */
/* Input                                                                     */
/* ------------------------------------------------------------------------ */

static const uint8_t *in_p;
static size_t in_n;

static uint8_t u8(void) {
  if (in_n == 0)
    return 0;
  in_n--;
  return *in_p++;
}

static uint64_t u64(void) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v = v << 8 | u8();
  return v;
}

/* A size or count: mostly small, sometimes an edge. */
static uint64_t pick_size(void) {
  switch (u8() % 8) {
  case 0: return 0;
  case 1: return 1;
  case 2: return SIZE_MAX;
  case 3: return (uint64_t)SIZE_MAX / 2 + 1;
  case 4: return u64();
  default: return u8();
  }
}

/* ------------------------------------------------------------------------ */
/* The ledger                                                                */
/* ------------------------------------------------------------------------ */

enum { CELLS = 512, MAX_RT = 3, MAX_H = 8, MAX_T = 16, MAX_G = 8, MAX_CB = 4, MAX_S = 4 };

struct cell {
  atomic_int ran, dropped;
  int rc;        /* what the spawn returned; 1 = not yet */
  bool has_drop; /* a drop callback was given */
  bool inline_run; /* block_on on a worker: not counted in stats */
  bool counted;  /* goes into the stats of runtime `rt` */
  bool post;     /* a POST call: refusal is not visible to the caller */
  bool blocking; /* rt_spawn_blocking: counts in blocking_spawned */
  bool completion; /* an rt_spawn_then completion: rc is its task's */
  int rt;        /* which runtime */
};

static struct cell cells[CELLS];
static atomic_int ncells;

static struct cell *new_cell(int rt) {
  int i = atomic_fetch_add(&ncells, 1);
  if (i >= CELLS)
    return NULL;
  struct cell *c = &cells[i];
  atomic_init(&c->ran, 0);
  atomic_init(&c->dropped, 0);
  c->rc = 1;
  c->has_drop = false;
  c->inline_run = false;
  c->counted = true;
  c->post = false;
  c->blocking = false;
  c->completion = false;
  c->rt = rt;
  return c;
}

static void mark_ran(struct cell *c) {
  CHECK(atomic_fetch_add(&c->ran, 1) == 0, "cell %td ran twice", c - cells);
  CHECK(atomic_load(&c->dropped) == 0, "cell %td ran after its drop", c - cells);
}

static void cell_drop(void *p) {
  struct cell *c = p;
  CHECK(atomic_fetch_add(&c->dropped, 1) == 0, "cell %td dropped twice", c - cells);
  CHECK(atomic_load(&c->ran) == 0, "cell %td dropped after it ran", c - cells);
}

/* ------------------------------------------------------------------------ */
/* Task bodies: what `fn` may be                                             */
/* ------------------------------------------------------------------------ */

static void *f_count(void *p) {
  mark_ran(p);
  return p;
}

static void f_count_void(void *p) { mark_ran(p); }

/* Spawns a child onto its own runtime (maybe mid-shutdown). */
static void *f_spawn_child(void *p) {
  struct cell *c = p;
  mark_ran(c);
  struct cell *child = new_cell(c->rt);
  if (child != NULL) {
    child->has_drop = true;
    child->rc = rt_spawn_full(rt_handle_current(), f_count, child, cell_drop, NULL);
    CHECK(child->rc == RT_OK || child->rc == RT_ESHUTDOWN || child->rc == RT_EAGAIN,
          "a task's spawn returned %d", child->rc);
  }
  return p;
}

/* block_on on its own worker: runs inline. */
static void *f_block_on(void *p) {
  struct cell *c = p;
  mark_ran(c);
  struct cell *child = new_cell(c->rt);
  if (child != NULL) {
    child->inline_run = true;
    child->counted = false;
    void *res = NULL;
    child->rc = rt_block_on(rt_handle_current(), f_count, child, &res);
    CHECK(child->rc == RT_OK && res == child, "inline block_on: %d", child->rc);
  }
  return p;
}

static void *f_sleep(void *p) {
  mark_ran(p);
  struct timespec ts = {0, 50000};
  nanosleep(&ts, NULL);
  return p;
}

/* A strand job that block_ons its own strand: refused, it would wait for itself. */
static void *f_strand_self(void *p) {
  mark_ran(p);
  rt_strand_t *s = rt_strand_current();
  CHECK(s != NULL, "no current strand in a strand job");
  CHECK(rt_strand_block_on(s, f_count, NULL, NULL) == RT_EDEADLK, "block_on onto its own strand");
  return p;
}

static rt_call_fn const call_fns[] = {f_count, f_spawn_child, f_block_on, f_sleep};

/* Per runtime: outermost regions the tasks opened (rt_stats_t counts each). */
static atomic_uint_least64_t regions_opened[MAX_RT];

/* A region in a task: RT_OK or RT_EAGAIN, an inner one RT_OK, ends RT_OK,
 * then an end too many RT_EINVAL. */
static void *f_region(void *p) {
  struct cell *c = p;
  mark_ran(c);
  int rc = rt_blocking_begin();
  CHECK(rc == RT_OK || rc == RT_EAGAIN, "rt_blocking_begin in a task gave %d", rc);
  atomic_fetch_add(&regions_opened[c->rt], 1);
  CHECK(rt_blocking_begin() == RT_OK, "a nested rt_blocking_begin");
  struct timespec ts = {0, 20000};
  nanosleep(&ts, NULL);
  CHECK(rt_blocking_end() == RT_OK, "inner rt_blocking_end");
  CHECK(rt_blocking_end() == RT_OK, "outer rt_blocking_end");
  CHECK(rt_blocking_end() == RT_EINVAL, "rt_blocking_end without a begin");
  return p;
}

/* An end without a begin, in a task. */
static void *f_bad_end(void *p) {
  mark_ran(p);
  CHECK(rt_blocking_end() == RT_EINVAL, "rt_blocking_end without a begin in a task");
  return p;
}

/* A blocking child of a task (from a worker or a blocking thread), joined. */
static void *f_blocking_child(void *p) {
  struct cell *c = p;
  mark_ran(c);
  struct cell *child = new_cell(c->rt);
  if (child != NULL) {
    child->has_drop = true;
    child->blocking = true;
    rt_task_t *t = NULL;
    child->rc = rt_spawn_blocking(rt_handle_current(), f_sleep, child, cell_drop, &t);
    CHECK(child->rc == RT_OK || child->rc == RT_ESHUTDOWN || child->rc == RT_EAGAIN,
          "a task's rt_spawn_blocking returned %d", child->rc);
    if (t != NULL) {
      int rc = rt_task_join(t, -1, NULL);
      CHECK(rc == RT_OK || rc == RT_ECANCELED, "join of a blocking child gave %d", rc);
      rt_task_release(t);
    }
  }
  return p;
}

static rt_call_fn const blocking_fns[] = {f_count, f_sleep, f_region, f_bad_end,
                                          f_blocking_child, f_spawn_child, f_block_on, f_region};

/* ------------------------------------------------------------------------ */
/* Trampolines: the signatures the decoder knows how to call                 */
/* ------------------------------------------------------------------------ */

enum sig { SIG_NONE, SIG_POST_VOID, SIG_POST_INT, SIG_WAIT_INT_INT, SIG_WAIT_DBL };

/* Per runtime: calls of the trampolines whose handler has no cell to mark
 * (POST void, WAIT), and how many of those handlers ran. */
static atomic_uint_least64_t tramp_calls[MAX_RT], tramp_runs[MAX_RT];

/* `user` is sig | runtime << 8. */
static void cb_handler(void *result, void **args, void *user) {
  intptr_t sig = (intptr_t)user & 0xFF, rt = (intptr_t)user >> 8;
  if (sig != SIG_POST_INT && rt >= 0 && rt < MAX_RT)
    atomic_fetch_add(&tramp_runs[rt], 1);
  switch (sig) {
  case SIG_POST_INT:
    mark_ran(&cells[*(int *)args[0]]);
    break;
  case SIG_WAIT_INT_INT:
    *(int *)result = *(int *)args[0] * 3 + *(int *)args[1];
    break;
  case SIG_WAIT_DBL:
    *(double *)result = *(double *)args[0] + (double)*(int8_t *)args[1];
    break;
  default:
    break;
  }
}

/* ------------------------------------------------------------------------ */
/* State of one input                                                        */
/* ------------------------------------------------------------------------ */

struct runtime {
  rt_runtime_t *rt;   /* NULL once shut down */
  rt_handle_t *witness; /* kept to the end: stats, repeated shutdowns */
  size_t capacity;
  unsigned max_blocking; /* the pool's cap, resolved */
  bool background;       /* shut down by rt_shutdown_background: tasks may still run */
  bool timed_shutdown;   /* rt_shutdown_timeout returned RT_ETIMEDOUT: runs may be dropped */
};

struct task {
  rt_task_t *t;
  struct cell *c;
  uint64_t delay;
};

struct callback {
  rt_callback_t *cb;
  void *code;
  enum sig sig;
  int rt;
};

static struct runtime rts[MAX_RT];
static int nrt;
static int cur = -1; /* the runtime new calls go to */
static struct {
  rt_handle_t *h;
  int rt;
} handles[MAX_H];
static int nh;
static struct task tasks[MAX_T];
static int nt;
static struct {
  rt_guard_t *g;
  rt_handle_t *h;
} guards[MAX_G];
static int ng;
static struct callback cbs[MAX_CB];
static int ncb;

static bool live(int rt) { return rt >= 0 && rts[rt].rt != NULL; }

/* A handle argument: one we hold, or NULL; and which runtime it is. */
static rt_handle_t *pick_handle(int *rt) {
  uint8_t b = u8();
  if (b % 8 == 0 || nrt == 0) {
    *rt = -1;
    return NULL;
  }
  if (nh > 0 && b % 2) {
    int i = b / 2 % nh;
    *rt = handles[i].rt;
    return handles[i].h;
  }
  *rt = (int)(b / 8 % (uint8_t)nrt);
  return rts[*rt].witness;
}

static int expect_spawn(int rt, bool null_fn, bool bounded, int rc) {
  if (rt < 0 || null_fn) {
    CHECK(rc == RT_EINVAL || (rt >= 0 && !live(rt) && rc == RT_ESHUTDOWN),
          "bad spawn gave %d", rc);
  } else if (!live(rt)) {
    CHECK(rc == RT_ESHUTDOWN, "spawn after shutdown gave %d", rc);
  } else {
    CHECK(rc == RT_OK || (bounded && rts[rt].capacity > 0 && rc == RT_EAGAIN),
          "spawn gave %d", rc);
  }
  return rc;
}

/* ------------------------------------------------------------------------ */
/* Calls                                                                     */
/* ------------------------------------------------------------------------ */

static atomic_int hook_starts, hook_stops;
static int hooked_workers; /* workers started with hooks, over every input */
static void on_start(void *u) {
  (void)u;
  atomic_fetch_add(&hook_starts, 1);
}
static void on_stop(void *u) {
  (void)u;
  atomic_fetch_add(&hook_stops, 1);
}

static void op_new(void) {
  rt_config_t cfg;
  rt_config_init(&cfg);
  uint8_t w = u8();
  cfg.workers = w < 200 ? 1 + w % 3 : (w % 2 ? 1025 : 0xFFFFFFFFu);
  static const size_t caps[] = {0, 0, 1, 2, 64, SIZE_MAX, (size_t)SIZE_MAX / 2 + 1};
  cfg.queue_capacity = caps[u8() % 7];
  char name[24];
  uint8_t nlen = u8() % 24;
  for (uint8_t i = 0; i < nlen; i++)
    name[i] = (char)u8();
  name[nlen ? nlen - 1 : 0] = '\0';
  cfg.thread_name = u8() % 2 ? name : NULL;
  if (u8() % 2) {
    cfg.on_thread_start = on_start;
    cfg.on_thread_stop = on_stop;
  }
  /* Blocking work: zero (the defaults), tiny, huge and any values. */
  static const uint64_t ns_edges[] = {0, 1, 50000, 200000, UINT64_MAX - 1, UINT64_MAX};
  uint8_t e = u8();
  cfg.stranded_after_ns = e < 240 ? ns_edges[e % 6] : u64();
  static const unsigned caps_b[] = {0, 1, 2, 4, 0xFFFFFFFFu};
  e = u8();
  cfg.max_blocking_threads = e < 240 ? caps_b[e % 5] : (unsigned)u64();
  e = u8();
  cfg.blocking_keep_alive_ns = e < 240 ? ns_edges[e % 6] : u64();
  /* rt_new reads `size` bytes: 0, 1 and 7 cover queue_capacity, 2 only
   * workers, 3 nothing but size (then workers = online CPUs), 7 all but
   * the blocking fields (a 0.2 caller); 4-6 are bad sizes. */
  static const size_t sizes[] = {sizeof(rt_config_t), offsetof(rt_config_t, on_thread_start),
                                 offsetof(rt_config_t, queue_capacity), sizeof(size_t), 0,
                                 sizeof(rt_config_t) + 8, SIZE_MAX,
                                 offsetof(rt_config_t, stranded_after_ns)};
  uint8_t si = u8() % 8;
  cfg.size = sizes[si];
  bool reads_capacity = si < 2 || si == 7;
  bool good = (si < 4 || si == 7) && (si == 3 || cfg.workers <= 1024) &&
              (!reads_capacity || cfg.queue_capacity <= (size_t)INTPTR_MAX / 2);
  bool busy = nrt == MAX_RT || (cur >= 0 && live(cur));
  /* One running runtime at a time, three per input: else bad configs only. */
  if (busy && good)
    return;
  bool null_cfg = u8() % 8 == 0;
  if (null_cfg && busy)
    return;
  rt_runtime_t *rt = rt_new(null_cfg ? NULL : &cfg);
  if (!null_cfg && !good) {
    CHECK(rt == NULL, "rt_new accepted a bad config (size %zu, workers %u, capacity %zu)",
          cfg.size, cfg.workers, cfg.queue_capacity);
    return;
  }
  CHECK(rt != NULL, "rt_new failed (size %zu, workers %u)", cfg.size, cfg.workers);
  rts[nrt].rt = rt;
  rts[nrt].witness = rt_handle(rt);
  rts[nrt].capacity = null_cfg || !reads_capacity ? 0 : cfg.queue_capacity;
  rts[nrt].max_blocking =
      !null_cfg && si == 0 && cfg.max_blocking_threads != 0 ? cfg.max_blocking_threads : 512;
  if (!null_cfg && (si == 0 || si == 7) && cfg.on_thread_start != NULL)
    hooked_workers += cfg.workers;
  CHECK(rts[nrt].witness == (rt_handle_t *)rt, "rt_handle is not the runtime's pointer");
  cur = nrt++;
}

static void op_shutdown(void) {
  uint8_t b = u8();
  if (b % 8 == 0) {
    CHECK(rt_shutdown(NULL) == RT_EINVAL, "rt_shutdown(NULL)");
    CHECK(rt_shutdown_timeout(NULL, u64()) == RT_EINVAL, "rt_shutdown_timeout(NULL)");
    return;
  }
  if (nrt == 0)
    return;
  int i = b / 8 % nrt;
  if (!live(i)) {
    /* A second shutdown: a use after free, unless a handle keeps the
     * runtime alive; the witness does. */
    CHECK(rt_shutdown((rt_runtime_t *)rts[i].witness) == RT_EINVAL, "second rt_shutdown");
    return;
  }
  int rc;
  if (b % 2) {
    rc = rt_shutdown(rts[i].rt);
    CHECK(rc == RT_OK, "rt_shutdown gave %d", rc);
  } else {
    static const uint64_t timeouts[] = {0, 1000, MS, UINT64_MAX};
    rc = rt_shutdown_timeout(rts[i].rt, timeouts[u8() % 4]);
    CHECK(rc == RT_OK || rc == RT_ETIMEDOUT, "rt_shutdown_timeout gave %d", rc);
    /* RT_OK: nothing was dropped, so every RT_OK post got its run. */
    rts[i].timed_shutdown = rc == RT_ETIMEDOUT;
  }
  rts[i].rt = NULL;
}

static void op_handle(void) {
  uint8_t b = u8();
  if (b % 4 == 0) {
    CHECK(rt_handle(NULL) == NULL, "rt_handle(NULL)");
    CHECK(rt_handle_clone(NULL) == NULL, "rt_handle_clone(NULL)");
    rt_handle_release(NULL);
    return;
  }
  if (nh == MAX_H || nrt == 0)
    return;
  int rt = b / 4 % nrt;
  rt_handle_t *from = rts[rt].witness;
  if (nh > 0 && b % 4 == 3) { /* a clone of a clone */
    int i = b / 4 % nh;
    rt = handles[i].rt;
    from = handles[i].h;
  }
  /* rt_handle while the runtime runs; rt_handle_clone any time. */
  rt_handle_t *h = b % 4 == 1 && live(rt) ? rt_handle(rts[rt].rt) : rt_handle_clone(from);
  CHECK(h == rts[rt].witness, "a new handle reference is another pointer");
  handles[nh].h = h;
  handles[nh].rt = rt;
  nh++;
}

static void op_release_handle(void) {
  if (nh == 0)
    return;
  int i = u8() % nh;
  /* A guard holds its own reference: releasing ours under it is fine. */
  rt_handle_release(handles[i].h);
  handles[i] = handles[--nh];
}

static void op_spawn(void) {
  int rt;
  rt_handle_t *h = pick_handle(&rt);
  uint8_t b = u8();
  struct cell *c = new_cell(rt);
  if (c == NULL)
    return;
  bool null_fn = b % 8 == 0;
  c->rc = expect_spawn(rt, null_fn, true, rt_spawn(h, null_fn ? NULL : f_count_void, c));
}

static void op_spawn_full(bool after) {
  int rt;
  rt_handle_t *h = pick_handle(&rt);
  uint8_t b = u8();
  struct cell *c = new_cell(rt);
  if (c == NULL)
    return;
  bool null_fn = b % 16 == 0;
  c->has_drop = b & 16;
  bool want_task = (b & 32) && nt < MAX_T;
  rt_call_fn fn = null_fn ? NULL : call_fns[b / 64];
  rt_task_t *t = (rt_task_t *)(uintptr_t)0x5151;
  uint64_t delay = 0;
  int rc;
  if (after) {
    static const uint64_t delays[] = {0, 1, 100000, 2 * MS, 10 * MS, 3600000 * MS, UINT64_MAX};
    uint8_t d = u8();
    delay = d < 224 ? delays[d % 7] : u64();
    rc = rt_spawn_after(h, delay, fn, c, c->has_drop ? cell_drop : NULL, want_task ? &t : NULL);
  } else {
    rc = rt_spawn_full(h, fn, c, c->has_drop ? cell_drop : NULL, want_task ? &t : NULL);
  }
  c->rc = expect_spawn(rt, null_fn, !after /* timers ignore the capacity */, rc);
  if (want_task) {
    if (rc == RT_OK) {
      CHECK(t != NULL && t != (rt_task_t *)(uintptr_t)0x5151, "no task_out");
      tasks[nt].t = t;
      tasks[nt].c = c;
      tasks[nt].delay = delay;
      nt++;
    } else {
      CHECK(t == (rt_task_t *)(uintptr_t)0x5151, "task_out touched on failure");
    }
  }
}

static void op_block_on(void) {
  int rt;
  rt_handle_t *h = pick_handle(&rt);
  uint8_t b = u8();
  struct cell *c = new_cell(rt);
  if (c == NULL)
    return;
  bool null_fn = b % 8 == 0;
  void *res = (void *)(uintptr_t)0x77;
  int rc = rt_block_on(h, null_fn ? NULL : call_fns[b / 8 % 4], c, b & 64 ? &res : NULL);
  c->rc = expect_spawn(rt, null_fn, false, rc);
  if (rc == RT_OK) {
    CHECK(atomic_load(&c->ran) == 1, "block_on returned before fn ran");
    CHECK(!(b & 64) || res == c, "block_on result");
  } else {
    CHECK(res == (void *)(uintptr_t)0x77, "block_on result touched on failure");
  }
}

static void check_join(struct task *tk, int rc, void *res, bool has_res) {
  struct cell *c = tk->c;
  if (rc == RT_OK) {
    CHECK(atomic_load(&c->ran) == 1, "join RT_OK but fn did not run");
    CHECK(!has_res || res == c, "join result");
  } else if (rc == RT_ECANCELED) {
    CHECK(atomic_load(&c->ran) == 0, "join RT_ECANCELED but fn ran");
    CHECK(!c->has_drop || atomic_load(&c->dropped) == 1, "join RT_ECANCELED before the drop");
  } else {
    CHECK(rc == RT_ETIMEDOUT, "join gave %d", rc);
  }
}

static void op_task(void) {
  uint8_t b = u8();
  if (b % 16 == 0) {
    CHECK(rt_task_join(NULL, (int64_t)u64(), NULL) == RT_EINVAL, "join(NULL)");
    CHECK(rt_task_cancel(NULL) == RT_EINVAL, "cancel(NULL)");
    CHECK(!rt_task_is_finished(NULL), "is_finished(NULL)");
    rt_task_release(NULL);
    return;
  }
  if (nt == 0)
    return;
  int i = b / 16 % nt;
  struct task *tk = &tasks[i];
  switch (b % 4) {
  case 0: {
    /* Forever only where it ends: a task that is not a far timer. */
    static const int64_t timeouts[] = {0, 1, 1000, (int64_t)MS, -1, INT64_MIN, INT64_MAX};
    int64_t timeout = timeouts[u8() % 7];
    bool far = tk->delay > 10 * MS && live(tk->c->rt);
    if (far && (timeout < 0 || timeout > (int64_t)MS))
      timeout = 0;
    void *res = (void *)(uintptr_t)0x77;
    bool has_res = b & 64;
    int rc = rt_task_join(tk->t, timeout, has_res ? &res : NULL);
    check_join(tk, rc, res, has_res);
    CHECK(!(timeout < 0 && rc == RT_ETIMEDOUT), "join(-1) timed out");
    break;
  }
  case 1: {
    int rc = rt_task_cancel(tk->t);
    if (rc == RT_OK) {
      CHECK(atomic_load(&tk->c->ran) == 0, "cancelled but ran");
      CHECK(!tk->c->has_drop || atomic_load(&tk->c->dropped) == 1, "cancel before its drop");
      CHECK(rt_task_cancel(tk->t) == RT_EBUSY, "second cancel");
      CHECK(rt_task_join(tk->t, 0, NULL) == RT_ECANCELED, "join after cancel");
    } else {
      CHECK(rc == RT_EBUSY, "cancel gave %d", rc);
    }
    break;
  }
  case 2:
    if (rt_task_is_finished(tk->t)) {
      void *res = NULL;
      int rc = rt_task_join(tk->t, 0, &res);
      CHECK(rc != RT_ETIMEDOUT, "finished, yet join(0) timed out");
      check_join(tk, rc, res, true);
    }
    break;
  default:
    rt_task_release(tk->t);
    tasks[i] = tasks[--nt];
    break;
  }
}

static void *exit_elsewhere(void *g) { return (void *)(intptr_t)rt_exit(g); }

static void op_context(void) {
  uint8_t b = u8();
  switch (b % 6) {
  case 0:
  case 1: {
    int rt;
    rt_handle_t *h = pick_handle(&rt);
    if (ng == MAX_G)
      return;
    rt_guard_t *g = rt_enter(h);
    if (h == NULL) {
      CHECK(g == NULL, "rt_enter(NULL)");
      return;
    }
    CHECK(g != NULL, "rt_enter failed");
    guards[ng].g = g;
    guards[ng].h = h;
    ng++;
    CHECK(rt_handle_current() == h, "current is not the entered handle");
    break;
  }
  case 2: {
    /* Any guard, in any order: only the innermost may exit. */
    if (ng == 0) {
      CHECK(rt_exit(NULL) == RT_EINVAL, "rt_exit(NULL)");
      return;
    }
    int i = b / 6 % ng;
    int rc = rt_exit(guards[i].g);
    if (i == ng - 1) {
      CHECK(rc == RT_OK, "innermost exit gave %d", rc);
      ng--;
      CHECK(rt_handle_current() == (ng ? guards[ng - 1].h : NULL), "current after exit");
    } else {
      CHECK(rc == RT_EINVAL, "out-of-order exit gave %d", rc);
    }
    break;
  }
  case 3: {
    /* Pointers that are no guard at all: never dereferenced. */
    static char not_a_guard[64];
    CHECK(rt_exit((rt_guard_t *)(void *)not_a_guard) == RT_EINVAL, "bogus guard");
    CHECK(rt_exit((rt_guard_t *)(uintptr_t)(u64() | 1)) == RT_EINVAL, "bogus guard");
    break;
  }
  case 4:
    if (ng > 0) {
      pthread_t th;
      void *rc;
      CHECK(pthread_create(&th, NULL, exit_elsewhere, guards[ng - 1].g) == 0, "thread");
      pthread_join(th, &rc);
      CHECK((intptr_t)rc == RT_EINVAL, "exit on another thread gave %d", (int)(intptr_t)rc);
    }
    break;
  default:
    CHECK(rt_handle_current() == (ng ? guards[ng - 1].h : NULL), "current");
    break;
  }
}

static struct {
  rt_strand_t *s;
  int rt;
} strands[MAX_S];
static int ns;

static void op_strand(void) {
  uint8_t b = u8();
  if (b % 16 == 0) {
    CHECK(rt_strand_new(NULL) == NULL, "rt_strand_new(NULL)");
    CHECK(rt_strand_spawn(NULL, f_count_void, NULL) == RT_EINVAL, "rt_strand_spawn(NULL)");
    CHECK(rt_strand_spawn_full(NULL, f_count, NULL, NULL, NULL) == RT_EINVAL, "spawn_full(NULL)");
    CHECK(rt_strand_spawn_after(NULL, u64(), f_count, NULL, NULL, NULL) == RT_EINVAL, "after(NULL)");
    CHECK(rt_strand_block_on(NULL, f_count, NULL, NULL) == RT_EINVAL, "block_on(NULL)");
    CHECK(rt_strand_current() == NULL, "a current strand outside any job");
    rt_strand_release(NULL);
    return;
  }
  if (b % 8 == 1 || ns == 0) {
    int rt;
    rt_handle_t *h = pick_handle(&rt);
    if (ns == MAX_S)
      return;
    rt_strand_t *s = rt_strand_new(h);
    CHECK((s != NULL) == (rt >= 0 && live(rt)), "rt_strand_new gave %p", (void *)s);
    if (s != NULL) {
      strands[ns].s = s;
      strands[ns].rt = rt;
      ns++;
    }
    return;
  }
  int i = b / 8 % ns;
  rt_strand_t *s = strands[i].s;
  int rt = strands[i].rt;
  if (b % 8 == 2) {
    rt_strand_release(s); /* its accepted jobs still run */
    strands[i] = strands[--ns];
    return;
  }
  struct cell *c = new_cell(rt);
  if (c == NULL)
    return;
  bool null_fn = u8() % 16 == 0;
  uint8_t k = u8();
  switch (k % 4) {
  case 0:
    c->rc = expect_spawn(rt, null_fn, true, rt_strand_spawn(s, null_fn ? NULL : f_count_void, c));
    break;
  case 1: {
    c->rc = expect_spawn(rt, null_fn, false,
                         rt_strand_block_on(s, null_fn ? NULL : call_fns[k / 4 % 4], c, NULL));
    if (c->rc == RT_OK)
      CHECK(atomic_load(&c->ran) == 1, "strand block_on returned before fn ran");
    break;
  }
  default: {
    c->has_drop = k & 8;
    bool want_task = (k & 16) && nt < MAX_T;
    rt_call_fn fn = null_fn ? NULL : (k & 32) ? f_strand_self : call_fns[k / 64];
    rt_task_t *t = NULL;
    uint64_t delay = k % 4 == 3 ? (uint64_t[]){0, 1, 100000, 2 * MS, 3600000 * MS}[u8() % 5] : 0;
    int rc = k % 4 == 2
                 ? rt_strand_spawn_full(s, fn, c, c->has_drop ? cell_drop : NULL, want_task ? &t : NULL)
                 : rt_strand_spawn_after(s, delay, fn, c, c->has_drop ? cell_drop : NULL,
                                         want_task ? &t : NULL);
    c->rc = expect_spawn(rt, null_fn, k % 4 == 2, rc);
    if (want_task && rc == RT_OK) {
      CHECK(t != NULL, "no task_out");
      tasks[nt].t = t;
      tasks[nt].c = c;
      tasks[nt].delay = delay;
      nt++;
    } else {
      CHECK(t == NULL, "task_out set on failure");
    }
    break;
  }
  }
}

/* Per runtime: rt_apply calls that began (each may post up to workers - 1
 * helper jobs, which count in the stats like tasks). */
static uint64_t applies[MAX_RT];

static void apply_count(void *ctx, size_t i) {
  atomic_fetch_add_explicit(&((atomic_uchar *)ctx)[i], 1, memory_order_relaxed);
}

static void op_apply(void) {
  int rt;
  rt_handle_t *h = pick_handle(&rt);
  static atomic_uchar hits[4096];
  size_t n = (size_t)u8() * 16 % 4097;
  bool null_fn = u8() % 16 == 0;
  for (size_t i = 0; i < n; i++)
    atomic_store(&hits[i], 0);
  if (h != NULL && !null_fn && n > 0)
    applies[rt]++;
  int rc = rt_apply(h, n, null_fn ? NULL : apply_count, hits);
  if (h == NULL || null_fn)
    CHECK(rc == RT_EINVAL, "rt_apply with NULL gave %d", rc);
  else if (n == 0)
    CHECK(rc == RT_OK, "rt_apply(0) gave %d", rc);
  else
    CHECK(rc == (live(rt) ? RT_OK : RT_ESHUTDOWN), "rt_apply gave %d", rc);
  for (size_t i = 0; i < n; i++)
    CHECK(atomic_load(&hits[i]) == (rc == RT_OK), "rt_apply index %zu ran %d times", i,
          (int)atomic_load(&hits[i]));
}

static struct {
  rt_group_t *g;
  int rt;
} groups[2];
static int ngroups;

static void op_group(void) {
  uint8_t b = u8();
  if (b % 16 == 0) {
    CHECK(rt_group_new(NULL) == NULL, "rt_group_new(NULL)");
    CHECK(rt_group_spawn(NULL, f_count, NULL, NULL) == RT_EINVAL, "rt_group_spawn(NULL)");
    CHECK(rt_group_wait(NULL, 0) == RT_EINVAL, "rt_group_wait(NULL)");
    CHECK(rt_group_cancel(NULL) == RT_EINVAL, "rt_group_cancel(NULL)");
    CHECK(rt_group_pending(NULL) == 0, "rt_group_pending(NULL)");
    rt_group_release(NULL);
    return;
  }
  if (b % 8 == 1 || ngroups == 0) {
    int rt;
    rt_handle_t *h = pick_handle(&rt);
    if (ngroups == 2)
      return;
    rt_group_t *g = rt_group_new(h);
    CHECK((g != NULL) == (rt >= 0 && live(rt)), "rt_group_new gave %p", (void *)g);
    if (g != NULL) {
      groups[ngroups].g = g;
      groups[ngroups].rt = rt;
      ngroups++;
    }
    return;
  }
  int i = b / 8 % ngroups;
  rt_group_t *g = groups[i].g;
  int rt = groups[i].rt;
  switch (b % 8) {
  case 2:
    rt_group_release(g);
    groups[i] = groups[--ngroups];
    break;
  case 3: case 4: {
    struct cell *c = new_cell(rt);
    if (c == NULL)
      return;
    bool null_fn = u8() % 16 == 0;
    c->has_drop = u8() % 2;
    rt_call_fn fn = null_fn ? NULL : call_fns[u8() % 4];
    int rc;
    if (b % 8 == 4 && ns > 0) {
      int k = u8() % ns;
      rc = rt_group_strand_spawn(g, strands[k].s, fn, c, c->has_drop ? cell_drop : NULL);
      if (strands[k].rt != rt && !null_fn) {
        CHECK(rc == RT_EINVAL, "a strand of another runtime gave %d", rc);
        c->rc = rc;
        c->rt = -1;
        return;
      }
    } else {
      rc = rt_group_spawn(g, fn, c, c->has_drop ? cell_drop : NULL);
    }
    c->rc = expect_spawn(rt, null_fn, true, rc);
    break;
  }
  case 5: {
    static const int64_t timeouts[] = {0, 1000, (int64_t)MS, -1};
    int64_t timeout = timeouts[u8() % 4];
    int rc = rt_group_wait(g, timeout);
    CHECK(rc == RT_OK || (rc == RT_ETIMEDOUT && timeout >= 0), "rt_group_wait gave %d", rc);
    if (!live(rt) && !rts[rt].background)
      CHECK(rc == RT_OK && rt_group_pending(g) == 0, "a group of a shut-down runtime is not empty");
    break;
  }
  case 6:
    CHECK(rt_group_cancel(g) >= 0, "rt_group_cancel failed");
    break;
  default:
    (void)rt_group_pending(g);
    break;
  }
}

static void op_stats(void) {
  int rt;
  rt_handle_t *h = pick_handle(&rt);
  union {
    rt_stats_t s;
    unsigned char bytes[sizeof(rt_stats_t) + 16];
  } u;
  memset(&u, 0xA5, sizeof u);
  uint64_t size = pick_size();
  if (u8() % 2)
    size = sizeof(rt_stats_t) - u8() % 16;
  u.s.size = (size_t)size;
  bool null_out = u8() % 8 == 0;
  int rc = rt_stats_get(h, null_out ? NULL : &u.s);
  bool good = h != NULL && !null_out && size >= sizeof(size_t) && size <= sizeof(rt_stats_t);
  CHECK(rc == (good ? RT_OK : RT_EINVAL), "rt_stats_get(size %" PRIu64 ") gave %d", size, rc);
  size_t from = good ? (size_t)size : sizeof(size_t);
  for (size_t i = from; i < sizeof u.bytes; i++)
    CHECK(u.bytes[i] == 0xA5, "rt_stats_get wrote past size %" PRIu64, size);
  if (good && size == sizeof(rt_stats_t))
    CHECK(u.s.shutdown == !live(rt), "stats.shutdown %d", u.s.shutdown);
}

static void op_callback_new(void) {
  int rt;
  rt_handle_t *h = pick_handle(&rt);
  uint8_t b = u8();
  uint32_t mode = b % 8 < 6 ? b % 2 : u8();
  uint32_t ret = u8() % 24;
  uint64_t nargs = u8() % 4 == 0 ? pick_size() : u8() % 4;
  rt_type_t types[40];
  for (int i = 0; i < 40; i++)
    types[i] = (rt_type_t)(u8() % 20);
  bool null_types = u8() % 8 == 0;
  bool null_handler = u8() % 16 == 0, null_code = u8() % 16 == 0;
  enum sig sig = SIG_NONE;
  /* Some of the time, a signature the decoder can call. */
  switch (u8() % 6) {
  case 0: mode = RT_CALLBACK_POST; ret = RT_TYPE_VOID; nargs = 0; sig = SIG_POST_VOID; break;
  case 1: mode = RT_CALLBACK_POST; ret = RT_TYPE_VOID; nargs = 1; types[0] = RT_TYPE_INT;
    sig = SIG_POST_INT; break;
  case 2: mode = RT_CALLBACK_WAIT; ret = RT_TYPE_INT; nargs = 2; types[0] = types[1] = RT_TYPE_INT;
    sig = SIG_WAIT_INT_INT; break;
  case 3: mode = RT_CALLBACK_WAIT; ret = RT_TYPE_DOUBLE; nargs = 2; types[0] = RT_TYPE_DOUBLE;
    types[1] = RT_TYPE_INT8; sig = SIG_WAIT_DBL; break;
  default: break;
  }
  bool good = h != NULL && !null_handler && !null_code && mode <= 1 && ret <= RT_TYPE_POINTER &&
              nargs <= RT_CALLBACK_MAX_ARGS && (nargs == 0 || !null_types) &&
              (mode == RT_CALLBACK_WAIT || ret == RT_TYPE_VOID);
  for (uint64_t i = 0; good && i < nargs; i++)
    good = types[i] != RT_TYPE_VOID && types[i] <= RT_TYPE_POINTER;
  void *code = (void *)(uintptr_t)0x99;
  rt_callback_t *cb = rt_callback_new(h, (rt_callback_mode_t)mode, (rt_type_t)ret,
                                      null_types ? NULL : types, (size_t)nargs,
                                      null_handler ? NULL : cb_handler,
                                      (void *)(intptr_t)(sig | rt << 8),
                                      null_code ? NULL : &code);
  if (!good) {
    CHECK(cb == NULL, "rt_callback_new accepted a bad signature (mode %u ret %u nargs %" PRIu64
                      ")", mode, ret, nargs);
    CHECK(code == (void *)(uintptr_t)0x99, "code_out touched on failure");
    return;
  }
  CHECK(cb != NULL && code != NULL && code != (void *)(uintptr_t)0x99, "rt_callback_new failed");
  if (ncb == MAX_CB) {
    rt_callback_free(cb);
    return;
  }
  cbs[ncb].cb = cb;
  cbs[ncb].code = code;
  cbs[ncb].sig = sig;
  cbs[ncb].rt = rt;
  ncb++;
}

static void op_callback_call(void) {
  if (ncb == 0)
    return;
  uint8_t b = u8();
  struct callback *c = &cbs[b % ncb];
  if (c->sig != SIG_POST_INT && c->sig != SIG_NONE && c->rt >= 0)
    atomic_fetch_add(&tramp_calls[c->rt], 1);
  switch (c->sig) {
  case SIG_POST_VOID:
    ((void (*)(void))c->code)();
    break;
  case SIG_POST_INT: {
    struct cell *cell = new_cell(c->rt);
    if (cell == NULL)
      return;
    cell->post = true;
    ((void (*)(int))c->code)((int)(cell - cells));
    break;
  }
  case SIG_WAIT_INT_INT: {
    int x = (int)(u8() % 100), y = (int)(u8() % 100);
    int got = ((int (*)(int, int))c->code)(x, y);
    CHECK(got == (live(c->rt) ? x * 3 + y : 0), "WAIT call gave %d for %d, %d", got, x, y);
    break;
  }
  case SIG_WAIT_DBL: {
    int8_t y = (int8_t)u8();
    double got = ((double (*)(double, int8_t))c->code)(1.5, y);
    CHECK(got == (live(c->rt) ? 1.5 + y : 0.0), "WAIT double call gave %f", got);
    break;
  }
  default:
    break;
  }
}

static void op_callback_free(void) {
  uint8_t b = u8();
  if (b % 8 == 0 || ncb == 0) {
    rt_callback_free(NULL);
    return;
  }
  int i = b / 8 % ncb;
  rt_callback_free(cbs[i].cb);
  cbs[i] = cbs[--ncb];
}

/* rt_spawn_blocking: NULL handle or fn, a drop, a join handle (joined,
 * cancelled and released later by op_task), or cancelled at once. */
static void op_blocking(void) {
  int rt;
  rt_handle_t *h = pick_handle(&rt);
  uint8_t b = u8();
  struct cell *c = new_cell(rt);
  if (c == NULL)
    return;
  bool null_fn = b % 16 == 0;
  c->has_drop = b & 16;
  c->blocking = true;
  bool want_task = (b & 32) && nt < MAX_T;
  rt_call_fn fn = null_fn ? NULL : blocking_fns[u8() % 8];
  rt_task_t *t = (rt_task_t *)(uintptr_t)0x5151;
  int rc = rt_spawn_blocking(h, fn, c, c->has_drop ? cell_drop : NULL, want_task ? &t : NULL);
  c->rc = expect_spawn(rt, null_fn, true, rc);
  if (!want_task)
    return;
  if (rc != RT_OK) {
    CHECK(t == (rt_task_t *)(uintptr_t)0x5151, "task_out touched on failure");
    return;
  }
  CHECK(t != NULL && t != (rt_task_t *)(uintptr_t)0x5151, "no task_out");
  if (b & 64) {
    int crc = rt_task_cancel(t);
    if (crc == RT_OK) {
      CHECK(atomic_load(&c->ran) == 0, "cancelled blocking job ran");
      CHECK(!c->has_drop || atomic_load(&c->dropped) == 1, "cancel before its drop");
    } else {
      CHECK(crc == RT_EBUSY, "cancel of a blocking job gave %d", crc);
    }
  }
  tasks[nt].t = t;
  tasks[nt].c = c;
  tasks[nt].delay = 0;
  nt++;
}

/* Regions off the runtime (entered or not): refused, nothing opened. */
static void op_region(void) {
  uint8_t b = u8();
  if (b % 2)
    CHECK(rt_blocking_begin() == RT_EINVAL, "rt_blocking_begin off the runtime");
  CHECK(rt_blocking_end() == RT_EINVAL, "rt_blocking_end off the runtime");
  if (b % 4 == 0)
    CHECK(rt_blocking_end() == RT_EINVAL, "a second rt_blocking_end off the runtime");
}

/* ------------------------------------------------------------------------ */
/* Signal slots and second releases                                          */
/* ------------------------------------------------------------------------ */

/* A slot's ledger (see test-stress-api.c): posts take tickets, a run
 * notes the tickets taken when it starts, the drop comes once. */
enum { SLOTS = 32, LIVE_SLOTS = 4, HOLDS = 256 };
struct sslot {
  rt_signal_slot_t *slot;
  int rt;
  bool freed, freed_live; /* freed while its runtime still ran: owes no run */
  uint64_t last_ok;
  atomic_uint_least64_t tickets, seen, runs;
  atomic_int in_run, dropped, gate; /* gate: a held run waits for it */
  atomic_int held, started;
};
static struct sslot sslots[SLOTS];
static int nsslots;            /* made in this input */
static int live_slots[LIVE_SLOTS]; /* indices of those not yet freed */
static int nlive_slots;

static void sslot_run(void *p) {
  struct sslot *s = p;
  CHECK(atomic_fetch_add(&s->in_run, 1) == 0, "slot %td: two runs at once", s - sslots);
  CHECK(atomic_load(&s->dropped) == 0, "slot %td: a run after its drop", s - sslots);
  atomic_store(&s->seen, atomic_load(&s->tickets));
  atomic_store(&s->started, 1);
  if (atomic_load(&s->held))
    while (!atomic_load(&s->gate))
      sched_yield();
  atomic_fetch_add(&s->runs, 1);
  atomic_fetch_sub(&s->in_run, 1);
}

static void sslot_drop(void *p) {
  struct sslot *s = p;
  CHECK(atomic_fetch_add(&s->dropped, 1) == 0, "slot %td dropped twice", s - sslots);
  CHECK(atomic_load(&s->in_run) == 0, "slot %td dropped during a run", s - sslots);
}

static int sslot_post(struct sslot *s) {
  uint64_t ticket = atomic_fetch_add(&s->tickets, 1) + 1;
  int rc = rt_signal_slot_post(s->slot);
  CHECK(rc == (live(s->rt) ? RT_OK : RT_ESHUTDOWN), "rt_signal_slot_post gave %d", rc);
  if (rc == RT_OK)
    s->last_ok = ticket;
  return rc;
}

static void sslot_free(int k) {
  struct sslot *s = &sslots[live_slots[k]];
  s->freed = true;
  s->freed_live = live(s->rt);
  rt_signal_slot_free(s->slot);
  live_slots[k] = live_slots[--nlive_slots];
}

/* New (NULL handle or fn refused), posts (several, coalescing), free
 * (with runs queued), free twice while a held run keeps the slot, NULL. */
static void op_signal_slot(void) {
  uint8_t b = u8();
  if (b % 8 == 0) {
    CHECK(rt_signal_slot_post(NULL) == RT_EINVAL, "rt_signal_slot_post(NULL)");
    CHECK(rt_signal_slot_new(NULL, sslot_run, NULL, sslot_drop) == NULL, "rt_signal_slot_new(NULL)");
    rt_signal_slot_free(NULL);
    return;
  }
  if (b % 8 == 1 || nlive_slots == 0) {
    int rt;
    rt_handle_t *h = pick_handle(&rt);
    if (nsslots == SLOTS || nlive_slots == LIVE_SLOTS)
      return;
    struct sslot *s = &sslots[nsslots];
    memset(s, 0, sizeof *s);
    s->rt = rt;
    bool null_fn = u8() % 16 == 0;
    s->slot = rt_signal_slot_new(h, null_fn ? NULL : sslot_run, s, sslot_drop);
    CHECK((s->slot != NULL) == (rt >= 0 && live(rt) && !null_fn), "rt_signal_slot_new gave %p",
          (void *)s->slot);
    if (s->slot != NULL) {
      live_slots[nlive_slots++] = nsslots;
      nsslots++;
    }
    return;
  }
  int k = b / 8 % nlive_slots;
  struct sslot *s = &sslots[live_slots[k]];
  switch (b % 8) {
  case 2:
    sslot_free(k);
    break;
  case 3:
    /* Held: the run waits for the gate, so the slot is the worker's
     * while it is freed twice (the second is a no-op). */
    if (!live(s->rt) || atomic_load(&s->tickets) > 0)
      break;
    atomic_store(&s->held, 1);
    if (sslot_post(s) == RT_OK) {
      while (!atomic_load(&s->started))
        sched_yield();
      sslot_free(k);
      rt_signal_slot_free(s->slot);
    }
    atomic_store(&s->gate, 1);
    break;
  default:
    for (int n = 1 + u8() % 3; n > 0; n--)
      sslot_post(s);
    break;
  }
}

/* A job held (it waits for its `open`) while the object that runs it is
 * released twice: a join handle, a strand, a group; or a POST trampoline
 * freed twice on a worker with its call queued. */
struct hold {
  atomic_int open;
  struct cell *c;
  struct cell *outer; /* the block_on that frees a trampoline twice */
};
static struct hold holds[HOLDS];
static int nholds;

static void hold_wait(struct hold *h) {
  while (!atomic_load(&h->open))
    sched_yield();
}
static void *f_held(void *p) {
  struct hold *h = p;
  hold_wait(h);
  mark_ran(h->c);
  return h->c;
}
static void held_drop(void *p) {
  struct hold *h = p;
  hold_wait(h);
  cell_drop(h->c);
}
static void held_handler(void *result, void **args, void *user) {
  (void)result;
  (void)args;
  struct hold *h = user;
  hold_wait(h);
  mark_ran(h->c);
}

/* On a worker (rt_block_on): a free there returns at once. */
static void *f_free_callback_twice(void *p) {
  struct hold *h = p;
  mark_ran(h->outer);
  void *code = NULL;
  rt_callback_t *cb =
      rt_callback_new(rt_handle_current(), RT_CALLBACK_POST, RT_TYPE_VOID, NULL, 0, held_handler, h, &code);
  CHECK(cb != NULL, "rt_callback_new on a worker");
  ((void (*)(void))code)();
  rt_callback_free(cb);
  rt_callback_free(cb); /* a no-op: the queued call holds the trampoline */
  atomic_store(&h->open, 1);
  return NULL;
}

static void op_release_twice(void) {
  int rt;
  rt_handle_t *h = pick_handle(&rt);
  uint8_t b = u8();
  if (h == NULL || !live(rt) || nholds == HOLDS)
    return;
  struct hold *hd = &holds[nholds++];
  atomic_store(&hd->open, 0);
  hd->c = new_cell(rt);
  if (hd->c == NULL)
    return;
  hd->c->has_drop = b % 4 != 3;
  int rc;
  switch (b % 4) {
  case 0: {
    rt_task_t *t = NULL;
    rc = rt_spawn_full(h, f_held, hd, held_drop, &t);
    hd->c->rc = expect_spawn(rt, false, true, rc);
    if (rc == RT_OK) {
      rt_task_release(t);
      rt_task_release(t);
    }
    break;
  }
  case 1: {
    rt_strand_t *s = rt_strand_new(h);
    CHECK(s != NULL, "rt_strand_new on a live runtime");
    rc = rt_strand_spawn_full(s, f_held, hd, held_drop, NULL);
    hd->c->rc = expect_spawn(rt, false, true, rc);
    rt_strand_release(s);
    if (rc == RT_OK)
      rt_strand_release(s);
    break;
  }
  case 2: {
    rt_group_t *g = rt_group_new(h);
    CHECK(g != NULL, "rt_group_new on a live runtime");
    rc = rt_group_spawn(g, f_held, hd, held_drop);
    hd->c->rc = expect_spawn(rt, false, true, rc);
    rt_group_release(g);
    if (rc == RT_OK)
      rt_group_release(g);
    break;
  }
  default: {
    /* The cell is the POST call's; the block_on's own is another. */
    hd->c->post = true;
    struct cell *outer = new_cell(rt);
    if (outer == NULL) {
      atomic_store(&hd->open, 1);
      return;
    }
    hd->outer = outer;
    outer->rc = expect_spawn(rt, false, false, rt_block_on(h, f_free_callback_twice, hd, NULL));
    break;
  }
  }
  atomic_store(&hd->open, 1);
}

static void op_misc(void) {
  uint8_t b = u8();
  CHECK(rt_strerror((int)(int32_t)u64()) != NULL, "rt_strerror");
  CHECK(rt_version() == RTCTX_VERSION, "rt_version");
  CHECK(rt_version_string() != NULL, "rt_version_string");
  if (b % 2)
    rt_config_init(NULL);
}

/* ------------------------------------------------------------------------ */
/* One input                                                                 */
/* ------------------------------------------------------------------------ */

/* Loops, owned by the fuzzing thread: posts of every shape, runs, stops,
 * block_on (inline on the owner), frees with jobs pending; and
 * rt_spawn_then with a completion on a loop, a strand or any worker. */
enum { MAX_L = 3 };
static struct {
  rt_loop_t *l;
  int rt;
} loops[MAX_L];
static int nl;

static void then_count(void *p, int status, void *result) {
  (void)result;
  CHECK(status == RT_OK || status == RT_ECANCELED, "completion status %d", status);
  mark_ran(p);
}

static void op_loop(void) {
  uint8_t b = u8();
  if (b % 16 == 0) {
    CHECK(rt_loop_new(NULL) == NULL, "rt_loop_new(NULL)");
    CHECK(rt_loop_free(NULL) == RT_EINVAL && rt_loop_fd(NULL) == RT_EINVAL, "free/fd(NULL)");
    CHECK(rt_loop_spawn(NULL, f_count_void, NULL) == RT_EINVAL, "rt_loop_spawn(NULL)");
    CHECK(rt_loop_spawn_full(NULL, f_count, NULL, NULL, NULL) == RT_EINVAL, "spawn_full(NULL)");
    CHECK(rt_loop_spawn_after(NULL, u64(), f_count, NULL, NULL, NULL) == RT_EINVAL, "after(NULL)");
    CHECK(rt_loop_block_on(NULL, f_count, NULL, NULL) == RT_EINVAL, "block_on(NULL)");
    CHECK(rt_loop_run_pending(NULL, (size_t)pick_size()) == RT_EINVAL, "run_pending(NULL)");
    CHECK(rt_loop_run(NULL, 0) == RT_EINVAL && rt_loop_stop(NULL) == RT_EINVAL, "run/stop(NULL)");
    CHECK(rt_loop_current() == NULL, "a current loop outside any job");
    return;
  }
  if (b % 16 == 1) { /* rt_spawn_then */
    int rt;
    rt_handle_t *h = pick_handle(&rt);
    struct cell *c = new_cell(rt), *done = new_cell(rt);
    if (c == NULL || done == NULL)
      return;
    c->has_drop = b & 16;
    done->has_drop = true;
    done->completion = true;
    uint8_t t = u8();
    rt_completion_t comp = {t % 5 == 0 ? 0 : sizeof comp, then_count, done, NULL, NULL, cell_drop};
    if (t % 5 == 1 && nl > 0) comp.loop = loops[t / 5 % nl].l;
    if (t % 5 == 2 && ns > 0) comp.strand = strands[t / 5 % ns].s;
    bool foreign = (comp.loop != NULL && loops[t / 5 % nl].rt != rt) ||
                   (comp.strand != NULL && strands[t / 5 % ns].rt != rt);
    int rc = rt_spawn_then(h, f_count, c, c->has_drop ? cell_drop : NULL, &comp, NULL);
    if (comp.size == 0 || foreign)
      CHECK(rc == RT_EINVAL, "rt_spawn_then with a bad completion gave %d", rc);
    else
      expect_spawn(rt, false, true, rc);
    c->rc = done->rc = rc;
    return;
  }
  if (b % 16 == 2 || nl == 0) {
    int rt;
    rt_handle_t *h = pick_handle(&rt);
    if (nl == MAX_L)
      return;
    rt_loop_t *l = rt_loop_new(h);
    CHECK((l != NULL) == (rt >= 0 && live(rt)), "rt_loop_new gave %p", (void *)l);
    if (l != NULL) {
      CHECK(rt_loop_fd(l) >= 0, "rt_loop_fd");
      loops[nl].l = l;
      loops[nl].rt = rt;
      nl++;
    }
    return;
  }
  int i = b / 16 % nl;
  rt_loop_t *l = loops[i].l;
  int rt = loops[i].rt;
  switch (b % 16) {
  case 3: /* pending jobs are dropped here, once */
    CHECK(rt_loop_free(l) == RT_OK, "rt_loop_free");
    loops[i] = loops[--nl];
    return;
  case 4: case 5: {
    int rc = rt_loop_run_pending(l, (size_t)pick_size());
    CHECK(rc >= 0, "rt_loop_run_pending gave %d", rc);
    return;
  }
  case 6: {
    int rc = rt_loop_run(l, u8() % 2 ? 0 : 100000);
    CHECK(rc >= 0 || rc == RT_ETIMEDOUT, "rt_loop_run gave %d", rc);
    return;
  }
  case 7:
    CHECK(rt_loop_stop(l) == RT_OK, "rt_loop_stop");
    return;
  default:
    break;
  }
  struct cell *c = new_cell(rt);
  if (c == NULL)
    return;
  bool null_fn = u8() % 16 == 0;
  int rc;
  switch (b % 16) {
  case 8: case 9:
    rc = rt_loop_spawn(l, null_fn ? NULL : f_count_void, c);
    c->rc = expect_spawn(rt, null_fn, true, rc);
    break;
  case 10: case 11: case 12:
    c->has_drop = b & 16;
    rc = rt_loop_spawn_full(l, null_fn ? NULL : f_count, c, c->has_drop ? cell_drop : NULL, NULL);
    c->rc = expect_spawn(rt, null_fn, true, rc);
    break;
  case 13: case 14: {
    static const uint64_t delays[] = {0, 1, 100000, 2 * MS, 3600000 * MS, UINT64_MAX};
    c->has_drop = b & 16;
    rc = rt_loop_spawn_after(l, delays[u8() % 6], null_fn ? NULL : f_count, c,
                             c->has_drop ? cell_drop : NULL, NULL);
    c->rc = expect_spawn(rt, null_fn, false, rc);
    break;
  }
  default: { /* on the owner: inline, not counted */
    void *res = NULL;
    rc = rt_loop_block_on(l, null_fn ? NULL : f_count, c, &res);
    c->inline_run = !null_fn;
    c->rc = rc;
    CHECK(null_fn ? rc == RT_EINVAL : (rc == RT_OK && res == c), "rt_loop_block_on on the owner gave %d", rc);
    if (null_fn)
      c->rt = -1, c->rc = RT_EINVAL; /* counted as a bad call */
    break;
  }
  }
}

/* Repeating timers: each firing is a task of its runtime that the cell
 * ledger does not know, so the ledger's upper bounds allow one per start
 * and one per firing (each schedules at most one); a timer's drop runs
 * once, checked when the input ends. */
enum { MAX_TM = 4, TSLOTS = 16 };
static struct tslot {
  int rt;
  atomic_int drops;
  atomic_int inside;
} tslots[TSLOTS];
static int ntslots;
static struct {
  rt_timer_t *t;
  struct tslot *slot;
} tms[MAX_TM];
static int ntm;
static atomic_uint_least64_t timer_bound[MAX_RT];

static void fuzz_tick(void *arg) {
  struct tslot *slot = arg;
  CHECK(atomic_fetch_add(&slot->inside, 1) == 0, "a timer's callback ran concurrently with itself");
  atomic_fetch_add(&timer_bound[slot->rt], 1);
  atomic_fetch_sub(&slot->inside, 1);
}

static void fuzz_tick_drop(void *arg) {
  struct tslot *slot = arg;
  CHECK(atomic_load(&slot->inside) == 0, "a timer's drop ran during its callback");
  atomic_fetch_add(&slot->drops, 1);
}

static void op_timer(void) {
  uint8_t b = u8();
  if (b % 16 == 0) {
    CHECK(rt_timer_new(NULL, fuzz_tick, NULL, NULL) == NULL, "rt_timer_new(NULL)");
    CHECK(rt_timer_start(NULL, 0, 0) == RT_EINVAL && rt_timer_again(NULL) == RT_EINVAL &&
              rt_timer_stop(NULL) == RT_EINVAL,
          "rt_timer_* on NULL");
    uint64_t ns;
    CHECK(rt_timer_due_in(NULL, &ns) == RT_EINVAL && rt_timer_get_info(NULL, NULL) == RT_EINVAL,
          "rt_timer_due_in, rt_timer_get_info on NULL");
    rt_timer_free(NULL);
    return;
  }
  if (ntm == 0 || (b % 8 == 1 && ntm < MAX_TM)) {
    if (ntm >= MAX_TM || ntslots >= TSLOTS)
      return;
    int rt;
    rt_handle_t *h = pick_handle(&rt);
    struct tslot *slot = &tslots[ntslots];
    slot->rt = rt;
    atomic_store(&slot->drops, 0);
    atomic_store(&slot->inside, 0);
    rt_timer_t *t = rt_timer_new(h, b % 32 == 3 ? NULL : fuzz_tick, slot, fuzz_tick_drop);
    if (rt < 0 || b % 32 == 3 || !live(rt)) {
      CHECK(t == NULL, "rt_timer_new with a NULL handle or fn, or after shutdown");
      return;
    }
    CHECK(t != NULL, "rt_timer_new");
    ntslots++;
    tms[ntm].t = t;
    tms[ntm].slot = slot;
    ntm++;
    return;
  }
  int i = b / 8 % ntm;
  rt_timer_t *t = tms[i].t;
  int rt = tms[i].slot->rt;
  static const uint64_t ns_edges[] = {0, 1, 1000, 100000, MS, 3600000 * MS, UINT64_MAX};
  switch (b % 8) {
  case 0:
  case 2: {
    uint64_t first = ns_edges[u8() % 7], period = ns_edges[u8() % 7];
    atomic_fetch_add(&timer_bound[rt], 1);
    int rc = rt_timer_start(t, first, period);
    CHECK(rc == RT_OK || (!live(rt) && rc == RT_ESHUTDOWN), "rt_timer_start gave %d", rc);
    break;
  }
  case 3: {
    atomic_fetch_add(&timer_bound[rt], 1);
    rt_timer_info_t info;
    info.size = sizeof info;
    CHECK(rt_timer_get_info(t, &info) == RT_OK, "rt_timer_get_info");
    int rc = rt_timer_again(t);
    CHECK(rc == RT_OK || rc == RT_EINVAL || rc == RT_ESHUTDOWN, "rt_timer_again gave %d", rc);
    if (rc == RT_EINVAL)
      CHECK(info.period_ns == 0, "rt_timer_again refused a timer with a period");
    break;
  }
  case 4: {
    int rc = rt_timer_stop(t);
    CHECK(rc == RT_OK || rc == RT_EBUSY, "rt_timer_stop gave %d", rc);
    break;
  }
  case 5: {
    uint64_t ns;
    int rc = rt_timer_due_in(t, &ns);
    CHECK(rc == RT_OK || (rc == RT_ECANCELED && ns == 0), "rt_timer_due_in gave %d", rc);
    break;
  }
  case 6: {
    rt_timer_info_t info;
    info.size = u8() % 2 ? sizeof info : (size_t)pick_size();
    int rc = rt_timer_get_info(t, &info);
    CHECK(rc == RT_OK || rc == RT_EINVAL, "rt_timer_get_info gave %d", rc);
    break;
  }
  default:
    rt_timer_free(t);
    tms[i] = tms[--ntm];
    break;
  }
}

/* rt_shutdown_background: returns at once; finish() waits for the
 * runtime's threads before it reads the ledger. */
static void op_shutdown_background(void) {
  uint8_t b = u8();
  if (b % 8 == 0) {
    CHECK(rt_shutdown_background(NULL) == RT_EINVAL, "rt_shutdown_background(NULL)");
    return;
  }
  if (nrt == 0)
    return;
  int i = b / 8 % nrt;
  if (!live(i)) {
    CHECK(rt_shutdown_background((rt_runtime_t *)rts[i].witness) == RT_EINVAL,
          "rt_shutdown_background after a shutdown");
    return;
  }
  int rc = rt_shutdown_background(rts[i].rt);
  CHECK(rc == RT_OK, "rt_shutdown_background gave %d", rc);
  rts[i].rt = NULL;
  rts[i].background = true;
}

/* This process's threads, from /proc/self/task. */
static int thread_count(void) {
  DIR *d = opendir("/proc/self/task");
  if (d == NULL)
    return -1;
  int n = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;)
    n += e->d_name[0] != '.';
  closedir(d);
  return n;
}
static int threads_before; /* at the start of the input, no runtime yet */

/* A background shutdown's threads end on their own: wait for them, the
 * reaper included (it lets go of the runtime last). */
static void wait_background(int i) {
  for (int round = 0; round < 200000; round++) {
    rt_stats_t s;
    memset(&s, 0, sizeof s);
    s.size = sizeof s;
    CHECK(rt_stats_get(rts[i].witness, &s) == RT_OK, "stats");
    if (s.spawned == s.completed + s.dropped && s.queued == 0 && s.timers == 0 &&
        s.blocking_threads == 0 && atomic_load(&hook_stops) == atomic_load(&hook_starts) &&
        thread_count() <= threads_before)
      return;
    nanosleep(&(struct timespec){0, 100000}, NULL);
  }
  CHECK(false, "a background shutdown's threads did not end");
}

static void finish(void) {
  while (ng > 0)
    CHECK(rt_exit(guards[--ng].g) == RT_OK, "exit in order at the end");
  while (ncb > 0)
    rt_callback_free(cbs[--ncb].cb);
  for (int i = 0; i < nrt; i++) {
    if (live(i)) {
      CHECK(rt_shutdown(rts[i].rt) == RT_OK, "final rt_shutdown");
      rts[i].rt = NULL;
    }
  }
  for (int i = 0; i < nrt; i++)
    if (rts[i].background)
      wait_background(i);
  while (ntm > 0) {
    rt_timer_free(tms[--ntm].t);
  }
  for (int i = 0; i < ntslots; i++)
    CHECK(atomic_load(&tslots[i].drops) == 1, "timer %d dropped %d times", i,
          atomic_load(&tslots[i].drops));
  while (nlive_slots > 0)
    sslot_free(nlive_slots - 1);
  uint64_t slot_runs[MAX_RT] = {0}, slot_posts[MAX_RT] = {0};
  for (int i = 0; i < nsslots; i++) {
    struct sslot *s = &sslots[i];
    uint64_t r = atomic_load(&s->runs), t = atomic_load(&s->tickets);
    CHECK(atomic_load(&s->dropped) == 1, "slot %d dropped %d times", i, atomic_load(&s->dropped));
    CHECK(r <= t, "slot %d: %" PRIu64 " runs for %" PRIu64 " posts", i, r, t);
    /* Freed after the shutdown drained it (neither a timed nor a background one): the last
     * post that returned RT_OK was followed by a run. */
    if (!s->freed_live && !rts[s->rt].timed_shutdown && !rts[s->rt].background && s->last_ok > 0)
      CHECK(r > 0 && atomic_load(&s->seen) >= s->last_ok,
            "slot %d: the last RT_OK post #%" PRIu64 ", the latest run saw #%" PRIu64, i, s->last_ok,
            (uint64_t)atomic_load(&s->seen));
    slot_runs[s->rt] += r;
    slot_posts[s->rt] += t;
  }
  while (nt > 0) {
    struct task *tk = &tasks[--nt];
    void *res = NULL;
    int rc = rt_task_join(tk->t, -1, &res);
    CHECK(rc == RT_OK || rc == RT_ECANCELED, "final join gave %d", rc);
    check_join(tk, rc, res, true);
    rt_task_release(tk->t);
  }
  while (ngroups > 0) {
    rt_group_t *g = groups[--ngroups].g;
    CHECK(rt_group_wait(g, 0) == RT_OK && rt_group_pending(g) == 0, "a group not empty at the end");
    rt_group_release(g);
  }
  while (nl > 0)
    CHECK(rt_loop_free(loops[--nl].l) == RT_OK, "final rt_loop_free");
  while (ns > 0)
    rt_strand_release(strands[--ns].s);
  while (nh > 0)
    rt_handle_release(handles[--nh].h);

  /* The ledger. */
  uint64_t spawned[MAX_RT] = {0}, ran[MAX_RT] = {0}, dropped_seen[MAX_RT] = {0},
           unran_silent[MAX_RT] = {0}, posts[MAX_RT] = {0}, posts_ran[MAX_RT] = {0},
           blocking[MAX_RT] = {0}, completions[MAX_RT] = {0}, completions_ran[MAX_RT] = {0};
  int n = atomic_load(&ncells);
  if (n > CELLS)
    n = CELLS;
  for (int i = 0; i < n; i++) {
    struct cell *c = &cells[i];
    int r = atomic_load(&c->ran), d = atomic_load(&c->dropped);
    CHECK(r + d <= 1, "cell %d ran %d dropped %d", i, r, d);
    if (c->rt < 0) { /* a NULL handle */
      CHECK(c->rc == RT_EINVAL && r == 0 && d == 0, "cell %d without a handle", i);
      continue;
    }
    if (c->completion) {
      /* Admitted, or refused and then run where its task ended, or
       * dropped: once, exactly, for an accepted task. */
      CHECK(r + d == (c->rc == RT_OK ? 1 : 0), "completion cell %d (rc %d) ran %d dropped %d", i, c->rc, r, d);
      completions[c->rt] += c->rc == RT_OK;
      completions_ran[c->rt] += (uint64_t)r;
      continue;
    }
    if (c->post) {
      posts[c->rt]++;
      posts_ran[c->rt] += (uint64_t)r;
      continue;
    }
    if (c->inline_run) {
      CHECK(r == 1, "inline cell %d ran %d", i, r);
      continue;
    }
    bool accepted = c->rc == RT_OK || c->rc == RT_ECANCELED;
    if (!accepted) {
      CHECK(r == 0 && d == 0, "refused cell %d (rc %d) ran %d dropped %d", i, c->rc, r, d);
      continue;
    }
    spawned[c->rt]++;
    blocking[c->rt] += c->blocking;
    ran[c->rt] += (uint64_t)r;
    dropped_seen[c->rt] += (uint64_t)d;
    if (c->has_drop)
      CHECK(r + d == 1, "accepted cell %d ran %d dropped %d", i, r, d);
    else if (r == 0)
      unran_silent[c->rt]++;
  }
  for (int i = 0; i < nrt; i++) {
    rt_stats_t s;
    memset(&s, 0, sizeof s);
    s.size = sizeof s;
    CHECK(rt_stats_get(rts[i].witness, &s) == RT_OK, "stats");
    CHECK(s.shutdown && s.queued == 0 && s.timers == 0, "stats after shutdown");
    CHECK(s.spawned == s.completed + s.dropped,
          "spawned %" PRIu64 " != completed %" PRIu64 " + dropped %" PRIu64, s.spawned,
          s.completed, s.dropped);
    /* A trampoline call's refusal is invisible to its caller: its
     * handler ran or not, that is all the ledger knows. */
    uint64_t calls = atomic_load(&tramp_calls[i]), runs = atomic_load(&tramp_runs[i]);
    uint64_t helpers = applies[i] * (s.workers - 1) + atomic_load(&timer_bound[i]);
    runs += slot_runs[i];
    CHECK(s.completed >= ran[i] + posts_ran[i] + runs &&
              s.completed <= ran[i] + posts_ran[i] + runs + helpers + completions_ran[i],
          "completed %" PRIu64 ", ledger ran %" PRIu64 " + up to %" PRIu64 " apply helpers",
          s.completed, ran[i] + posts_ran[i] + runs, helpers);
    CHECK(s.spawned >= spawned[i] + posts_ran[i] + runs &&
              s.spawned <= spawned[i] + posts[i] + calls + helpers + completions[i] + slot_posts[i],
          "spawned %" PRIu64 ", ledger %" PRIu64 " + up to %" PRIu64 " trampoline calls",
          s.spawned, spawned[i], posts[i] + calls);
    CHECK(s.spawned + s.rejected >= spawned[i], "rejected %" PRIu64, s.rejected);
    CHECK(s.dropped >= dropped_seen[i] + unran_silent[i], "dropped %" PRIu64, s.dropped);
    CHECK(s.blocking_spawned == blocking[i] && s.blocking_spawned <= s.spawned,
          "blocking_spawned %" PRIu64 ", ledger %" PRIu64 ", spawned %" PRIu64,
          s.blocking_spawned, blocking[i], s.spawned);
    uint64_t regions = atomic_load(&regions_opened[i]);
    CHECK(s.blocking_regions == regions && s.handoffs <= s.blocking_regions,
          "blocking_regions %" PRIu64 ", ledger %" PRIu64 ", handoffs %" PRIu64,
          s.blocking_regions, regions, s.handoffs);
    CHECK(s.blocking_threads == 0 && s.blocking_threads_peak <= rts[i].max_blocking,
          "blocking_threads %" PRIu64 " after shutdown, peak %" PRIu64 " (cap %u)",
          s.blocking_threads, s.blocking_threads_peak, rts[i].max_blocking);
    rt_handle_release(rts[i].witness);
  }
  /* Blocking threads run the hooks too: at least one start per worker. */
  CHECK(atomic_load(&hook_starts) >= hooked_workers &&
            atomic_load(&hook_stops) == atomic_load(&hook_starts),
        "hooks: %d starts, %d stops, want %d or more", atomic_load(&hook_starts),
        atomic_load(&hook_stops), hooked_workers);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  in_p = data;
  in_n = size;
  atomic_store(&ncells, 0);
  nrt = nh = nt = ng = ncb = ns = ngroups = nl = ntm = ntslots = 0;
  for (int i = 0; i < MAX_RT; i++) {
    atomic_store(&timer_bound[i], 0);
  }
  nsslots = nlive_slots = nholds = 0;
  cur = -1;
  memset(rts, 0, sizeof rts);
  for (int i = 0; i < MAX_RT; i++) {
    applies[i] = 0;
    atomic_store(&regions_opened[i], 0);
    atomic_store(&tramp_calls[i], 0);
    atomic_store(&tramp_runs[i], 0);
  }
  /* A thread joined by the previous input may linger in /proc for a
   * moment: let the count settle, so that it does not hide a reaper. */
  static int fewest = 1 << 30;
  threads_before = thread_count();
  for (int i = 0; i < 2000 && threads_before > fewest; i++) {
    nanosleep(&(struct timespec){0, 100000}, NULL);
    threads_before = thread_count();
  }
  if (threads_before < fewest)
    fewest = threads_before;
  /* Every input starts with a runtime, so that most bytes do something. */
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = 1 + u8() % 2;
  rts[0].rt = rt_new(&cfg);
  CHECK(rts[0].rt != NULL, "rt_new");
  rts[0].witness = rt_handle(rts[0].rt);
  rts[0].max_blocking = 512;
  nrt = 1;
  cur = 0;
  int ops = 0;
  while (in_n > 0 && ops++ < 400) {
    switch (u8() % 28) {
    case 0: op_new(); break;
    case 1: op_shutdown(); break;
    case 2: op_handle(); break;
    case 3: op_release_handle(); break;
    case 4: op_spawn(); break;
    case 5: case 6: op_spawn_full(false); break;
    case 7: op_spawn_full(true); break;
    case 8: op_block_on(); break;
    case 9: case 10: op_task(); break;
    case 11: op_context(); break;
    case 12: op_stats(); break;
    case 13: op_callback_new(); break;
    case 14: op_callback_call(); break;
    case 15: case 16: op_strand(); break;
    case 17: op_apply(); break;
    case 18: case 19: op_group(); break;
    case 21: op_blocking(); break;
    case 22: op_region(); break;
    case 23: op_loop(); break;
    case 24: op_timer(); break;
    case 25: op_shutdown_background(); break;
    case 26: op_signal_slot(); break;
    case 27: op_release_twice(); break;
    default:
      if (u8() % 2) op_callback_free(); else op_misc();
      break;
    }
  }
  finish();
  return 0;
}
