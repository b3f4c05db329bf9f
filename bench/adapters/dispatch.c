/* libdispatch from the Swift toolchain: the default global concurrent queue
 * (its width is the number of CPUs, 2 here; libdispatch has no worker-count
 * knob). dispatch_async_f to post; round trip = dispatch_async_f + a
 * dispatch_semaphore wait (a real hop); dispatch_sync_f is reported apart:
 * it runs the function on the calling thread when it can. */
#include "../bench.h"

#include <dispatch/dispatch.h>
#include <unistd.h>

struct dctx {
  dispatch_queue_t q;
  dispatch_semaphore_t sem; /* the round-trip caller's, reused */
};
static struct dctx the;

static void *d_init(unsigned workers) {
  (void)workers;
  the.q = dispatch_get_global_queue(DISPATCH_QUEUE_PRIORITY_DEFAULT, 0);
  the.sem = dispatch_semaphore_create(0);
  return &the;
}

static void d_spawn(void *c, task_fn fn, void *arg) {
  dispatch_async_f(((struct dctx *)c)->q, arg, fn);
}

struct hop { task_fn fn; void *arg; dispatch_semaphore_t sem; };
static void d_hop_body(void *p) {
  struct hop *h = p;
  h->fn(h->arg);
  dispatch_semaphore_signal(h->sem);
}

static void d_async_wait(void *c, task_fn fn, void *arg) {
  struct dctx *d = c;
  struct hop h = {fn, arg, d->sem};
  dispatch_async_f(d->q, &h, d_hop_body);
  dispatch_semaphore_wait(d->sem, DISPATCH_TIME_FOREVER);
}

static void d_sync(void *c, task_fn fn, void *arg) {
  dispatch_sync_f(((struct dctx *)c)->q, arg, fn);
}

static unsigned d_threads(void *c) {
  (void)c;
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (unsigned)n : 1;
}

static void d_shutdown(void *c) {
  /* The global queue lives as long as the process and cannot be shut down;
   * every task the driver posted has run when it calls this. */
  dispatch_release(((struct dctx *)c)->sem);
}

static const struct roundtrip d_rts[] = {
    {"dispatch_async_f+semaphore", 0, d_async_wait},
    {"dispatch_sync_f", 1, d_sync},
};

/* W5: the blocking tasks go where the others go; libdispatch adds
 * threads to a global queue whose workers block. */
static const struct mixed d_mixed[] = {
    {"dispatch_async_f, all on the global queue", 0, d_spawn, d_spawn, NULL, NULL},
};

const struct adapter bench_adapter = {
    .name = "dispatch",
    .api = "dispatch_async_f on the default global queue; dispatch_semaphore; dispatch_sync_f",
    .version = 0,
    .task_threads = d_threads,
    .init = d_init,
    .spawn = d_spawn,
    .spawn_from_task = d_spawn,
    .roundtrips = d_rts,
    .n_roundtrips = 2,
    .shutdown = d_shutdown,
    .mixed = d_mixed,
    .n_mixed = 1,
};
