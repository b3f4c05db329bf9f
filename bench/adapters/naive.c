/* The naive baseline: one worker thread, a linked list of malloc'd nodes
 * under a pthread mutex, a condition variable signalled on every post.
 * Round trip = a post + a mutex/condvar "done" wait. */
#include "../bench.h"

#include <pthread.h>
#include <stdlib.h>

struct node { task_fn fn; void *arg; struct node *next; };

struct nctx {
  pthread_mutex_t mu;
  pthread_cond_t cond;
  struct node *head, *tail;
  int stop;
  pthread_t thread;
  pthread_mutex_t dmu;
  pthread_cond_t dcond;
  int dflag;
};
static struct nctx the = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0,
                          PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};

static void *worker(void *p) {
  struct nctx *n = p;
  for (;;) {
    pthread_mutex_lock(&n->mu);
    while (!n->head && !n->stop) pthread_cond_wait(&n->cond, &n->mu);
    struct node *j = n->head;
    if (!j) { /* stop and drained */
      pthread_mutex_unlock(&n->mu);
      return NULL;
    }
    n->head = j->next;
    if (!n->head) n->tail = NULL;
    pthread_mutex_unlock(&n->mu);
    j->fn(j->arg);
    free(j);
  }
}

static void *n_init(unsigned workers) {
  (void)workers; /* one worker, by design */
  if (pthread_create(&the.thread, NULL, worker, &the) != 0) bench_die("pthread_create failed");
  return &the;
}

static void n_spawn(void *c, task_fn fn, void *arg) {
  struct nctx *n = c;
  struct node *j = malloc(sizeof *j);
  if (!j) bench_die("out of memory");
  j->fn = fn;
  j->arg = arg;
  j->next = NULL;
  pthread_mutex_lock(&n->mu);
  if (n->tail) n->tail->next = j;
  else n->head = j;
  n->tail = j;
  pthread_cond_signal(&n->cond);
  pthread_mutex_unlock(&n->mu);
}

struct hop { task_fn fn; void *arg; struct nctx *n; };
static void hop_body(void *p) {
  struct hop *h = p;
  h->fn(h->arg);
  pthread_mutex_lock(&h->n->dmu);
  h->n->dflag = 1;
  pthread_cond_signal(&h->n->dcond);
  pthread_mutex_unlock(&h->n->dmu);
}

static void n_roundtrip(void *c, task_fn fn, void *arg) {
  struct nctx *n = c;
  struct hop h = {fn, arg, n};
  n_spawn(c, hop_body, &h);
  pthread_mutex_lock(&n->dmu);
  while (!n->dflag) pthread_cond_wait(&n->dcond, &n->dmu);
  n->dflag = 0;
  pthread_mutex_unlock(&n->dmu);
}

static unsigned n_threads(void *c) { (void)c; return 1; }

static void n_shutdown(void *c) {
  struct nctx *n = c;
  pthread_mutex_lock(&n->mu);
  n->stop = 1;
  pthread_cond_signal(&n->cond);
  pthread_mutex_unlock(&n->mu);
  pthread_join(n->thread, NULL);
}

static const struct roundtrip n_rts[] = {
    {"post+condvar wait", 0, n_roundtrip},
};

const struct adapter bench_adapter = {
    .name = "naive",
    .api = "one worker, malloc'd list, pthread mutex + condvar (signal per post)",
    .version = 0,
    .task_threads = n_threads,
    .init = n_init,
    .spawn = n_spawn,
    .spawn_from_task = n_spawn,
    .roundtrips = n_rts,
    .n_roundtrips = 1,
    .shutdown = n_shutdown,
};
