/* test-fork-usage.c — fork() the way real programs use it.
 *
 * test-fork.c checks what a child sees of an inherited runtime. These tests
 * fork the way servers and daemons do, from a parent that has loaded the
 * library and does not exec: many children at once, each starting its own
 * runtime right away; a fork while another thread of the parent creates and
 * shuts down runtimes; the double fork of a daemon; a prefork server whose
 * own runtime keeps working while its children start theirs.
 *
 * In every child the runtime's first moments are made contended on purpose:
 * the child's main thread spawns, joins, blocks on tasks, sets timers and
 * makes a trampoline while the new workers run tasks that do the same. Each
 * child keeps an exact ledger (every accepted task ran exactly once, the
 * counts agree with rt_stats), shuts down, and exits 0.
 *
 * Most parents here have loaded the library and not used it yet when they
 * fork, as programs that fork at startup do; the prefork parent has a
 * runtime running.
 *
 * A child that hangs is killed at a deadline (two thirds of the runner's
 * watchdog, 20 s by default) and reported as hung, so a hang fails the test
 * with counts instead of tripping the watchdog. Under valgrind and
 * ThreadSanitizer the counts are smaller; ThreadSanitizer cannot start
 * threads in the child of a multithreaded process, so there the children
 * of tests 2 and 4 only check the inherited runtime. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Children, deadlines, counts                                               */
/* ------------------------------------------------------------------------ */

/* The count for this build: valgrind and ThreadSanitizer run everything
 * many times slower, so they get fewer children and tasks. */
static unsigned scaled(unsigned normal, unsigned tsan, unsigned valgrind) {
  if (under_valgrind())
    return valgrind;
  return UNDER_TSAN ? tsan : normal;
}

/* When children still running are declared hung: two thirds of the
 * runner's watchdog ($RTCTX_TEST_TIMEOUT, 30 s) after `start`. */
static uint64_t hang_deadline(uint64_t start) {
  unsigned watchdog = 30;
  const char *env = getenv("RTCTX_TEST_TIMEOUT");
  if (env != NULL && atoi(env) > 0)
    watchdog = (unsigned)atoi(env);
  return start + (uint64_t)watchdog * 2 / 3 * 1000 * MS;
}

static double seconds_since(uint64_t start) {
  return (double)(now_ns() - start) / 1e9;
}

static pid_t fork_or_fail(void) {
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0)
    FAIL("fork: %s", strerror(errno));
  return pid;
}

/* The parent's record of the children it forked. */
#define BROOD_MAX 512
typedef struct brood {
  int n;
  pid_t pid[BROOD_MAX];
  bool reaped[BROOD_MAX];
  int status[BROOD_MAX];
  int hung, failed, live;
} brood_t;

static void brood_add(brood_t *b, pid_t pid) {
  if (b->n >= BROOD_MAX)
    FAIL("more than %d children", BROOD_MAX);
  b->pid[b->n] = pid;
  b->reaped[b->n] = false;
  b->n++;
  b->live++;
}

static void brood_note(brood_t *b, int i, int status) {
  b->reaped[i] = true;
  b->status[i] = status;
  b->live--;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    b->failed++;
    if (b->failed <= 5)
      printf("child %d (pid %d) failed: %s %d\n", i, (int)b->pid[i],
             WIFEXITED(status) ? "exit" : "signal",
             WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
  }
}

/* Reaps the children that have exited; returns how many are still live. */
static int brood_poll(brood_t *b) {
  for (int i = 0; i < b->n; i++) {
    if (b->reaped[i])
      continue;
    int status;
    pid_t r = waitpid(b->pid[i], &status, WNOHANG);
    if (r == b->pid[i])
      brood_note(b, i, status);
    else if (r < 0 && errno != EINTR)
      FAIL("waitpid(%d): %s", (int)b->pid[i], strerror(errno));
  }
  return b->live;
}

/* Waits for every child until `deadline`, then kills and reaps the rest,
 * which count as hung. */
static void brood_finish(brood_t *b, uint64_t deadline) {
  while (brood_poll(b) > 0 && now_ns() < deadline)
    sleep_ms(1);
  for (int i = 0; i < b->n; i++) {
    if (b->reaped[i])
      continue;
    kill(b->pid[i], SIGKILL);
    int status;
    while (waitpid(b->pid[i], &status, 0) < 0 && errno == EINTR) {
    }
    b->reaped[i] = true;
    b->live--;
    b->hung++;
    if (b->hung <= 5)
      printf("child %d (pid %d) hung: killed at the deadline\n", i, (int)b->pid[i]);
  }
}

