/* ordered.c — ordered and grouped work against libdispatch, in one process
 * (2 workers for rtctx; libdispatch's global queue is as wide as the CPUs).
 *
 *   S1     1,000,000 jobs posted from one thread onto ONE serial queue
 *          (rt_strand_spawn / dispatch_async_f on a serial queue /
 *          a mutex + queue "strand" on rt_spawn, as a user would write it),
 *          until the last ran: ns/job
 *   S1000  the same jobs spread round-robin over 1000 serial queues
 *   G      1,000,000 jobs into one group, then a wait for the group
 *          (rt_group_spawn + rt_group_wait / dispatch_group_async_f +
 *          dispatch_group_wait): ns/job
 *
 * Each row is the median of 5 runs; every job bumps one counter, and the
 * job that brings it to N posts a semaphore the poster waits on.
 *
 *   build/bench/ordered [N]     one line per row and system, then the ratios
 */
#define _GNU_SOURCE
#include <dispatch/dispatch.h>
#include <pthread.h>
#include <rtctx.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long N = 1000000;
static atomic_long done;
static sem_t all_done;

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void job(void *arg) {
  (void)arg;
  if (atomic_fetch_add_explicit(&done, 1, memory_order_relaxed) + 1 == N)
    sem_post(&all_done);
}

static void reset(void) { atomic_store(&done, 0); }
static void wait_all(void) {
  while (sem_wait(&all_done) != 0) {
  }
}

/* --- rtctx strands ------------------------------------------------------ */

static rt_handle_t *H;

static double run_rtctx_strands(int queues) {
  rt_strand_t **s = calloc((size_t)queues, sizeof *s);
  for (int i = 0; i < queues; i++)
    s[i] = rt_strand_new(H);
  reset();
  double t0 = now_ns();
  for (long i = 0; i < N; i++)
    while (rt_strand_spawn(s[i % queues], job, NULL) != RT_OK) {
    }
  wait_all();
  double t = (now_ns() - t0) / (double)N;
  for (int i = 0; i < queues; i++)
    rt_strand_release(s[i]);
  free(s);
  return t;
}

/* --- libdispatch serial queues ------------------------------------------ */

static double run_dispatch(int queues) {
  dispatch_queue_t *q = calloc((size_t)queues, sizeof *q);
  for (int i = 0; i < queues; i++)
    q[i] = dispatch_queue_create("ordered", DISPATCH_QUEUE_SERIAL);
  reset();
  double t0 = now_ns();
  for (long i = 0; i < N; i++)
    dispatch_async_f(q[i % queues], NULL, job);
  wait_all();
  double t = (now_ns() - t0) / (double)N;
  for (int i = 0; i < queues; i++)
    dispatch_release(q[i]);
  free(q);
  return t;
}

/* --- groups --------------------------------------------------------------- */

static void *gjob(void *arg) {
  (void)arg;
  atomic_fetch_add_explicit(&done, 1, memory_order_relaxed);
  return NULL;
}

static void gjob_void(void *arg) { (void)gjob(arg); }

static double run_rtctx_group(int unused) {
  (void)unused;
  rt_group_t *g = rt_group_new(H);
  reset();
  double t0 = now_ns();
  for (long i = 0; i < N; i++)
    while (rt_group_spawn(g, gjob, NULL, NULL) != RT_OK) {
    }
  if (rt_group_wait(g, -1) != RT_OK || atomic_load(&done) != N)
    abort();
  double t = (now_ns() - t0) / (double)N;
  rt_group_release(g);
  return t;
}

static double run_dispatch_group(int unused) {
  (void)unused;
  dispatch_queue_t q = dispatch_get_global_queue(DISPATCH_QUEUE_PRIORITY_DEFAULT, 0);
  dispatch_group_t g = dispatch_group_create();
  reset();
  double t0 = now_ns();
  for (long i = 0; i < N; i++)
    dispatch_group_async_f(g, q, NULL, gjob_void);
  dispatch_group_wait(g, DISPATCH_TIME_FOREVER);
  if (atomic_load(&done) != N)
    abort();
  double t = (now_ns() - t0) / (double)N;
  dispatch_release(g);
  return t;
}

