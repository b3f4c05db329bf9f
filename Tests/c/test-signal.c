/* test-signal.c — rt_signal_slot_*: work posted from signal handlers.
 *
 * The storm: a 10 kHz timer signal for 2 s, delivered to whichever thread
 * (the test's, busy spawning, or a worker, busy running and spawning,
 * perhaps inside the library with a lock held); the handler posts. No
 * deadlock (a watchdog thread, which blocks the signal, ends the process
 * if the test stops moving), runs between 1 and the posts, never two runs
 * at once, errno kept, and a post after the storm is answered by a run
 * that starts after it. Then the slot's life: drop once, shutdown, free,
 * fork. */
#include "harness.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* The storm                                                                 */
/* ------------------------------------------------------------------------ */

static rt_signal_slot_t *storm_slot;
static atomic_uint_least64_t delivered;   /* handler entries */
static atomic_uint_least64_t overruns;    /* expirations merged into a pending signal */
static atomic_uint_least64_t attempts;    /* posts begun (counted before each) */
static atomic_uint_least64_t posted_ok;   /* posts that returned RT_OK */
static atomic_uint_least64_t post_failed; /* posts that returned anything else */
static atomic_uint_least64_t errno_moved; /* handler entries that changed errno */
static atomic_uint_least64_t runs;
static atomic_uint_least64_t seen_at_run; /* `attempts` when the latest run started */
static atomic_int in_run, overlaps;

static void storm_run(void *arg) {
  (void)arg;
  if (atomic_fetch_add(&in_run, 1) != 0)
    atomic_fetch_add(&overlaps, 1);
  atomic_store(&seen_at_run, atomic_load(&attempts));
  atomic_fetch_add(&runs, 1);
  atomic_fetch_sub(&in_run, 1);
}

static void on_storm_signal(int sig, siginfo_t *info, void *context) {
  (void)sig;
  (void)context;
  int saved = errno;
  atomic_fetch_add(&delivered, 1);
  if (info != NULL && info->si_code == SI_TIMER && info->si_overrun > 0)
    atomic_fetch_add(&overruns, (uint64_t)info->si_overrun);
  atomic_fetch_add(&attempts, 1);
  if (rt_signal_slot_post(storm_slot) == RT_OK)
    atomic_fetch_add(&posted_ok, 1);
  else
    atomic_fetch_add(&post_failed, 1);
  if (errno != saved)
    atomic_fetch_add(&errno_moved, 1);
}

/* Busy work for the workers: a little spinning, and now and then a child. */
static atomic_uint_least64_t busy_ran, spawn_failed;

static void busy_task(void *arg) {
  volatile unsigned spin = 0;
  for (int i = 0; i < 200; i++)
    spin += (unsigned)i;
  if (arg != NULL) {
    int rc = rt_spawn(rt_handle_current(), busy_task, NULL);
    if (rc != RT_OK && rc != RT_EAGAIN) /* the queue is bounded */
      atomic_fetch_add(&spawn_failed, 1);
  }
  atomic_fetch_add(&busy_ran, 1);
}

/* The watchdog: moves on `progress`; if it stays still for 20 s, the test
 * is stuck (a handler that deadlocked a thread) and ends with a message.
 * It blocks the storm's signal, so it never runs the handler itself. */
static atomic_int watchdog_stop;
static atomic_uint_least64_t progress;

static void *watchdog_main(void *arg) {
  (void)arg;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  uint64_t last = atomic_load(&progress), since = now_ns();
  while (!atomic_load(&watchdog_stop)) {
    sleep_ms(50);
    uint64_t now = atomic_load(&progress);
    if (now != last) {
      last = now;
      since = now_ns();
    } else if (now_ns() - since > 20000 * MS) {
      fprintf(stderr, "watchdog: no progress for 20 s (deadlock?): %llu signals, %llu runs\n",
              (unsigned long long)atomic_load(&delivered), (unsigned long long)atomic_load(&runs));
      fflush(NULL);
      _exit(3);
    }
  }
  return NULL;
}