/* Fails the test if any child hung or failed, with both counts. */
static void brood_check(brood_t *b, const char *what) {
  if (b->hung != 0 || b->failed != 0)
    printf("%s: %d of %d children hung, %d failed\n", what, b->hung, b->n, b->failed);
  CHECK_EQ(b->hung, 0);
  CHECK_EQ(b->failed, 0);
}

/* ------------------------------------------------------------------------ */
/* The ledger                                                                */
/* ------------------------------------------------------------------------ */

/* Every task gets a slot; its argument names the ledger and the slot. A
 * slot is taken before the spawn and counted as accepted when the spawn
 * said RT_OK; the task marks it. A slot marked twice fails at once. */
enum { CHILD_LEDGER, PARENT_LEDGER };
#define CHILD_SLOTS (1u << 15)
#define PARENT_SLOTS (1u << 18)
#define MAX_TIMERS 256

typedef struct ledger {
  rt_handle_t *h;
  unsigned cap;
  atomic_uchar *ran;
  atomic_int next;      /* slots handed out */
  atomic_int accepted;  /* spawns, timers, block_on, POST calls that were accepted */
  atomic_int ran_total; /* marks */
  atomic_int inline_calls, inline_ran; /* run inline on a worker: not counted */
  atomic_int dropped_total; /* tasks rt_task_cancel dropped (their drop marked them) */
  unsigned per_fan;
  atomic_int fans_done;
  atomic_int tours_arrived, tours_done;
  atomic_bool go;
  atomic_uintptr_t post; /* the trampoline, once made */
  atomic_int ntimers;
  _Atomic(rt_task_t *) timers[MAX_TIMERS];
  /* the prefork parent's chains */
  atomic_bool stop;
  atomic_int chains;
} ledger_t;

static atomic_uchar child_ran[CHILD_SLOTS];
static atomic_uchar parent_ran[PARENT_SLOTS];
static ledger_t ledgers[2];

static void ledger_reset(int which, rt_handle_t *h) {
  ledger_t *L = &ledgers[which];
  memset(L, 0, sizeof *L);
  L->h = h;
  L->cap = which == CHILD_LEDGER ? CHILD_SLOTS : PARENT_SLOTS;
  L->ran = which == CHILD_LEDGER ? child_ran : parent_ran;
  memset((void *)L->ran, 0, L->cap);
}

static void *enc(int which, int slot) {
  return (void *)(uintptr_t)(((unsigned)slot << 1) | (unsigned)which);
}
static ledger_t *dec_ledger(uintptr_t v) { return &ledgers[v & 1]; }
static int dec_slot(uintptr_t v) { return (int)(v >> 1); }

/* A slot, or -1 when the ledger is full. */
static int take_slot(ledger_t *L) {
  int s = atomic_fetch_add(&L->next, 1);
  if ((unsigned)s >= L->cap) {
    atomic_fetch_sub(&L->next, 1);
    return -1;
  }
  return s;
}

static int must_take(ledger_t *L) {
  int s = take_slot(L);
  if (s < 0)
    FAIL("ledger full (%u slots)", L->cap);
  return s;
}

static int ledger_which(ledger_t *L) { return L == &ledgers[PARENT_LEDGER]; }

static void mark(uintptr_t v) {
  ledger_t *L = dec_ledger(v);
  int s = dec_slot(v);
  if ((unsigned)s >= L->cap)
    FAIL("task with slot %d of %u", s, L->cap);
  int before = atomic_fetch_add(&L->ran[s], 1);
  if (before != 0)
    FAIL("task in slot %d ran %d times", s, before + 1);
  atomic_fetch_add(&L->ran_total, 1);
}

static void leaf_fn(void *arg) { mark((uintptr_t)arg); }
static void *leaf_call(void *arg) {
  mark((uintptr_t)arg);
  return arg;
}
static void drop_fail(void *arg) {
  FAIL("task in slot %d dropped", dec_slot((uintptr_t)arg));
}
static void drop_mark(void *arg) {
  mark((uintptr_t)arg);
  atomic_fetch_add(&dec_ledger((uintptr_t)arg)->dropped_total, 1);
}
static void *inline_call(void *arg) {
  ledger_t *L = arg;
  atomic_fetch_add(&L->inline_ran, 1);
  return arg;
}
static void post_handler(void *result, void **args, void *user) {
  (void)result;
  (void)user;
  mark((uintptr_t)(unsigned)*(int *)args[0]);
}
/* A WAIT trampoline's handler: called from outside, a counted task (marks
 * the slot it is given); called on a worker, inline (user is the ledger). */
static void wait_handler(void *result, void **args, void *user) {
  int v = *(int *)args[0];
  if (v < 0) {
    ledger_t *L = user;
    atomic_fetch_add(&L->inline_ran, 1);
  } else {
    mark((uintptr_t)(unsigned)v);
  }
  *(int *)result = v;
}

