/* test-loop.c — rt_loop_*: the owner runs, any thread posts; order, the
 * fd's readiness, run/timeout codes, block_on, free and shutdown. */
#include "harness.h"

#include <poll.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static bool fd_readable(rt_loop_t *l) {
  struct pollfd p = {rt_loop_fd(l), POLLIN, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static bool fd_readable_within(rt_loop_t *l, int ms) {
  struct pollfd p = {rt_loop_fd(l), POLLIN, 0};
  return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* What a loop job checks about where it runs. */
typedef struct where {
  rt_loop_t *loop;
  rt_handle_t *h;
  pthread_t owner;
  atomic_int ran;
  atomic_int wrong;
} where_t;

static void where_fn(void *arg) {
  where_t *w = arg;
  if (rt_loop_current() != w->loop || rt_handle_current() != w->h || !pthread_equal(pthread_self(), w->owner))
    atomic_fetch_add(&w->wrong, 1);
  atomic_fetch_add(&w->ran, 1);
}

static void post_where(void *arg) {
  where_t *w = arg;
  if (rt_loop_spawn(w->loop, where_fn, w) != RT_OK) atomic_fetch_add(&w->wrong, 1);
}

/* Jobs posted by the owner and by workers run on the owner, with the loop
 * and its runtime current; only when the owner runs them. */
TEST(loop_runs_on_owner) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_loop_t *l = rt_loop_new(h);
  CHECK_NOT_NULL(l);
  where_t w = {.loop = l, .h = h, .owner = pthread_self()};
  CHECK_NULL(rt_loop_current());
  CHECK_RC(rt_loop_spawn(l, where_fn, &w), RT_OK);
  for (int i = 0; i < 10; i++) CHECK_RC(rt_spawn(h, post_where, &w), RT_OK);
  sleep_ms(5);
  CHECK_EQ(atomic_load(&w.ran), 0); /* nothing runs until the owner says so */
  int total = 0;
  while (total < 11) {
    int rc = rt_loop_run(l, -1);
    CHECK_GT(rc, 0);
    total += rc;
  }
  CHECK_EQ(total, 11);
  CHECK_EQ(atomic_load(&w.ran), 11);
  CHECK_EQ(atomic_load(&w.wrong), 0);
  CHECK_NULL(rt_loop_current());
  CHECK_RC(rt_loop_free(l), RT_OK);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_stats_t st = get_stats(h);
  CHECK_EQ(st.spawned, st.completed + st.dropped);
  CHECK_EQ(st.spawned, 21);
  rt_handle_release(h);
}

/* Per-poster order: each of 4 foreign threads and the runtime's tasks post
 * numbered jobs; the owner sees each poster's in order. */
#define POSTERS 4
#define PER_POSTER 20000
typedef struct ordered {
  rt_loop_t *loop;
  long last[POSTERS]; /* touched on the owner only */
  long out_of_order;
  long ran;
} ordered_t;

typedef struct ojob {
  ordered_t *o;
  int poster;
  long seq;
} ojob_t;

static void ordered_fn(void *arg) {
  ojob_t *j = arg;
  if (j->seq != j->o->last[j->poster] + 1) j->o->out_of_order++;
  j->o->last[j->poster] = j->seq;
  j->o->ran++;
}

typedef struct poster_arg {
  ordered_t *o;
  ojob_t *jobs;
  int poster;
} poster_arg_t;

static void *poster_main(void *arg) {
  poster_arg_t *p = arg;
  for (long i = 0; i < PER_POSTER; i++) {
    p->jobs[i] = (ojob_t){p->o, p->poster, i};
    int rc = rt_loop_spawn(p->o->loop, ordered_fn, &p->jobs[i]);
    if (rc != RT_OK) FAIL("rt_loop_spawn: %s", rt_code_name(rc));
  }
  return NULL;
}

TEST(loop_order_per_poster) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  ordered_t o = {.loop = rt_loop_new(h)};
  CHECK_NOT_NULL(o.loop);
  for (int i = 0; i < POSTERS; i++) o.last[i] = -1;
  pthread_t th[POSTERS];
  poster_arg_t args[POSTERS];
  for (int i = 0; i < POSTERS; i++) {
    args[i] = (poster_arg_t){&o, calloc(PER_POSTER, sizeof(ojob_t)), i};
    CHECK_EQ(pthread_create(&th[i], NULL, poster_main, &args[i]), 0);
  }
  while (o.ran < (long)POSTERS * PER_POSTER) {
    /* A mix of bounded and unbounded runs, and waits on the fd. */
    if (o.ran % 3 == 0)
      CHECK_GE(rt_loop_run_pending(o.loop, 7), 0);
    else if (fd_readable_within(o.loop, 100))
      CHECK_GE(rt_loop_run_pending(o.loop, SIZE_MAX), 0);
  }
  for (int i = 0; i < POSTERS; i++) {
    pthread_join(th[i], NULL);
    CHECK_EQ(o.last[i], PER_POSTER - 1);
  }
  CHECK_EQ(o.out_of_order, 0);
  CHECK_EQ(o.ran, (long)POSTERS * PER_POSTER);
  CHECK_RC(rt_loop_run(o.loop, 0), RT_ETIMEDOUT);
  CHECK_RC(rt_loop_free(o.loop), RT_OK);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  for (int i = 0; i < POSTERS; i++) free(args[i].jobs);
  rt_handle_release(h);
}