TEST(signal_slot_storm) {
  rt_runtime_t *rt = make_rt(2, 4096);
  rt_handle_t *h = rt_handle(rt);
  storm_slot = rt_signal_slot_new(h, storm_run, NULL, NULL);
  CHECK_NOT_NULL(storm_slot);

  pthread_t watchdog;
  CHECK_EQ(pthread_create(&watchdog, NULL, watchdog_main, NULL), 0);

  /* Process-directed: the kernel picks any thread that does not block it. */
  long interval_ns = under_valgrind() ? 1000000 : 100000; /* 10 kHz */
  timer_t timer = signal_storm_start(SIGUSR1, on_storm_signal, interval_ns);

  uint64_t storm_ns = 2000 * MS, start = now_ns();
  uint64_t spawned = 0, full = 0;
  while (now_ns() - start < storm_ns) {
    int rc = rt_spawn(h, busy_task, (spawned % 16 == 0) ? (void *)1 : NULL);
    if (rc == RT_OK)
      spawned++;
    else if (rc == RT_EAGAIN)
      full++, sched_yield();
    else
      FAIL("rt_spawn during the storm: %s", rt_code_name(rc));
    atomic_fetch_add(&progress, 1);
  }
  signal_storm_stop(timer);

  /* Every post made is answered: a run starts after the last one. */
  WAIT_UNTIL(atomic_load(&seen_at_run) == atomic_load(&attempts));
  uint64_t storm_runs = atomic_load(&runs), storm_posts = atomic_load(&posted_ok);
  uint64_t storm_signals = atomic_load(&delivered) + atomic_load(&overruns);
  uint64_t storm_delivered = atomic_load(&delivered);
  /* A post after the storm, from a handler on this thread. */
  CHECK_EQ(raise(SIGUSR1), 0);
  uint64_t last = atomic_load(&attempts);
  WAIT_UNTIL(atomic_load(&seen_at_run) == last);
  CHECK_GT(atomic_load(&runs), storm_runs);

  /* A timer's signal still pending when it expires again is not sent
   * twice: the kernel counts an overrun instead. */
  printf("storm: %.1f s at %.0f Hz, %llu expirations, %llu signals delivered, %llu posts, %llu "
         "runs (%.1f posts a run); %llu tasks spawned meanwhile (%llu times the queue was full)\n",
         (double)storm_ns / (1000 * MS), 1e9 / (double)interval_ns,
         (unsigned long long)storm_signals, (unsigned long long)storm_delivered,
         (unsigned long long)storm_posts, (unsigned long long)storm_runs,
         storm_runs ? (double)storm_posts / (double)storm_runs : 0.0,
         (unsigned long long)spawned, (unsigned long long)full);
  CHECK_EQ(atomic_load(&post_failed), 0);
  CHECK_EQ(atomic_load(&spawn_failed), 0);
  CHECK_EQ(atomic_load(&errno_moved), 0);
  CHECK_EQ(atomic_load(&overlaps), 0);
  CHECK_GE(storm_runs, 1);
  CHECK_LE(storm_runs, storm_posts);
  CHECK_LE(atomic_load(&runs), atomic_load(&posted_ok));
  CHECK_EQ(atomic_load(&posted_ok), atomic_load(&attempts));
  /* Not a speed requirement: a storm this long must deliver something. */
  CHECK_GT(atomic_load(&delivered), 100);

  signal(SIGUSR1, SIG_IGN);
  rt_signal_slot_free(storm_slot);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  atomic_store(&watchdog_stop, 1);
  CHECK_EQ(pthread_join(watchdog, NULL), 0);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, s.completed);
  rt_handle_release(h);
}

/* ------------------------------------------------------------------------ */
/* The slot's life                                                           */
/* ------------------------------------------------------------------------ */

typedef struct slot_rec {
  atomic_int ran;
  atomic_int dropped;
  atomic_int ran_after_drop;
} slot_rec_t;

static void rec_run(void *p) {
  slot_rec_t *r = p;
  if (atomic_load(&r->dropped))
    atomic_fetch_add(&r->ran_after_drop, 1);
  atomic_fetch_add(&r->ran, 1);
}

static void rec_drop(void *p) { atomic_fetch_add(&((slot_rec_t *)p)->dropped, 1); }

/* Bad arguments: NULL or RT_EINVAL, nothing called. */
TEST(signal_slot_misuse) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  slot_rec_t r = {0};
  CHECK_NULL(rt_signal_slot_new(NULL, rec_run, &r, rec_drop));
  CHECK_NULL(rt_signal_slot_new(h, NULL, &r, rec_drop));
  CHECK_RC(rt_signal_slot_post(NULL), RT_EINVAL);
  rt_signal_slot_free(NULL);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&r.ran) + atomic_load(&r.dropped), 0);
  rt_handle_release(h);
}

/* Posts coalesce into a run; a post before rt_shutdown runs before it
 * returns; after it posts are refused; the free drops `arg` once, and a
 * second free is a no-op. */
TEST(signal_slot_posts_shutdown_and_drop_once) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  slot_rec_t r = {0};
  rt_signal_slot_t *slot = rt_signal_slot_new(h, rec_run, &r, rec_drop);
  CHECK_NOT_NULL(slot);
  /* Held behind a blocker, 100 posts give one run. */
  blocker_t b;
  blocker_init(&b);
  blocker_start(h, &b);
  for (int i = 0; i < 100; i++)
    CHECK_RC(rt_signal_slot_post(slot), RT_OK);
  sleep_ms(10);
  CHECK_EQ(atomic_load(&r.ran), 0);
  gate_open(&b.gate);
  WAIT_UNTIL(atomic_load(&r.ran) == 1);
  sleep_ms(10);
  CHECK_EQ(atomic_load(&r.ran), 1);
  /* Posted just before the shutdown: run before it returns. */
  CHECK_RC(rt_signal_slot_post(slot), RT_OK);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&r.ran), 2);
  CHECK_RC(rt_signal_slot_post(slot), RT_ESHUTDOWN);
  CHECK_NULL(rt_signal_slot_new(h, rec_run, &r, rec_drop));
  CHECK_EQ(atomic_load(&r.dropped), 0);
  rt_signal_slot_free(slot);
  CHECK_EQ(atomic_load(&r.dropped), 1);
  CHECK_EQ(atomic_load(&r.ran), 2);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, s.completed + s.dropped);
  rt_handle_release(h);
  gate_destroy(&b.gate);
}