static void spawn_leaf(ledger_t *L) {
  int s = must_take(L);
  CHECK_RC(rt_spawn(L->h, leaf_fn, enc(ledger_which(L), s)), RT_OK);
  atomic_fetch_add(&L->accepted, 1);
}

static void spawn_timer(ledger_t *L, uint64_t delay_ns) {
  int k = atomic_fetch_add(&L->ntimers, 1);
  if (k >= MAX_TIMERS)
    FAIL("more than %d timers", MAX_TIMERS);
  int s = must_take(L);
  rt_task_t *t = NULL;
  CHECK_RC(rt_spawn_after(L->h, delay_ns, leaf_call, enc(ledger_which(L), s),
                          drop_fail, &t),
           RT_OK);
  atomic_fetch_add(&L->accepted, 1);
  atomic_store(&L->timers[k], t);
}

static void call_post(ledger_t *L) {
  uintptr_t code = atomic_load(&L->post);
  if (code == 0)
    return;
  int s = must_take(L);
  ((void (*)(int))code)((int)(uintptr_t)enc(ledger_which(L), s));
  atomic_fetch_add(&L->accepted, 1);
}

/* A task of a child's runtime: spawns leaves, a joinable task and a timer,
 * calls the trampoline and blocks on its own runtime (inline), all while
 * the child's main thread does the same. */
static void fan_fn(void *arg) {
  uintptr_t v = (uintptr_t)arg;
  mark(v);
  ledger_t *L = dec_ledger(v);
  CHECK_PTR_EQ(rt_handle_current(), L->h);
  for (unsigned k = 0; k < L->per_fan; k++) {
    spawn_leaf(L);
    if (k == 0) {
      int s = must_take(L);
      CHECK_RC(rt_spawn_full(L->h, leaf_call, enc(ledger_which(L), s), drop_fail, NULL),
               RT_OK);
      atomic_fetch_add(&L->accepted, 1);
      spawn_timer(L, 20 * 1000);
      call_post(L);
      atomic_fetch_add(&L->inline_calls, 1);
      void *res = NULL;
      CHECK_RC(rt_block_on(L->h, inline_call, L, &res), RT_OK);
      CHECK_PTR_EQ(res, L);
    }
  }
  atomic_fetch_add(&L->fans_done, 1);
}

static void spawn_fan(ledger_t *L) {
  int s = must_take(L);
  CHECK_RC(rt_spawn(L->h, fan_fn, enc(ledger_which(L), s)), RT_OK);
  atomic_fetch_add(&L->accepted, 1);
}

/* The first use of every part of the API: a POST and a WAIT trampoline of
 * its own, a timer, a task cancelled (or too late to), context, clones and
 * stats. The child's main thread and a worker run it at the same moment,
 * right after rt_new, so both do first-time work in the library at once. */
static void tour(ledger_t *L, bool on_worker) {
  rt_handle_t *h = L->h;
  int w = ledger_which(L);
  static const rt_type_t int_arg[] = {RT_TYPE_INT};
  void *post_code = NULL, *wait_code = NULL;
  rt_callback_t *post = rt_callback_new(h, RT_CALLBACK_POST, RT_TYPE_VOID, int_arg, 1,
                                        post_handler, L, &post_code);
  rt_callback_t *wait = rt_callback_new(h, RT_CALLBACK_WAIT, RT_TYPE_INT, int_arg, 1,
                                        wait_handler, L, &wait_code);
  CHECK_NOT_NULL(post);
  CHECK_NOT_NULL(wait);
  int s = must_take(L);
  ((void (*)(int))post_code)((int)(uintptr_t)enc(w, s));
  atomic_fetch_add(&L->accepted, 1);
  if (on_worker) {
    atomic_fetch_add(&L->inline_calls, 1);
    CHECK_EQ(((int (*)(int))wait_code)(-1), -1);
  } else {
    s = must_take(L);
    int v = (int)(uintptr_t)enc(w, s);
    CHECK_EQ(((int (*)(int))wait_code)(v), v);
    atomic_fetch_add(&L->accepted, 1);
  }
  spawn_timer(L, 5 * 1000);
  s = must_take(L);
  rt_task_t *t = NULL;
  CHECK_RC(rt_spawn_full(h, leaf_call, enc(w, s), drop_mark, &t), RT_OK);
  atomic_fetch_add(&L->accepted, 1);
  int rc = rt_task_cancel(t);
  if (rc != RT_OK && rc != RT_EBUSY)
    FAIL("rt_task_cancel: %s", rt_code_name(rc));
  if (rc == RT_OK)
    CHECK_TRUE(rt_task_is_finished(t));
  rt_task_release(t);
  rt_guard_t *g = rt_enter(h);
  CHECK_NOT_NULL(g);
  CHECK_PTR_EQ(rt_handle_current(), h);
  CHECK_RC(rt_exit(g), RT_OK);
  rt_handle_t *h2 = rt_handle_clone(h);
  CHECK_PTR_EQ(h2, h);
  rt_handle_release(h2);
  CHECK_FALSE(get_stats(h).shutdown);
  rt_callback_free(post); /* on a worker: at once, freed after its call */
  rt_callback_free(wait);
}

