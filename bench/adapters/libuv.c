/* libuv: its ordinary way to run work from other threads. A loop thread owns
 * a uv_async_t; outside threads (and tasks, which run on pool threads where
 * uv_queue_work may not be called) append to a mutex-protected queue and call
 * uv_async_send; the loop's async callback hands each job to uv_queue_work,
 * which runs it on libuv's thread pool (UV_THREADPOOL_SIZE = workers, 2).
 * Round trip = that path + a uv_sem_t wait. */
#include "../bench.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <uv.h>

struct job {
  uv_work_t req; /* first: req.data is unused, the cast gets the job back */
  task_fn fn;
  void *arg;
  struct job *next;
};

struct uctx {
  uv_loop_t loop;
  uv_async_t async;
  uv_mutex_t mu;
  struct job *head, *tail;
  atomic_int stopping;
  uv_thread_t thread;
  unsigned workers;
  uv_sem_t sem; /* the round-trip caller's, reused */
};
static struct uctx the;

static void work_cb(uv_work_t *req) {
  struct job *j = (struct job *)req;
  j->fn(j->arg);
}

static void after_cb(uv_work_t *req, int status) {
  (void)status;
  free(req);
}

static void async_cb(uv_async_t *a) {
  struct uctx *u = a->data;
  uv_mutex_lock(&u->mu);
  struct job *j = u->head;
  u->head = u->tail = NULL;
  uv_mutex_unlock(&u->mu);
  while (j) {
    struct job *next = j->next;
    if (uv_queue_work(&u->loop, &j->req, work_cb, after_cb) != 0)
      bench_die("uv_queue_work failed");
    j = next;
  }
  if (atomic_load(&u->stopping)) uv_close((uv_handle_t *)&u->async, NULL);
}

static void loop_main(void *p) {
  struct uctx *u = p;
  uv_run(&u->loop, UV_RUN_DEFAULT);
}

static void *u_init(unsigned workers) {
  char n[16];
  snprintf(n, sizeof n, "%u", workers);
  setenv("UV_THREADPOOL_SIZE", n, 1); /* read when the pool first starts */
  struct uctx *u = &the;
  u->workers = workers;
  if (uv_loop_init(&u->loop) != 0) bench_die("uv_loop_init failed");
  if (uv_async_init(&u->loop, &u->async, async_cb) != 0) bench_die("uv_async_init failed");
  u->async.data = u;
  uv_mutex_init(&u->mu);
  uv_sem_init(&u->sem, 0);
  if (uv_thread_create(&u->thread, loop_main, u) != 0) bench_die("uv_thread_create failed");
  return u;
}

static void u_spawn(void *c, task_fn fn, void *arg) {
  struct uctx *u = c;
  struct job *j = malloc(sizeof *j);
  if (!j) bench_die("out of memory");
  j->fn = fn;
  j->arg = arg;
  j->next = NULL;
  uv_mutex_lock(&u->mu);
  if (u->tail) u->tail->next = j;
  else u->head = j;
  u->tail = j;
  uv_mutex_unlock(&u->mu);
  if (uv_async_send(&u->async) != 0) bench_die("uv_async_send failed");
}

struct hop { task_fn fn; void *arg; uv_sem_t *sem; };
static void hop_body(void *p) {
  struct hop *h = p;
  h->fn(h->arg);
  uv_sem_post(h->sem);
}

static void u_roundtrip(void *c, task_fn fn, void *arg) {
  struct uctx *u = c;
  struct hop h = {fn, arg, &u->sem};
  u_spawn(c, hop_body, &h);
  uv_sem_wait(&u->sem);
}

static unsigned u_threads(void *c) { return ((struct uctx *)c)->workers; }

static void u_shutdown(void *c) {
  struct uctx *u = c;
  atomic_store(&u->stopping, 1);
  uv_async_send(&u->async);
  uv_thread_join(&u->thread); /* uv_run returns once all work is done */
  uv_loop_close(&u->loop);
  uv_mutex_destroy(&u->mu);
  uv_sem_destroy(&u->sem);
}

static const struct roundtrip u_rts[] = {
    {"uv_async_send+uv_queue_work+uv_sem", 0, u_roundtrip},
};

const struct adapter bench_adapter = {
    .name = "libuv",
    .api = "mutex queue + uv_async_send to a loop thread, uv_queue_work on the pool (UV_THREADPOOL_SIZE=2)",
    .version = uv_version_string,
    .task_threads = u_threads,
    .init = u_init,
    .spawn = u_spawn,
    .spawn_from_task = u_spawn,
    .roundtrips = u_rts,
    .n_roundtrips = 1,
    .shutdown = u_shutdown,
};
