/* rtctx through its public C API: rt_spawn, rt_block_on. */
#include "../bench.h"
#include "rtctx.h"

#include <stdio.h>

struct rctx {
  rt_runtime_t *rt;
  rt_handle_t *h;
  unsigned workers;
};
static struct rctx the;

static void *r_init(unsigned workers) {
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = workers;
  the.rt = rt_new(&cfg);
  if (!the.rt) bench_die("rt_new failed");
  the.h = rt_handle(the.rt);
  the.workers = workers;
  return &the;
}

static void r_spawn(void *c, task_fn fn, void *arg) {
  int rc = rt_spawn(((struct rctx *)c)->h, fn, arg);
  if (rc != RT_OK) bench_die(rt_strerror(rc));
}

/* From a task: the handle current on the worker, as a C task would do. */
static void r_spawn_from_task(void *c, task_fn fn, void *arg) {
  (void)c;
  int rc = rt_spawn(rt_handle_current(), fn, arg);
  if (rc != RT_OK) bench_die(rt_strerror(rc));
}

struct call { task_fn fn; void *arg; };
static void *r_call(void *p) {
  struct call *c = p;
  c->fn(c->arg);
  return NULL;
}

static void r_block_on(void *c, task_fn fn, void *arg) {
  struct call k = {fn, arg};
  int rc = rt_block_on(((struct rctx *)c)->h, r_call, &k, NULL);
  if (rc != RT_OK) bench_die(rt_strerror(rc));
}

static unsigned r_threads(void *c) { return ((struct rctx *)c)->workers; }

static void r_shutdown(void *c) {
  struct rctx *r = c;
  rt_handle_release(r->h);
  int rc = rt_shutdown(r->rt);
  if (rc != RT_OK) bench_die(rt_strerror(rc));
}

static const char *r_version(void) { return rt_version_string(); }

static const struct roundtrip r_rts[] = {
    {"rt_block_on", 0, r_block_on},
};

const struct adapter bench_adapter = {
    .name = "rtctx",
    .api = "rt_spawn; from tasks rt_spawn(rt_handle_current()); rt_block_on",
    .version = r_version,
    .task_threads = r_threads,
    .init = r_init,
    .spawn = r_spawn,
    .spawn_from_task = r_spawn_from_task,
    .roundtrips = r_rts,
    .n_roundtrips = 1,
    .shutdown = r_shutdown,
};