static void tour_fn(void *arg) {
  uintptr_t v = (uintptr_t)arg;
  mark(v);
  ledger_t *L = dec_ledger(v);
  atomic_fetch_add(&L->tours_arrived, 1);
  while (!atomic_load(&L->go)) {
  }
  tour(L, true);
  atomic_fetch_add(&L->tours_done, 1);
}

/* After rt_shutdown: every accepted task ran once, and rt_stats agrees. */
static void check_ledger(ledger_t *L) {
  int accepted = atomic_load(&L->accepted);
  int next = atomic_load(&L->next);
  CHECK_EQ(next, accepted); /* every slot taken was accepted */
  CHECK_EQ(atomic_load(&L->ran_total), accepted);
  for (int i = 0; i < next; i++)
    if (atomic_load(&L->ran[i]) != 1)
      FAIL("task in slot %d of %d ran %d times", i, next, (int)atomic_load(&L->ran[i]));
  CHECK_EQ(atomic_load(&L->inline_ran), atomic_load(&L->inline_calls));
  int dropped = atomic_load(&L->dropped_total);
  rt_stats_t s = get_stats(L->h);
  CHECK_TRUE(s.shutdown);
  CHECK_EQ(s.spawned, accepted);
  CHECK_EQ(s.completed, accepted - dropped);
  CHECK_EQ(s.dropped, dropped);
  CHECK_EQ(s.rejected, 0);
  CHECK_EQ(s.queued, 0);
  CHECK_EQ(s.timers, 0);
}

/* What each child does: a fresh runtime with 2 workers, contended from its
 * first moment, `fans` fan tasks of `per_fan` leaves, the ledger, the
 * shutdown. Returns the number of tasks accepted and, if `out` is not NULL,
 * the final rt_stats. Fails (exit 1) on any error. */
static int child_workload(unsigned fans, unsigned per_fan, rt_stats_t *out) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  ledger_reset(CHILD_LEDGER, h);
  ledger_t *L = &ledgers[CHILD_LEDGER];
  L->per_fan = per_fan;
  /* The workers are fresh: one of them takes a tour of the API while this
   * thread takes the same tour. */
  for (int k = 0; k < 2; k++) {
    int s = must_take(L);
    CHECK_RC(rt_spawn(h, tour_fn, enc(CHILD_LEDGER, s)), RT_OK);
    atomic_fetch_add(&L->accepted, 1);
  }
  uint64_t until = now_ns() + 10000 * MS;
  while (atomic_load(&L->tours_arrived) == 0)
    if (now_ns() > until)
      FAIL("no worker ran a task within 10 s");
  atomic_store(&L->go, true);
  tour(L, false);
  /* Then the fans, while this thread goes on spawning, blocking on tasks,
   * joining, setting timers and calling a trampoline. */
  spawn_fan(L);
  spawn_fan(L);
  static const rt_type_t int_arg[] = {RT_TYPE_INT};
  void *code = NULL;
  rt_callback_t *cb = rt_callback_new(h, RT_CALLBACK_POST, RT_TYPE_VOID, int_arg, 1,
                                      post_handler, NULL, &code);
  CHECK_NOT_NULL(cb);
  atomic_store(&L->post, (uintptr_t)code);
  for (unsigned f = 2; f < fans; f++) {
    spawn_fan(L);
    spawn_leaf(L);
    if (f % 4 == 0) {
      int s = must_take(L);
      void *res = NULL;
      CHECK_RC(rt_block_on(h, leaf_call, enc(CHILD_LEDGER, s), &res), RT_OK);
      atomic_fetch_add(&L->accepted, 1);
      CHECK_PTR_EQ(res, enc(CHILD_LEDGER, s));
    } else if (f % 4 == 1) {
      int s = must_take(L);
      rt_task_t *t = NULL;
      CHECK_RC(rt_spawn_full(h, leaf_call, enc(CHILD_LEDGER, s), drop_fail, &t), RT_OK);
      atomic_fetch_add(&L->accepted, 1);
      void *res = NULL;
      CHECK_RC(rt_task_join(t, -1, &res), RT_OK);
      CHECK_PTR_EQ(res, enc(CHILD_LEDGER, s));
      rt_task_release(t);
    } else if (f % 4 == 2) {
      spawn_timer(L, 10 * 1000);
    } else {
      call_post(L);
    }
  }
  WAIT_UNTIL(atomic_load(&L->fans_done) == (int)fans);
  WAIT_UNTIL(atomic_load(&L->tours_done) == 2);
  /* Timers still pending at the drain would be dropped: join them all. */
  int ntimers = atomic_load(&L->ntimers);
  for (int k = 0; k < ntimers; k++) {
    rt_task_t *t = atomic_load(&L->timers[k]);
    CHECK_NOT_NULL(t);
    CHECK_RC(rt_task_join(t, -1, NULL), RT_OK);
    rt_task_release(t);
  }
  rt_callback_free(cb); /* after the POST calls queued have run */
  CHECK_RC(rt_shutdown(rt), RT_OK);
  check_ledger(L);
  int accepted = atomic_load(&L->accepted);
  if (out != NULL)
    *out = get_stats(h);
  rt_handle_release(h);
  return accepted;
}