static void nothing(void *arg) { (void)arg; }

static void post_one_more(void *l) {
  if (rt_loop_spawn(l, nothing, NULL) != RT_OK) FAIL("post from a loop job refused");
}

/* The fd: not readable while nothing is pending; readable after a post;
 * many posts, one readiness; a bounded run that leaves jobs leaves it
 * readable; a post made while the owner drains (by a job) makes it
 * readable again; a drained loop is not readable. */
TEST(loop_fd_edges) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_loop_t *l = rt_loop_new(h);
  CHECK_NOT_NULL(l);
  CHECK_GE(rt_loop_fd(l), 0);
  CHECK_FALSE(fd_readable(l));
  CHECK_RC(rt_loop_run_pending(l, SIZE_MAX), 0);
  CHECK_FALSE(fd_readable(l));
  /* Post after drain. */
  CHECK_RC(rt_loop_spawn(l, nothing, NULL), RT_OK);
  CHECK_TRUE(fd_readable(l));
  CHECK_RC(rt_loop_run_pending(l, SIZE_MAX), 1);
  CHECK_FALSE(fd_readable(l));
  /* Many posts coalesced. */
  for (int i = 0; i < 1000; i++) CHECK_RC(rt_loop_spawn(l, nothing, NULL), RT_OK);
  CHECK_TRUE(fd_readable(l));
  /* max 0 runs none and keeps the fd readable. */
  CHECK_RC(rt_loop_run_pending(l, 0), 0);
  CHECK_TRUE(fd_readable(l));
  CHECK_RC(rt_loop_run_pending(l, 400), 400);
  CHECK_TRUE(fd_readable(l));
  CHECK_RC(rt_loop_run_pending(l, SIZE_MAX), 600);
  CHECK_FALSE(fd_readable(l));
  /* A post while the owner drains: readable afterwards, run next time. */
  CHECK_RC(rt_loop_spawn(l, post_one_more, l), RT_OK);
  CHECK_RC(rt_loop_run_pending(l, SIZE_MAX), 1);
  CHECK_TRUE(fd_readable(l));
  CHECK_RC(rt_loop_run_pending(l, SIZE_MAX), 1);
  CHECK_FALSE(fd_readable(l));
  /* A worker posting in a burst: whenever the owner finds it not
   * readable, a later post makes it readable (never lost). */
  for (int round = 0; round < 200; round++) {
    CHECK_RC(rt_spawn(h, post_one_more, l), RT_OK);
    CHECK_TRUE(fd_readable_within(l, 10000));
    CHECK_GE(rt_loop_run_pending(l, SIZE_MAX), 0);
  }
  /* Everything posted ran; after the last drain nothing is pending. */
  while (rt_loop_run(l, 20 * (int64_t)MS) > 0) {}
  CHECK_RC(rt_loop_run_pending(l, SIZE_MAX), 0);
  CHECK_FALSE(fd_readable(l));
  CHECK_RC(rt_loop_free(l), RT_OK);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_stats_t st = get_stats(h);
  CHECK_EQ(st.spawned, st.completed + st.dropped);
  CHECK_EQ(st.dropped, 0);
  rt_handle_release(h);
}

