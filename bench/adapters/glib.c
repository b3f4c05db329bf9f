/* GLib: a GThreadPool of `workers` exclusive threads (g_thread_pool_push;
 * GThreadPool passes one pointer, so each task is a malloc'd (fn, arg)).
 * Round trips: a pool push + GMutex/GCond wait, and g_main_context_invoke
 * onto a GMainLoop thread + the same wait (the main-context thread starts
 * only for that variant). */
#include "../bench.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

struct job { task_fn fn; void *arg; };

struct gctx {
  GThreadPool *pool;
  unsigned workers;
  GMainContext *mc;
  GMainLoop *loop;
  GThread *loop_thread;
  GMutex mu;
  GCond cond;
  int flag;
};
static struct gctx the;

static void pool_func(gpointer data, gpointer user) {
  (void)user;
  struct job *j = data;
  j->fn(j->arg);
  free(j);
}

static void *g_init(unsigned workers) {
  GError *err = NULL;
  the.workers = workers;
  g_mutex_init(&the.mu);
  g_cond_init(&the.cond);
  the.pool = g_thread_pool_new(pool_func, NULL, (gint)workers, TRUE, &err);
  if (!the.pool) bench_die(err ? err->message : "g_thread_pool_new failed");
  return &the;
}

static void g_spawn(void *c, task_fn fn, void *arg) {
  struct job *j = malloc(sizeof *j);
  if (!j) bench_die("out of memory");
  j->fn = fn;
  j->arg = arg;
  GError *err = NULL;
  if (!g_thread_pool_push(((struct gctx *)c)->pool, j, &err))
    bench_die(err ? err->message : "g_thread_pool_push failed");
}

/* ---- waiting for one call ------------------------------------------ */

struct hop { task_fn fn; void *arg; struct gctx *g; };

static void signal_done(struct gctx *g) {
  g_mutex_lock(&g->mu);
  g->flag = 1;
  g_cond_signal(&g->cond);
  g_mutex_unlock(&g->mu);
}

static void wait_done(struct gctx *g) {
  g_mutex_lock(&g->mu);
  while (!g->flag) g_cond_wait(&g->cond, &g->mu);
  g->flag = 0;
  g_mutex_unlock(&g->mu);
}

static void hop_body(void *p) {
  struct hop *h = p;
  h->fn(h->arg);
  signal_done(h->g);
}

static void g_pool_roundtrip(void *c, task_fn fn, void *arg) {
  struct hop h = {fn, arg, c};
  g_spawn(c, hop_body, &h);
  wait_done(c);
}

/* ---- g_main_context_invoke ----------------------------------------- */

static gpointer loop_main(gpointer p) {
  struct gctx *g = p;
  g_main_context_push_thread_default(g->mc);
  g_main_loop_run(g->loop);
  g_main_context_pop_thread_default(g->mc);
  return NULL;
}

static gboolean invoke_cb(gpointer p) {
  hop_body(p);
  return G_SOURCE_REMOVE;
}

static void g_invoke_roundtrip(void *c, task_fn fn, void *arg) {
  struct gctx *g = c;
  if (!g->loop_thread) {
    g->mc = g_main_context_new();
    g->loop = g_main_loop_new(g->mc, FALSE);
    g->loop_thread = g_thread_new("bench-mainloop", loop_main, g);
  }
  struct hop h = {fn, arg, g};
  g_main_context_invoke(g->mc, invoke_cb, &h);
  wait_done(g);
}

static gboolean quit_cb(gpointer p) {
  g_main_loop_quit(p);
  return G_SOURCE_REMOVE;
}

static unsigned g_threads(void *c) { return ((struct gctx *)c)->workers; }

static void g_shutdown(void *c) {
  struct gctx *g = c;
  g_thread_pool_free(g->pool, FALSE, TRUE); /* runs what is queued, joins */
  if (g->loop_thread) {
    g_main_context_invoke(g->mc, quit_cb, g->loop);
    g_thread_join(g->loop_thread);
    g_main_loop_unref(g->loop);
    g_main_context_unref(g->mc);
  }
}

static const char *g_version(void) {
  static char v[32];
  snprintf(v, sizeof v, "%u.%u.%u", glib_major_version, glib_minor_version, glib_micro_version);
  return v;
}

static const struct roundtrip g_rts[] = {
    {"g_thread_pool_push+GCond", 0, g_pool_roundtrip},
    {"g_main_context_invoke+GCond", 0, g_invoke_roundtrip},
};

const struct adapter bench_adapter = {
    .name = "glib",
    .api = "GThreadPool (exclusive, 2 threads) g_thread_pool_push; g_main_context_invoke; GMutex/GCond",
    .version = g_version,
    .task_threads = g_threads,
    .init = g_init,
    .spawn = g_spawn,
    .spawn_from_task = g_spawn,
    .roundtrips = g_rts,
    .n_roundtrips = 2,
    .shutdown = g_shutdown,
};