/* ------------------------------------------------------------------------ */
/* 1. Many children at once, each starting a runtime                         */
/* ------------------------------------------------------------------------ */

/* 200 children forked in a tight loop, held at a gate until all exist,
 * then each starts a runtime at the same moment and contends on it. The
 * parent has loaded the library and done nothing else with it. */
TEST(fork_usage_many_children_new_runtime) {
  uint64_t start = now_ns();
  unsigned n = scaled(200, 20, 8);
  CHECK_GE(rt_version(), 100);
  int gate[2];
  CHECK_EQ(pipe(gate), 0);
  static brood_t b;
  for (unsigned i = 0; i < n; i++) {
    pid_t pid = fork_or_fail();
    if (pid == 0) {
      close(gate[1]);
      char c;
      while (read(gate[0], &c, 1) < 0 && errno == EINTR) {
      }
      close(gate[0]);
      child_workload(12, 24, NULL);
      child_exit(0);
    }
    brood_add(&b, pid);
  }
  close(gate[1]); /* all alive: let them go */
  close(gate[0]);
  brood_finish(&b, hang_deadline(start));
  printf("%d children in %.1f s\n", b.n, seconds_since(start));
  brood_check(&b, "fork_usage_many_children_new_runtime");
}

/* ------------------------------------------------------------------------ */
/* 2. Fork while another thread creates and shuts down runtimes              */
/* ------------------------------------------------------------------------ */

typedef struct churn {
  atomic_bool stop;
  atomic_int rounds;
  atomic_int ran;
  /* the runtime the thread is using, for the child to try: a handle
   * reference that stays valid while published */
  _Atomic(rt_handle_t *) current;
} churn_t;

static void churn_fn(void *arg) { atomic_fetch_add(&((churn_t *)arg)->ran, 1); }
static void *churn_call(void *arg) {
  churn_fn(arg);
  return arg;
}

static void *churn_main(void *arg) {
  churn_t *c = arg;
  do { /* at least one round, however soon the trial ends */
    int before = atomic_load(&c->ran);
    rt_runtime_t *rt = make_rt(1 + (unsigned)(atomic_load(&c->rounds) & 1), 0);
    rt_handle_t *h = rt_handle(rt);
    atomic_store(&c->current, h);
    for (int k = 0; k < 8; k++)
      CHECK_RC(rt_spawn(h, churn_fn, c), RT_OK);
    void *res = NULL;
    CHECK_RC(rt_block_on(h, churn_call, c, &res), RT_OK);
    CHECK_PTR_EQ(res, c);
    CHECK_RC(rt_shutdown(rt), RT_OK);
    CHECK_EQ(atomic_load(&c->ran) - before, 9);
    atomic_store(&c->current, NULL);
    rt_handle_release(h);
    atomic_fetch_add(&c->rounds, 1);
  } while (!atomic_load(&c->stop));
  return NULL;
}

/* The child of a fork taken while churn_main runs. */
static void churn_child(churn_t *c) {
  /* The runtime the parent's thread had at the fork, if any: refused. */
  rt_handle_t *inh = atomic_load(&c->current);
  if (inh != NULL) {
    counter_t k;
    counter_init(&k);
    void *res = (void *)(uintptr_t)0x77;
    CHECK_RC(rt_spawn(inh, counter_fn, &k), RT_ESHUTDOWN);
    CHECK_RC(rt_block_on(inh, counter_call, &k, &res), RT_ESHUTDOWN);
    CHECK_EQ((uintptr_t)res, 0x77);
    CHECK_TRUE(get_stats(inh).shutdown);
    CHECK_EQ(atomic_load(&k.ran) + atomic_load(&k.dropped), 0);
  }
  /* ThreadSanitizer cannot start threads in the child of a multithreaded
   * process: there, only the refusal above. */
  if (!UNDER_TSAN)
    child_workload(8, 16, NULL);
  child_exit(0);
}