static void *stop_later(void *l) {
  sleep_ms(20);
  if (rt_loop_stop(l) != RT_OK) FAIL("rt_loop_stop");
  return NULL;
}

/* rt_loop_run: RT_ETIMEDOUT with nothing to run, 0 after rt_loop_stop
 * (one return per stop), the count when jobs ran. */
TEST(loop_run_codes) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_loop_t *l = rt_loop_new(h);
  CHECK_RC(rt_loop_run(l, 0), RT_ETIMEDOUT);
  uint64_t t0 = now_ns();
  CHECK_RC(rt_loop_run(l, 5 * (int64_t)MS), RT_ETIMEDOUT);
  CHECK_GE(now_ns() - t0, 5 * MS);
  pthread_t th;
  CHECK_EQ(pthread_create(&th, NULL, stop_later, l), 0);
  CHECK_RC(rt_loop_run(l, -1), 0);
  pthread_join(th, NULL);
  CHECK_RC(rt_loop_run(l, 0), RT_ETIMEDOUT); /* the stop was consumed */
  CHECK_RC(rt_loop_stop(l), RT_OK);
  CHECK_RC(rt_loop_spawn(l, nothing, NULL), RT_OK);
  CHECK_RC(rt_loop_run(l, -1), 0); /* stop first: the job stays */
  CHECK_RC(rt_loop_run(l, -1), 1);
  /* A delayed job. */
  counter_t c;
  counter_init(&c);
  rt_task_t *t = NULL;
  CHECK_RC(rt_loop_spawn_after(l, 2 * MS, counter_call, &c, counter_drop, &t), RT_OK);
  CHECK_RC(rt_loop_run(l, -1), 1);
  CHECK_EQ(atomic_load(&c.ran), 1);
  void *out = NULL;
  CHECK_RC(rt_task_join(t, -1, &out), RT_OK);
  CHECK_PTR_EQ(out, &c);
  rt_task_release(t);
  CHECK_RC(rt_loop_free(l), RT_OK);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

static void free_from_job(void *l) {
  if (rt_loop_free(l) != RT_EBUSY) FAIL("rt_loop_free from a loop job is not RT_EBUSY");
}

static void *not_owner(void *l) {
  int rc1 = rt_loop_run_pending(l, 1), rc2 = rt_loop_run(l, 0), rc3 = rt_loop_free(l);
  if (rc1 != RT_EINVAL || rc2 != RT_EINVAL || rc3 != RT_EINVAL) FAIL("a non-owner was not refused");
  if (rt_loop_spawn(l, nothing, NULL) != RT_OK) FAIL("a non-owner could not post");
  return NULL;
}

/* Bad arguments: NULLs and a non-owner get RT_EINVAL; a free from the
 * loop's own job RT_EBUSY; a join on the owner of an unrun job
 * RT_EDEADLK. */
