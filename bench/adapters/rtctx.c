/* rtctx through its public C API: rt_spawn, rt_block_on; for W5,
 * rt_spawn_blocking and rt_blocking_begin/_end. */
#include "../bench.h"
#include "rtctx.h"

#include <stdio.h>
#include <stdlib.h>

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

/* W5: a blocking job is an rt_call_fn; the driver's task is a task_fn. */
static void *r_call_free(void *p) {
  struct call c = *(struct call *)p;
  free(p);
  c.fn(c.arg);
  return NULL;
}

static void r_spawn_blocking(void *c, task_fn fn, void *arg) {
  struct call *k = malloc(sizeof *k);
  if (!k) bench_die("out of memory");
  *k = (struct call){fn, arg};
  int rc = rt_spawn_blocking(((struct rctx *)c)->h, r_call_free, k, free, NULL);
  if (rc != RT_OK) bench_die(rt_strerror(rc));
}

/* Called on a worker's thread, around the driver's sleep. */
static __thread int in_region;
static void r_region_begin(void) { in_region = rt_blocking_begin() != RT_EINVAL; }
static void r_region_end(void) {
  if (in_region) (void)rt_blocking_end();
  in_region = 0;
}

static void r_mixed_facts(void *c) {
  rt_stats_t st = {.size = sizeof st};
  if (rt_stats_get(((struct rctx *)c)->h, &st) != RT_OK) return;
  printf(",\"blocking_threads_peak\":%llu,\"blocking_spawned\":%llu,\"handoffs\":%llu,"
         "\"stranded_moved\":%llu",
         (unsigned long long)st.blocking_threads_peak, (unsigned long long)st.blocking_spawned,
         (unsigned long long)st.handoffs, (unsigned long long)st.stranded_moved);
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

static const struct mixed r_mixed[] = {
    {"rt_spawn + rt_spawn_blocking", 0, r_spawn, r_spawn_blocking, NULL, NULL},
    {"rt_spawn, sleep in rt_blocking_begin/end", 0, r_spawn, r_spawn, r_region_begin,
     r_region_end},
    {"rt_spawn, no hint", 1, r_spawn, r_spawn, NULL, NULL},
};

const struct adapter bench_adapter = {
    .name = "rtctx",
    .api = "rt_spawn; from tasks rt_spawn(rt_handle_current()); rt_block_on; "
           "rt_spawn_blocking; rt_blocking_begin/end",
    .version = r_version,
    .task_threads = r_threads,
    .init = r_init,
    .spawn = r_spawn,
    .spawn_from_task = r_spawn_from_task,
    .roundtrips = r_rts,
    .n_roundtrips = 1,
    .shutdown = r_shutdown,
    .mixed = r_mixed,
    .n_mixed = 3,
    .mixed_facts = r_mixed_facts,
};