/* How a trial ends (its parent's exit status). */
enum { TRIAL_OK = 0, TRIAL_CHILD_HUNG = 10, TRIAL_CHILD_FAILED = 11 };

/* One trial, in a parent process of its own that starts as the program
 * does, with the library loaded and not used yet: a thread starts churning
 * runtimes, and `delay_us` later the main thread forks. Early forks find
 * the thread in its first rt_new, later ones in the middle of any round.
 * The child must finish by `child_deadline`. */
static void churn_trial(unsigned delay_us, uint64_t child_deadline) {
  static churn_t c;
  pthread_t th;
  CHECK_EQ(pthread_create(&th, NULL, churn_main, &c), 0);
  sleep_us(delay_us);
  pid_t pid = fork_or_fail();
  if (pid == 0)
    churn_child(&c);
  int code = TRIAL_OK, status = 0;
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        printf("trial child (pid %d) failed: status %d\n", (int)pid, status);
        code = TRIAL_CHILD_FAILED;
      }
      break;
    }
    if (r < 0 && errno != EINTR)
      FAIL("waitpid: %s", strerror(errno));
    if (now_ns() > child_deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      code = TRIAL_CHILD_HUNG;
      break;
    }
    sleep_us(200);
  }
  atomic_store(&c.stop, true);
  CHECK_EQ(pthread_join(th, NULL), 0);
  CHECK_GE(atomic_load(&c.rounds), 1);
  child_exit(code);
}

TEST(fork_usage_fork_while_thread_churns_runtimes) {
  uint64_t start = now_ns();
  uint64_t deadline = hang_deadline(start);
  /* A child normally takes milliseconds: a tenth of the watchdog (3 s)
   * is a hang, not a slow machine. */
  uint64_t trial_limit = (deadline - start) / 6;
  /* Starting trials stops at half the deadline; the rest is for waiting. */
  uint64_t trial_budget = start + (deadline - start) / 2;
  unsigned trials = scaled(250, 25, 10);
  unsigned parallel = 4;
  uint64_t seed = test_seed();
  static brood_t b;           /* the trial parents */
  static uint64_t ends[BROOD_MAX]; /* when each trial parent is given up on */
  int child_hung = 0, child_failed = 0, parent_hung = 0, parent_failed = 0;
  int reaped = 0;
  while (reaped < b.n || ((unsigned)b.n < trials && now_ns() < trial_budget &&
                          child_hung + child_failed + parent_hung + parent_failed < 8)) {
    bool more = (unsigned)b.n < trials && now_ns() < trial_budget &&
                child_hung + child_failed + parent_hung + parent_failed < 8;
    if (more && b.live < (int)parallel) {
      unsigned delay_us = (unsigned)(rng_next(&seed) % 1500);
      uint64_t child_deadline = now_ns() + trial_limit;
      pid_t pid = fork_or_fail();
      if (pid == 0) {
        setpgid(0, 0);
        churn_trial(delay_us, child_deadline);
      }
      setpgid(pid, pid); /* both sides: no race with the kill below */
      ends[b.n] = child_deadline + 2000 * MS;
      brood_add(&b, pid);
      continue;
    }
    for (int i = 0; i < b.n; i++) {
      if (b.reaped[i])
        continue;
      int status;
      pid_t r = waitpid(b.pid[i], &status, WNOHANG);
      if (r == b.pid[i]) {
        b.reaped[i] = true;
        b.live--;
        reaped++;
        if (WIFEXITED(status) && WEXITSTATUS(status) == TRIAL_CHILD_HUNG) {
          child_hung++;
          printf("trial %d: the child hung (killed after %.1f s)\n", i,
                 (double)trial_limit / 1e9);
        } else if (WIFEXITED(status) && WEXITSTATUS(status) == TRIAL_CHILD_FAILED) {
          child_failed++;
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
          parent_failed++;
          printf("trial %d: the parent failed: status %d\n", i, status);
        }
      } else if (now_ns() > ends[i]) {
        kill(-b.pid[i], SIGKILL); /* the trial's parent and its child */
        kill(b.pid[i], SIGKILL);
        waitpid(b.pid[i], &status, 0);
        b.reaped[i] = true;
        b.live--;
        reaped++;
        parent_hung++;
        printf("trial %d: the parent hung (in fork or its thread): killed\n", i);
      }
    }
    sleep_us(200);
  }
  printf("%d trials (%u wanted) in %.1f s: %d children hung, %d failed; "
         "%d parents hung, %d failed\n",
         b.n, trials, seconds_since(start), child_hung, child_failed, parent_hung,
         parent_failed);
  CHECK_EQ(child_hung, 0);
  CHECK_EQ(child_failed, 0);
  CHECK_EQ(parent_hung, 0);
  CHECK_EQ(parent_failed, 0);
  CHECK_GE(b.n, 1);
}