/* Freed while a run runs and another post waits for it to end: that run
 * finishes, no other is queued after the free, and the drop comes after
 * the run, once; a second free is refused while the run holds the slot. */
typedef struct gated_rec {
  slot_rec_t rec;
  atomic_int entered;
  atomic_int leave;
} gated_rec_t;

static void gated_run(void *p) {
  gated_rec_t *g = p;
  atomic_fetch_add(&g->entered, 1);
  while (!atomic_load(&g->leave))
    sched_yield();
  rec_run(&g->rec);
}

static void gated_drop(void *p) { rec_drop(&((gated_rec_t *)p)->rec); }

TEST(signal_slot_free_while_it_runs) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  enum { ROUNDS = 200 };
  for (int i = 0; i < ROUNDS; i++) {
    gated_rec_t g = {0};
    rt_signal_slot_t *slot = rt_signal_slot_new(h, gated_run, &g, gated_drop);
    CHECK_NOT_NULL(slot);
    CHECK_RC(rt_signal_slot_post(slot), RT_OK);
    WAIT_UNTIL(atomic_load(&g.entered) == 1);
    CHECK_RC(rt_signal_slot_post(slot), RT_OK); /* pending behind the run */
    rt_signal_slot_free(slot);
    rt_signal_slot_free(slot); /* refused: the caller's reference went */
    CHECK_EQ(atomic_load(&g.rec.dropped), 0);
    atomic_store(&g.leave, 1);
    WAIT_UNTIL(atomic_load(&g.rec.dropped) == 1);
    CHECK_EQ(atomic_load(&g.rec.ran), 1);
    CHECK_EQ(atomic_load(&g.rec.ran_after_drop), 0);
  }
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

/* The run queued when the worker hears the bell during a task: it runs
 * after the task, then the free drops `arg`. */
static void *post_and_return(void *slot) {
  CHECK_RC(rt_signal_slot_post(slot), RT_OK);
  return slot;
}

TEST(signal_slot_post_from_a_task_and_free_after) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  slot_rec_t r = {0};
  rt_signal_slot_t *slot = rt_signal_slot_new(h, rec_run, &r, rec_drop);
  CHECK_NOT_NULL(slot);
  for (int i = 0; i < 1000; i++) {
    int before = atomic_load(&r.ran);
    rt_task_t *t = NULL;
    CHECK_RC(rt_spawn_full(h, post_and_return, slot, NULL, &t), RT_OK);
    /* Joined: the run may end before the post returns, and a post still
     * inside the call when the shutdown begins may answer RT_ESHUTDOWN. */
    CHECK_RC(rt_task_join(t, -1, NULL), RT_OK);
    rt_task_release(t);
    WAIT_UNTIL(atomic_load(&r.ran) > before);
  }
  rt_signal_slot_free(slot);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&r.ran), 1000);
  CHECK_EQ(atomic_load(&r.dropped), 1);
  rt_handle_release(h);
}

/* fork() without exec: the child's posts are refused, nothing of the slot
 * runs or is dropped there, and the parent's slot works on. */
TEST(signal_slot_fork_child_refuses) {
  slot_rec_t *r = mmap(NULL, sizeof *r, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  CHECK_TRUE(r != MAP_FAILED);
  memset(r, 0, sizeof *r);
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_signal_slot_t *slot = rt_signal_slot_new(h, rec_run, r, rec_drop);
  CHECK_NOT_NULL(slot);
  fflush(NULL);
  pid_t pid = fork();
  CHECK_GE(pid, 0);
  if (pid == 0) {
    alarm(20);
    int ok = rt_signal_slot_post(slot) == RT_ESHUTDOWN &&
             rt_signal_slot_new(h, rec_run, r, rec_drop) == NULL;
    rt_signal_slot_free(slot);
    ok = ok && atomic_load(&r->dropped) == 0 && atomic_load(&r->ran) == 0;
    child_exit(ok ? 0 : 1);
  }
  int status = 0;
  CHECK_EQ(waitpid(pid, &status, 0), pid);
  CHECK_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CHECK_EQ(atomic_load(&r->ran) + atomic_load(&r->dropped), 0);
  CHECK_RC(rt_signal_slot_post(slot), RT_OK);
  WAIT_UNTIL(atomic_load(&r->ran) == 1);
  rt_signal_slot_free(slot);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&r->dropped), 1);
  rt_handle_release(h);
  munmap(r, sizeof *r);
}