/* --- a strand by hand: a mutex, a queue and a "scheduled" flag on rt_spawn */

struct node {
  struct node *next;
  rt_fn fn;
  void *arg;
};

struct hand_strand {
  pthread_mutex_t mu;
  struct node *head, *tail;
  int scheduled;
};

static void hand_drain(void *p) {
  struct hand_strand *s = p;
  for (;;) {
    pthread_mutex_lock(&s->mu);
    struct node *n = s->head;
    if (n == NULL) {
      s->scheduled = 0;
      pthread_mutex_unlock(&s->mu);
      return;
    }
    s->head = n->next;
    if (s->head == NULL)
      s->tail = NULL;
    pthread_mutex_unlock(&s->mu);
    n->fn(n->arg);
    free(n);
  }
}

static void hand_post(struct hand_strand *s, rt_fn fn, void *arg) {
  struct node *n = malloc(sizeof *n);
  n->next = NULL;
  n->fn = fn;
  n->arg = arg;
  pthread_mutex_lock(&s->mu);
  if (s->tail)
    s->tail->next = n;
  else
    s->head = n;
  s->tail = n;
  int wake = !s->scheduled;
  s->scheduled = 1;
  pthread_mutex_unlock(&s->mu);
  if (wake)
    while (rt_spawn(H, hand_drain, s) != RT_OK) {
    }
}

static double run_hand(int queues) {
  struct hand_strand *s = calloc((size_t)queues, sizeof *s);
  for (int i = 0; i < queues; i++)
    pthread_mutex_init(&s[i].mu, NULL);
  reset();
  double t0 = now_ns();
  for (long i = 0; i < N; i++)
    hand_post(&s[i % queues], job, NULL);
  wait_all();
  double t = (now_ns() - t0) / (double)N;
  /* The last drain may still be unlocking: wait for every flag to drop. */
  for (int i = 0; i < queues; i++) {
    for (;;) {
      pthread_mutex_lock(&s[i].mu);
      int busy = s[i].scheduled;
      pthread_mutex_unlock(&s[i].mu);
      if (!busy)
        break;
    }
    pthread_mutex_destroy(&s[i].mu);
  }
  free(s);
  return t;
}

/* --- the table ---------------------------------------------------------- */

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median5(double (*run)(int), int queues) {
  double t[5];
  for (int i = 0; i < 5; i++)
    t[i] = run(queues);
  qsort(t, 5, sizeof t[0], cmp);
  return t[2];
}

int main(int argc, char **argv) {
  if (argc > 1)
    N = atol(argv[1]);
  sem_init(&all_done, 0, 0);
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = 2;
  rt_runtime_t *rt = rt_new(&cfg);
  H = rt_handle(rt);
  static const int rows[] = {1, 1000};
  for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
    int q = rows[r];
    double strand = median5(run_rtctx_strands, q);
    double disp = median5(run_dispatch, q);
    double hand = median5(run_hand, q);
    printf("S%-5d rtctx strand %7.1f ns/job | libdispatch serial queue %7.1f | mutex+queue on rt_spawn %7.1f"
           " | rtctx/libdispatch %.2f\n",
           q, strand, disp, hand, strand / disp);
  }
  double group = median5(run_rtctx_group, 0);
  double dgroup = median5(run_dispatch_group, 0);
  printf("G      rtctx group    %7.1f ns/job | libdispatch group        %7.1f | rtctx/libdispatch %.2f\n",
         group, dgroup, group / dgroup);
  if (rt_shutdown(rt) != RT_OK)
    return 1;
  rt_handle_release(H);
  return 0;
}