TEST(loop_bad_arguments) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  CHECK_NULL(rt_loop_new(NULL));
  CHECK_RC(rt_loop_free(NULL), RT_EINVAL);
  CHECK_RC(rt_loop_fd(NULL), RT_EINVAL);
  CHECK_RC(rt_loop_spawn(NULL, nothing, NULL), RT_EINVAL);
  CHECK_RC(rt_loop_spawn_full(NULL, counter_call, NULL, NULL, NULL), RT_EINVAL);
  CHECK_RC(rt_loop_spawn_after(NULL, 1, counter_call, NULL, NULL, NULL), RT_EINVAL);
  CHECK_RC(rt_loop_block_on(NULL, counter_call, NULL, NULL), RT_EINVAL);
  CHECK_RC(rt_loop_run_pending(NULL, 1), RT_EINVAL);
  CHECK_RC(rt_loop_run(NULL, 0), RT_EINVAL);
  CHECK_RC(rt_loop_stop(NULL), RT_EINVAL);
  rt_loop_t *l = rt_loop_new(h);
  CHECK_RC(rt_loop_spawn(l, NULL, NULL), RT_EINVAL);
  CHECK_RC(rt_loop_spawn_full(l, NULL, NULL, NULL, NULL), RT_EINVAL);
  CHECK_RC(rt_loop_spawn_after(l, 1, NULL, NULL, NULL, NULL), RT_EINVAL);
  CHECK_RC(rt_loop_block_on(l, NULL, NULL, NULL), RT_EINVAL);
  pthread_t th;
  CHECK_EQ(pthread_create(&th, NULL, not_owner, l), 0);
  pthread_join(th, NULL);
  CHECK_RC(rt_loop_spawn(l, free_from_job, l), RT_OK);
  CHECK_RC(rt_loop_run_pending(l, SIZE_MAX), 2);
  counter_t c;
  counter_init(&c);
  rt_task_t *t = NULL;
  CHECK_RC(rt_loop_spawn_full(l, counter_call, &c, counter_drop, &t), RT_OK);
  CHECK_RC(rt_task_join(t, -1, NULL), RT_EDEADLK);
  CHECK_RC(rt_task_join(t, 0, NULL), RT_ETIMEDOUT);
  CHECK_RC(rt_loop_run_pending(l, SIZE_MAX), 1);
  CHECK_RC(rt_task_join(t, -1, NULL), RT_OK);
  rt_task_release(t);
  /* rt_loop_block_on on the owner runs inline. */
  void *out = NULL;
  CHECK_RC(rt_loop_block_on(l, counter_call, &c, &out), RT_OK);
  CHECK_PTR_EQ(out, &c);
  CHECK_EQ(atomic_load(&c.ran), 2);
  CHECK_RC(rt_loop_free(l), RT_OK);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

/* The owner frees the loop while 4 threads post spawn_full jobs with a
 * drop: every accepted job ran or was dropped, once; every refusal after
 * the free is RT_ESHUTDOWN. */
#define RACERS 4
#define RACE_JOBS 5000
typedef struct racer {
  rt_loop_t *loop;
  counter_t *c;
  atomic_int accepted;
  atomic_int refused;
  atomic_int *go;
} racer_t;

static void *racer_main(void *arg) {
  racer_t *r = arg;
  while (!atomic_load(r->go)) {}
  for (int i = 0; i < RACE_JOBS; i++) {
    int rc = rt_loop_spawn_full(r->loop, counter_call, &r->c[i], counter_drop, NULL);
    if (rc == RT_OK)
      atomic_fetch_add(&r->accepted, 1);
    else if (rc == RT_ESHUTDOWN)
      atomic_fetch_add(&r->refused, 1);
    else
      FAIL("rt_loop_spawn_full: %s", rt_code_name(rc));
  }
  return NULL;
}

TEST(loop_free_races_posts) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  for (int round = 0; round < 20; round++) {
    rt_loop_t *l = rt_loop_new(h);
    CHECK_NOT_NULL(l);
    atomic_int go = 0;
    racer_t r[RACERS];
    pthread_t th[RACERS];
    for (int i = 0; i < RACERS; i++) {
      r[i] = (racer_t){.loop = l, .c = calloc(RACE_JOBS, sizeof(counter_t)), .go = &go};
      for (int k = 0; k < RACE_JOBS; k++) counter_init(&r[i].c[k]);
      CHECK_EQ(pthread_create(&th[i], NULL, racer_main, &r[i]), 0);
    }
    atomic_store(&go, 1);
    for (int k = 0; k < round; k++) (void)rt_loop_run_pending(l, 100);
    CHECK_RC(rt_loop_free(l), RT_OK);
    for (int i = 0; i < RACERS; i++) {
      pthread_join(th[i], NULL);
      CHECK_EQ(atomic_load(&r[i].accepted) + atomic_load(&r[i].refused), RACE_JOBS);
      int accepted = 0;
      for (int k = 0; k < RACE_JOBS; k++) {
        int ran = atomic_load(&r[i].c[k].ran), dropped = atomic_load(&r[i].c[k].dropped);
        CHECK_LE(ran + dropped, 1);
        accepted += ran + dropped;
      }
      CHECK_EQ(accepted, atomic_load(&r[i].accepted));
      free(r[i].c);
    }
  }
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_stats_t st = get_stats(h);
  CHECK_EQ(st.spawned, st.completed + st.dropped);
  CHECK_EQ(st.queued, 0);
  rt_handle_release(h);
}

/* A job that waits on a loop from the runtime's only worker: the owner's
 * job spawns onto the runtime and joins it, which only that worker can run
 * (its wait helps). */