/* ------------------------------------------------------------------------ */
/* 3. Daemonize: fork, setsid, fork, report through a pipe                   */
/* ------------------------------------------------------------------------ */

enum { REPORT_STARTED = 1, REPORT_DONE = 2 };

typedef struct report {
  int kind;
  int index;
  pid_t pid;
  int accepted;
  int ran;
  int64_t spawned, completed, dropped;
} report_t;

static void write_report(int fd, const report_t *r) {
  /* Smaller than PIPE_BUF: one atomic write. */
  ssize_t w;
  while ((w = write(fd, r, sizeof *r)) < 0 && errno == EINTR) {
  }
  if (w != (ssize_t)sizeof *r)
    FAIL("write to the report pipe: %zd", w);
}

/* Whether `pid` still runs (not gone, not a zombie). */
static bool proc_running(pid_t pid) {
  char path[64], stat[512] = {0};
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return false;
  bool ok = fgets(stat, sizeof stat, f) != NULL;
  fclose(f);
  const char *paren = ok ? strrchr(stat, ')') : NULL;
  return paren != NULL && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
}

#define DAEMONS_MAX 256

/* A program that daemonizes before it uses the library, 200 times at once:
 * each daemon starts its runtime as soon as it exists and reports its
 * ledger through the pipe. A daemon is not our child: one that hangs is
 * found by its missing report and killed by the pid it reported first. */
TEST(fork_usage_daemonize_double_fork) {
  uint64_t start = now_ns();
  uint64_t deadline = hang_deadline(start);
  unsigned n = scaled(200, 12, 3);
  int p[2];
  CHECK_EQ(pipe(p), 0);
  static brood_t mid; /* the intermediate children */
  for (unsigned i = 0; i < n; i++) {
    pid_t pid = fork_or_fail();
    if (pid == 0) {
      close(p[0]);
      if (setsid() < 0)
        _exit(3);
      pid_t gpid = fork();
      if (gpid < 0)
        _exit(4);
      if (gpid > 0)
        child_exit(0); /* the intermediate child: exits at once */
      /* The daemon. */
      report_t r;
      memset(&r, 0, sizeof r); /* the padding too: it goes down the pipe */
      r.kind = REPORT_STARTED;
      r.index = (int)i;
      r.pid = getpid();
      write_report(p[1], &r);
      rt_stats_t s;
      int accepted = child_workload(12, 24, &s);
      r.kind = REPORT_DONE;
      r.accepted = accepted;
      r.ran = atomic_load(&ledgers[CHILD_LEDGER].ran_total);
      r.spawned = (int64_t)s.spawned;
      r.completed = (int64_t)s.completed;
      r.dropped = (int64_t)s.dropped;
      write_report(p[1], &r);
      close(p[1]);
      child_exit(0);
    }
    brood_add(&mid, pid);
  }
  close(p[1]);
  /* The intermediate children exit at once. */
  brood_finish(&mid, start + (deadline - start) / 4);
  brood_check(&mid, "fork_usage_daemonize_double_fork (intermediate children)");

  pid_t pids[DAEMONS_MAX] = {0};
  bool finished[DAEMONS_MAX] = {false};
  unsigned started = 0, reported = 0;
  while (reported < n && now_ns() < deadline) {
    struct pollfd pfd = {p[0], POLLIN, 0};
    int ms = (int)((deadline - now_ns()) / MS) + 1;
    int pr = poll(&pfd, 1, ms > 100 ? 100 : ms);
    if (pr < 0 && errno != EINTR)
      FAIL("poll: %s", strerror(errno));
    if (pr <= 0)
      continue;
    report_t r;
    ssize_t got = read(p[0], &r, sizeof r);
    if (got == 0)
      break; /* every daemon closed its end */
    if (got < 0 && errno == EINTR)
      continue;
    CHECK_EQ(got, (ssize_t)sizeof r);
    CHECK_LT(r.index, (int)n);
    CHECK_GE(r.index, 0);
    if (r.kind == REPORT_STARTED) {
      pids[r.index] = r.pid;
      started++;
    } else {
      CHECK_EQ(r.kind, REPORT_DONE);
      CHECK_FALSE(finished[r.index]);
      finished[r.index] = true;
      reported++;
      CHECK_EQ(r.ran, r.accepted);
      CHECK_EQ(r.spawned, r.accepted);
      CHECK_EQ(r.completed + r.dropped, r.accepted);
      CHECK_GT(r.accepted, 0);
    }
  }
  close(p[0]);
  int hung = 0, died = 0;
  for (unsigned i = 0; i < n; i++) {
    if (finished[i])
      continue;
    if (pids[i] != 0 && proc_running(pids[i])) {
      kill(pids[i], SIGKILL);
      hung++;
      printf("daemon %u (pid %d) hung: killed at the deadline\n", i, (int)pids[i]);
    } else {
      died++;
      printf("daemon %u (pid %d) ended without reporting (see its output)\n", i,
             (int)pids[i]);
    }
  }
  printf("%u daemons, %u started, %u reported in %.1f s\n", n, started, reported,
         seconds_since(start));
  CHECK_EQ(hung, 0);
  CHECK_EQ(died, 0);
  CHECK_EQ(reported, n);
}

