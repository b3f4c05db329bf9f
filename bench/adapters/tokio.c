/* tokio (Debian's librust-tokio-dev, built offline) through the C entry
 * points of bench/tokio/src/lib.rs: a multi-thread runtime with
 * worker_threads(2); Handle::spawn from outside, tokio::spawn from tasks;
 * round trip = Handle::spawn + Handle::block_on(oneshot receiver); the
 * inline Handle::block_on(async { f(arg) }) is reported apart; W5's
 * blocking tasks go to Handle::spawn_blocking (its default pool of up to
 * 512 threads, 10 s keep-alive: rtctx's defaults too). */
#include "../bench.h"

struct Rt;
struct Rt *bench_tokio_new(unsigned workers);
void bench_tokio_spawn(const struct Rt *rt, task_fn f, void *arg);
void bench_tokio_spawn_from_task(task_fn f, void *arg);
void bench_tokio_spawn_blocking(const struct Rt *rt, task_fn f, void *arg);
void bench_tokio_roundtrip(const struct Rt *rt, task_fn f, void *arg);
void bench_tokio_block_on_inline(const struct Rt *rt, task_fn f, void *arg);
void bench_tokio_free(struct Rt *rt);
const char *bench_tokio_version(void);

static unsigned workers;

static void *t_init(unsigned w) {
  struct Rt *rt = bench_tokio_new(w);
  if (!rt) bench_die("tokio runtime build failed");
  workers = w;
  return rt;
}
static void t_spawn(void *c, task_fn f, void *arg) { bench_tokio_spawn(c, f, arg); }
static void t_spawn_blocking(void *c, task_fn f, void *arg) {
  bench_tokio_spawn_blocking(c, f, arg);
}
static void t_spawn_from_task(void *c, task_fn f, void *arg) {
  (void)c;
  bench_tokio_spawn_from_task(f, arg);
}
static void t_roundtrip(void *c, task_fn f, void *arg) { bench_tokio_roundtrip(c, f, arg); }
static void t_inline(void *c, task_fn f, void *arg) { bench_tokio_block_on_inline(c, f, arg); }
static unsigned t_threads(void *c) { (void)c; return workers; }
static void t_shutdown(void *c) { bench_tokio_free(c); }

static const struct roundtrip t_rts[] = {
    {"Handle::spawn+block_on(oneshot)", 0, t_roundtrip},
    {"Handle::block_on", 1, t_inline},
};

static const struct mixed t_mixed[] = {
    {"Handle::spawn + Handle::spawn_blocking", 0, t_spawn, t_spawn_blocking, NULL, NULL},
};

const struct adapter bench_adapter = {
    .name = "tokio",
    .api = "multi-thread runtime, worker_threads(2): Handle::spawn; tokio::spawn from tasks; Handle::block_on",
    .version = bench_tokio_version,
    .task_threads = t_threads,
    .init = t_init,
    .spawn = t_spawn,
    .spawn_from_task = t_spawn_from_task,
    .roundtrips = t_rts,
    .n_roundtrips = 2,
    .shutdown = t_shutdown,
    .mixed = t_mixed,
    .n_mixed = 1,
};