typedef struct bo {
  rt_handle_t *h;
  rt_loop_t *loop;
  atomic_int done;
} bo_t;

static void *inner(void *arg) { return arg; }

static void *on_owner(void *arg) {
  bo_t *b = arg;
  void *out = NULL;
  if (rt_block_on(b->h, inner, b, &out) != RT_OK || out != b) FAIL("rt_block_on from the owner");
  return b;
}

static void worker_waits_on_loop(void *arg) {
  bo_t *b = arg;
  void *out = NULL;
  int rc = rt_loop_block_on(b->loop, on_owner, b, &out);
  if (rc != RT_OK || out != b) FAIL("rt_loop_block_on from a worker: %s", rt_code_name(rc));
  atomic_store(&b->done, 1);
}

TEST(loop_block_on_from_one_worker) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  bo_t b = {.h = h, .loop = rt_loop_new(h)};
  for (int i = 0; i < 50; i++) {
    atomic_store(&b.done, 0);
    CHECK_RC(rt_spawn(h, worker_waits_on_loop, &b), RT_OK);
    while (!atomic_load(&b.done)) (void)rt_loop_run(b.loop, 10 * (int64_t)MS);
  }
  CHECK_RC(rt_loop_free(b.loop), RT_OK);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

static void post_many(void *l) {
  for (int i = 0; i < 100; i++)
    if (rt_loop_spawn(l, nothing, NULL) != RT_OK) FAIL("a worker's post during the drain was refused");
}

/* A graceful shutdown called on the owner runs the owner's loop jobs
 * while it waits, those the draining tasks post too. */
TEST(loop_shutdown_on_owner_runs_jobs) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_loop_t *l = rt_loop_new(h);
  for (int i = 0; i < 10; i++) CHECK_RC(rt_spawn(h, post_many, l), RT_OK);
  CHECK_RC(rt_loop_spawn(l, nothing, NULL), RT_OK);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_stats_t st = get_stats(h);
  CHECK_EQ(st.spawned, 10 + 1 + 1000);
  CHECK_EQ(st.completed, st.spawned);
  CHECK_RC(rt_loop_spawn(l, nothing, NULL), RT_ESHUTDOWN);
  CHECK_RC(rt_loop_run_pending(l, SIZE_MAX), 0);
  CHECK_RC(rt_loop_free(l), RT_OK);
  rt_handle_release(h);
}

/* A loop whose owner never runs it: rt_shutdown_timeout drops its jobs
 * once, timers too; later posts are refused; the free drops nothing. */
typedef struct idle_owner {
  rt_handle_t *h;
  rt_loop_t *loop;
  gate_t made, release;
} idle_owner_t;

static void *idle_owner_main(void *arg) {
  idle_owner_t *o = arg;
  o->loop = rt_loop_new(o->h);
  gate_open(&o->made);
  gate_wait(&o->release);
  if (rt_loop_free(o->loop) != RT_OK) FAIL("rt_loop_free after the shutdown");
  return NULL;
}

TEST(loop_shutdown_timeout_drops) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  idle_owner_t o = {.h = h};
  gate_init(&o.made);
  gate_init(&o.release);
  pthread_t th;
  CHECK_EQ(pthread_create(&th, NULL, idle_owner_main, &o), 0);
  gate_wait(&o.made);
  CHECK_NOT_NULL(o.loop);
  enum { N = 100 };
  counter_t c[N + 1];
  for (int i = 0; i <= N; i++) counter_init(&c[i]);
  for (int i = 0; i < N; i++) CHECK_RC(rt_loop_spawn_full(o.loop, counter_call, &c[i], counter_drop, NULL), RT_OK);
  CHECK_RC(rt_loop_spawn_after(o.loop, 3600 * 1000 * MS, counter_call, &c[N], counter_drop, NULL), RT_OK);
  CHECK_RC(rt_shutdown_timeout(rt, 10 * MS), RT_ETIMEDOUT);
  for (int i = 0; i <= N; i++) {
    CHECK_EQ(atomic_load(&c[i].ran), 0);
    CHECK_EQ(atomic_load(&c[i].dropped), 1);
  }
  CHECK_RC(rt_loop_spawn(o.loop, never_fn, NULL), RT_ESHUTDOWN);
  gate_open(&o.release);
  pthread_join(th, NULL);
  for (int i = 0; i <= N; i++) CHECK_EQ(atomic_load(&c[i].dropped), 1);
  rt_stats_t st = get_stats(h);
  CHECK_EQ(st.spawned, st.completed + st.dropped);
  CHECK_EQ(st.dropped, N + 1);
  gate_destroy(&o.made);
  gate_destroy(&o.release);
  rt_handle_release(h);
}