/* ------------------------------------------------------------------------ */
/* 4. Prefork server                                                         */
/* ------------------------------------------------------------------------ */

/* A chain link of the parent's own work: marks its slot, works a little,
 * and spawns the next link until told to stop (or the ledger fills). */
static void chain_fn(void *arg) {
  uintptr_t v = (uintptr_t)arg;
  mark(v);
  ledger_t *L = dec_ledger(v);
  sleep_us(50);
  int s = atomic_load(&L->stop) ? -1 : take_slot(L);
  if (s < 0) {
    atomic_fetch_sub(&L->chains, 1);
    return;
  }
  CHECK_RC(rt_spawn(L->h, chain_fn, enc(PARENT_LEDGER, s)), RT_OK);
  atomic_fetch_add(&L->accepted, 1);
}

TEST(fork_usage_prefork_server) {
  uint64_t start = now_ns();
  uint64_t deadline = hang_deadline(start);
  unsigned nchildren = scaled(4, 4, 2);
  /* 50 fans of 197 leaves: a fan is at least 200 tasks (itself, its
   * leaves, a joinable task, a timer), 10,000 and some with the rest. */
  unsigned fans = scaled(50, 50, 5), per_fan = 197;
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  ledger_reset(PARENT_LEDGER, h);
  ledger_t *P = &ledgers[PARENT_LEDGER];
  atomic_store(&P->chains, 4);
  for (int k = 0; k < 4; k++) {
    int s = must_take(P);
    CHECK_RC(rt_spawn(h, chain_fn, enc(PARENT_LEDGER, s)), RT_OK);
    atomic_fetch_add(&P->accepted, 1);
  }
  WAIT_UNTIL(atomic_load(&P->ran_total) >= 8); /* in flight */
  static brood_t b;
  for (unsigned i = 0; i < nchildren; i++) {
    pid_t pid = fork_or_fail();
    if (pid == 0) {
      /* The parent's runtime: refused here, and nothing of it runs. */
      int before = atomic_load(&P->ran_total);
      CHECK_RC(rt_spawn(h, leaf_fn, enc(PARENT_LEDGER, 0)), RT_ESHUTDOWN);
      CHECK_TRUE(get_stats(h).shutdown);
      /* ThreadSanitizer cannot start threads in the child of a
       * multithreaded process: there, only the refusal. */
      if (!UNDER_TSAN) {
        int accepted = child_workload(fans, per_fan, NULL);
        CHECK_GE(accepted, (int)(fans * (per_fan + 3)));
      }
      CHECK_EQ(atomic_load(&P->ran_total), before);
      child_exit(0);
    }
    brood_add(&b, pid);
    /* The parent keeps serving between forks. */
    for (int k = 0; k < 50; k++)
      spawn_leaf(P);
    int s = must_take(P);
    void *res = NULL;
    CHECK_RC(rt_block_on(h, leaf_call, enc(PARENT_LEDGER, s), &res), RT_OK);
    atomic_fetch_add(&P->accepted, 1);
  }
  /* And while the children work. */
  while (brood_poll(&b) > 0 && now_ns() < deadline) {
    for (int k = 0; k < 20; k++)
      spawn_leaf(P);
    sleep_ms(2);
  }
  brood_finish(&b, deadline);
  atomic_store(&P->stop, true);
  WAIT_UNTIL(atomic_load(&P->chains) == 0);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  printf("%d children; the parent ran %d tasks meanwhile; %.1f s\n", b.n,
         atomic_load(&P->ran_total), seconds_since(start));
  check_ledger(P);
  rt_handle_release(h);
  brood_check(&b, "fork_usage_prefork_server");
}