/* The free drops the pending jobs on the owner; a delayed job still
 * pending when its loop is freed is dropped when it falls due. */
TEST(loop_free_drops_pending_and_delayed) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_loop_t *l = rt_loop_new(h);
  counter_t now, later;
  counter_init(&now);
  counter_init(&later);
  CHECK_RC(rt_loop_spawn_full(l, counter_call, &now, counter_drop, NULL), RT_OK);
  rt_task_t *t = NULL;
  CHECK_RC(rt_loop_spawn_after(l, 5 * MS, counter_call, &later, counter_drop, &t), RT_OK);
  CHECK_RC(rt_loop_free(l), RT_OK);
  CHECK_EQ(atomic_load(&now.dropped), 1);
  CHECK_TRUE(pthread_equal((pthread_t)atomic_load(&now.dropped_on), pthread_self()));
  CHECK_RC(rt_task_join(t, -1, NULL), RT_ECANCELED);
  CHECK_EQ(atomic_load(&later.dropped), 1);
  CHECK_EQ(atomic_load(&later.ran), 0);
  rt_task_release(t);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_stats_t st = get_stats(h);
  CHECK_EQ(st.spawned, 2);
  CHECK_EQ(st.dropped, 2);
  rt_handle_release(h);
}

/* fork() without exec: in the child an inherited loop runs nothing,
 * refuses posts, and its free runs no drop. */
TEST(loop_fork_child_runs_nothing) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_loop_t *l = rt_loop_new(h);
  counter_t c;
  counter_init(&c);
  CHECK_RC(rt_loop_spawn_full(l, counter_call, &c, counter_drop, NULL), RT_OK);
  fflush(NULL);
  pid_t pid = fork();
  CHECK_GE(pid, 0);
  if (pid == 0) {
    int ok = rt_loop_run_pending(l, SIZE_MAX) == RT_ESHUTDOWN && rt_loop_run(l, 0) == RT_ESHUTDOWN &&
             rt_loop_spawn(l, never_fn, NULL) == RT_ESHUTDOWN &&
             rt_loop_block_on(l, never_call, NULL, NULL) == RT_ESHUTDOWN && rt_loop_new(h) == NULL &&
             rt_loop_free(l) == RT_OK && atomic_load(&c.ran) == 0 && atomic_load(&c.dropped) == 0;
    if (!ok) fprintf(stderr, "loop_fork_child_runs_nothing: a loop call in the child did not refuse\n");
    child_exit(ok ? 0 : 1);
  }
  int status = 0;
  CHECK_EQ(waitpid(pid, &status, 0), pid);
  CHECK_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CHECK_RC(rt_loop_run_pending(l, SIZE_MAX), 1);
  CHECK_EQ(atomic_load(&c.ran), 1);
  CHECK_RC(rt_loop_free(l), RT_OK);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

static rt_runtime_t *deadlock_rt;
static atomic_int shutdown_rc;

static void shutdown_from_job(void *arg) {
  (void)arg;
  atomic_store(&shutdown_rc, rt_shutdown(deadlock_rt));
}

/* rt_shutdown from one of the loop's own jobs would wait for that job:
 * RT_EDEADLK, nothing changed. */
TEST(loop_shutdown_from_job_edeadlk) {
  deadlock_rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(deadlock_rt);
  rt_loop_t *l = rt_loop_new(h);
  CHECK_RC(rt_loop_spawn(l, shutdown_from_job, NULL), RT_OK);
  CHECK_RC(rt_loop_run(l, -1), 1);
  CHECK_RC(atomic_load(&shutdown_rc), RT_EDEADLK);
  CHECK_RC(rt_loop_spawn(l, nothing, NULL), RT_OK); /* still running */
  CHECK_RC(rt_loop_run(l, -1), 1);
  CHECK_RC(rt_loop_free(l), RT_OK);
  CHECK_RC(rt_shutdown(deadlock_rt), RT_OK);
  rt_handle_release(h);
}

/* An owner that ends without rt_loop_free: its exit frees the loop, so
 * the pending jobs are dropped once, later posts are refused, and a
 * graceful shutdown does not wait for jobs nobody may run. */
static void *exiting_owner_main(void *arg) {
  idle_owner_t *o = arg;
  o->loop = rt_loop_new(o->h);
  gate_open(&o->made);
  gate_wait(&o->release);
  return NULL; /* no rt_loop_free */
}

TEST(loop_owner_exit_drops_pending) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  idle_owner_t o = {.h = h};
  gate_init(&o.made);
  gate_init(&o.release);
  pthread_t th;
  CHECK_EQ(pthread_create(&th, NULL, exiting_owner_main, &o), 0);
  gate_wait(&o.made);
  CHECK_NOT_NULL(o.loop);
  enum { N = 50 };
  counter_t c[N];
  for (int i = 0; i < N; i++) counter_init(&c[i]);
  for (int i = 0; i < N; i++) CHECK_RC(rt_loop_spawn_full(o.loop, counter_call, &c[i], counter_drop, NULL), RT_OK);
  gate_open(&o.release);
  CHECK_EQ(pthread_join(th, NULL), 0);
  for (int i = 0; i < N; i++) {
    CHECK_EQ(atomic_load(&c[i].ran), 0);
    CHECK_EQ(atomic_load(&c[i].dropped), 1);
  }
  CHECK_RC(rt_loop_spawn(o.loop, never_fn, NULL), RT_ESHUTDOWN);
  CHECK_RC(rt_loop_free(o.loop), RT_EINVAL); /* not the owner (which is gone) */
  rt_stats_t st = get_stats(h);
  CHECK_EQ(st.dropped, N);
  rt_handle_release(h);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  gate_destroy(&o.made);
  gate_destroy(&o.release);
}

/* Posts coalesce their eventfd writes: between two drains only the post
 * that found the loop unsignalled writes, so the counter reads 1 however
 * many threads posted; and a wake-up is never lost after a drain. */
#define COALESCE_THREADS 4
#define COALESCE_POSTS 1000

static void *coalesce_poster(void *l) {
  for (int i = 0; i < COALESCE_POSTS; i++)
    if (rt_loop_spawn(l, nothing, NULL) != RT_OK) return (void *)1;
  return NULL;
}

static uint64_t read_counter(rt_loop_t *l) {
  uint64_t value = 0;
  return read(rt_loop_fd(l), &value, sizeof value) == (ssize_t)sizeof value ? value : 0;
}

TEST(loop_fd_coalesces_writes) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  rt_loop_t *l = rt_loop_new(h);
  CHECK_NOT_NULL(l);
  for (int round = 0; round < 3; round++) {
    pthread_t th[COALESCE_THREADS];
    for (int i = 0; i < COALESCE_THREADS; i++) CHECK_EQ(pthread_create(&th[i], NULL, coalesce_poster, l), 0);
    for (int i = 0; i < COALESCE_THREADS; i++) {
      void *failed = (void *)1;
      CHECK_EQ(pthread_join(th[i], &failed), 0);
      CHECK_NULL(failed);
    }
    CHECK_TRUE(fd_readable(l));
    CHECK_EQ(read_counter(l), 1);
    /* Consumed by hand: the jobs are still there for the drain. */
    CHECK_FALSE(fd_readable(l));
    CHECK_RC(rt_loop_run_pending(l, SIZE_MAX), COALESCE_THREADS * COALESCE_POSTS);
    CHECK_FALSE(fd_readable(l));
    /* The first post after a drain writes afresh. */
    CHECK_RC(rt_loop_spawn(l, nothing, NULL), RT_OK);
    CHECK_TRUE(fd_readable(l));
    CHECK_RC(rt_loop_run_pending(l, SIZE_MAX), 1);
  }
  CHECK_RC(rt_loop_free(l), RT_OK);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_stats_t st = get_stats(h);
  CHECK_EQ(st.spawned, st.completed + st.dropped);
  CHECK_EQ(st.dropped, 0);
  rt_handle_release(h);
}
