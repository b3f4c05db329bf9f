/* test-config.c — rt_config_init, rt_new, worker threads and their hooks. */
#include "harness.h"

#include <stdlib.h>
#include <unistd.h>

#define MAXW 64

/* What the worker hooks saw. One test per process, so globals are fine. */
static struct {
  pthread_mutex_t mu;
  unsigned start_delay_ms; /* the start hook sleeps this long before recording */
  atomic_int tasks_ran;    /* bumped by count_task */
  int starts, stops;
  pthread_t start_thread[MAXW], stop_thread[MAXW];
  char start_name[MAXW][16];
  rt_handle_t *start_current[MAXW], *stop_current[MAXW];
  void *start_user[MAXW], *stop_user[MAXW];
  int tasks_at_stop[MAXW];
} rec = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void on_start(void *user) {
  if (rec.start_delay_ms)
    sleep_ms(rec.start_delay_ms);
  pthread_mutex_lock(&rec.mu);
  int i = rec.starts++;
  if (i < MAXW) {
    rec.start_thread[i] = pthread_self();
    pthread_getname_np(pthread_self(), rec.start_name[i], sizeof rec.start_name[i]);
    rec.start_current[i] = rt_handle_current();
    rec.start_user[i] = user;
  }
  pthread_mutex_unlock(&rec.mu);
}

static void on_stop(void *user) {
  pthread_mutex_lock(&rec.mu);
  int i = rec.stops++;
  if (i < MAXW) {
    rec.stop_thread[i] = pthread_self();
    rec.stop_current[i] = rt_handle_current();
    rec.stop_user[i] = user;
    rec.tasks_at_stop[i] = atomic_load(&rec.tasks_ran);
  }
  pthread_mutex_unlock(&rec.mu);
}

static int get_starts(void) {
  pthread_mutex_lock(&rec.mu);
  int n = rec.starts;
  pthread_mutex_unlock(&rec.mu);
  return n;
}

static bool is_start_thread(pthread_t t) {
  bool found = false;
  pthread_mutex_lock(&rec.mu);
  for (int i = 0; i < rec.starts && i < MAXW; i++)
    if (pthread_equal(rec.start_thread[i], t))
      found = true;
  pthread_mutex_unlock(&rec.mu);
  return found;
}

static void count_task(void *arg) {
  (void)arg;
  sleep_us(200);
  atomic_fetch_add(&rec.tasks_ran, 1);
}

/* count_task that also checks it runs on a worker whose start hook ran. */
static void worker_task(void *arg) {
  if (!is_start_thread(pthread_self()))
    FAIL("a task ran on a thread whose on_thread_start never ran");
  count_task(arg);
}

static void *thread_name_call(void *buf) {
  pthread_getname_np(pthread_self(), buf, 16);
  return buf;
}

static long online_cpus(void) { return sysconf(_SC_NPROCESSORS_ONLN); }

/* rt_config_init fills the defaults and sets size; NULL is a no-op. */
TEST(config_init_defaults) {
  rt_config_t cfg;
  memset(&cfg, 0xAB, sizeof cfg);
  rt_config_init(&cfg);
  CHECK_EQ(cfg.size, sizeof(rt_config_t));
  CHECK_TRUE(cfg.workers == 0 || (long)cfg.workers == online_cpus());
  CHECK_EQ(cfg.queue_capacity, 0);
  CHECK_TRUE(cfg.thread_name == NULL || strcmp(cfg.thread_name, "rt-worker") == 0);
  CHECK_TRUE(cfg.on_thread_start == NULL);
  CHECK_TRUE(cfg.on_thread_stop == NULL);
  CHECK_NULL(cfg.user);
  rt_config_init(NULL); /* must not crash */

  /* The defaults make a working runtime of online-CPU workers. */
  rt_runtime_t *rt = rt_new(&cfg);
  CHECK_NOT_NULL(rt);
  rt_handle_t *h = rt_handle(rt);
  CHECK_EQ(get_stats(h).workers, online_cpus());
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

/* rt_new(NULL) uses the defaults: online CPUs, workers named rt-worker-<i>. */
TEST(config_new_null_is_defaults) {
  rt_runtime_t *rt = rt_new(NULL);
  CHECK_NOT_NULL(rt);
  rt_handle_t *h = rt_handle(rt);
  CHECK_NOT_NULL(h);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.workers, online_cpus());
  CHECK_FALSE(s.shutdown);
  char name[16] = {0};
  void *res = NULL;
  CHECK_RC(rt_block_on(h, thread_name_call, name, &res), RT_OK);
  CHECK_PTR_EQ(res, name);
  if (strncmp(name, "rt-worker-", 10) != 0)
    FAIL("default worker name is \"%s\", want rt-worker-<index>", name);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

/* workers = 0 means the number of online CPUs. */
TEST(config_workers_zero_is_online_cpus) {
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = 0;
  cfg.on_thread_start = on_start;
  rt_runtime_t *rt = rt_new(&cfg);
  CHECK_NOT_NULL(rt);
  CHECK_EQ(get_starts(), online_cpus());
  rt_handle_t *h = rt_handle(rt);
  CHECK_EQ(get_stats(h).workers, online_cpus());
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

/* workers = N starts exactly N distinct worker threads, each running
 * on_thread_start once before and on_thread_stop once after its tasks. */
TEST(config_workers_count) {
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = 3;
  cfg.on_thread_start = on_start;
  cfg.on_thread_stop = on_stop;
  rt_runtime_t *rt = rt_new(&cfg);
  CHECK_NOT_NULL(rt);
  rt_handle_t *h = rt_handle(rt);
  CHECK_EQ(get_stats(h).workers, 3);
  CHECK_EQ(get_starts(), 3);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < i; j++)
      CHECK_FALSE(pthread_equal(rec.start_thread[i], rec.start_thread[j]));
  for (int i = 0; i < 60; i++)
    CHECK_RC(rt_spawn(h, worker_task, NULL), RT_OK);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&rec.tasks_ran), 60);
  CHECK_EQ(rec.starts, 3);
  CHECK_EQ(rec.stops, 3);
  /* Each stop ran on a thread that had started, each on a different one. */
  for (int i = 0; i < 3; i++) {
    CHECK_TRUE(is_start_thread(rec.stop_thread[i]));
    for (int j = 0; j < i; j++)
      CHECK_FALSE(pthread_equal(rec.stop_thread[i], rec.stop_thread[j]));
  }
  CHECK_EQ(get_stats(h).workers, 3);
  rt_handle_release(h);
}

/* The header allows at most 1024 workers: 1024 works, 1025 is a bad
 * config (NULL, and no worker ever started). */
TEST(config_workers_limit) {
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = 1025;
  cfg.on_thread_start = on_start;
  CHECK_NULL(rt_new(&cfg));
  cfg.workers = 0xFFFFFFFFu;
  CHECK_NULL(rt_new(&cfg));
  CHECK_EQ(get_starts(), 0);

  cfg.workers = 1024;
  cfg.on_thread_start = NULL;
  rt_runtime_t *rt = rt_new(&cfg);
  CHECK_NOT_NULL(rt);
  rt_handle_t *h = rt_handle(rt);
  CHECK_EQ(get_stats(h).workers, 1024);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

/* A size larger than the library knows is rejected: rt_new returns NULL. */
TEST(config_size_larger_rejected) {
  struct {
    rt_config_t cfg;
    char future[32];
  } big;
  memset(&big, 0, sizeof big);
  rt_config_init(&big.cfg);
  big.cfg.workers = 1;
  big.cfg.on_thread_start = on_start;
  big.cfg.size = sizeof big;
  CHECK_NULL(rt_new(&big.cfg));
  big.cfg.size = sizeof(rt_config_t) + 1;
  CHECK_NULL(rt_new(&big.cfg));
  big.cfg.size = (size_t)-1;
  CHECK_NULL(rt_new(&big.cfg));
  CHECK_EQ(get_starts(), 0);
}

/* An older caller's smaller size is accepted; the fields it does not have
 * take their defaults and are never read (here they hold traps). */
TEST(config_size_smaller_workers_only) {
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.size = offsetof(rt_config_t, queue_capacity);
  cfg.workers = 1;
  cfg.queue_capacity = 1;        /* beyond size: must stay unbounded */
  cfg.thread_name = "trap";      /* beyond size: name must be the default */
  cfg.on_thread_start = on_start; /* beyond size: must not run */
  cfg.on_thread_stop = on_stop;
  rt_runtime_t *rt = rt_new(&cfg);
  CHECK_NOT_NULL(rt);
  rt_handle_t *h = rt_handle(rt);
  CHECK_EQ(get_stats(h).workers, 1);

  char name[16] = {0};
  CHECK_RC(rt_block_on(h, thread_name_call, name, NULL), RT_OK);
  CHECK_STR_EQ(name, "rt-worker-0");

  /* Unbounded queue: behind a blocked single worker, spawns keep succeeding. */
  blocker_t b;
  blocker_init(&b);
  blocker_start(h, &b);
  for (int i = 0; i < 8; i++)
    CHECK_RC(rt_spawn(h, count_task, NULL), RT_OK);
  gate_open(&b.gate);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(rec.starts, 0);
  CHECK_EQ(rec.stops, 0);
  rt_handle_release(h);
}

/* A size that ends before the hooks: thread_name is read, hooks are not. */
TEST(config_size_smaller_without_hooks) {
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.size = offsetof(rt_config_t, on_thread_start);
  cfg.workers = 2;
  cfg.thread_name = "older";
  cfg.on_thread_start = on_start;
  cfg.on_thread_stop = on_stop;
  cfg.user = &cfg;
  rt_runtime_t *rt = rt_new(&cfg);
  CHECK_NOT_NULL(rt);
  rt_handle_t *h = rt_handle(rt);
  CHECK_EQ(get_stats(h).workers, 2);
  char name[16] = {0};
  CHECK_RC(rt_block_on(h, thread_name_call, name, NULL), RT_OK);
  if (strcmp(name, "older-0") != 0 && strcmp(name, "older-1") != 0)
    FAIL("worker name \"%s\", want older-0 or older-1", name);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(rec.starts, 0);
  CHECK_EQ(rec.stops, 0);
  rt_handle_release(h);
}

static void check_names(const char *prefix, unsigned n) {
  CHECK_EQ(rec.starts, n);
  for (unsigned want = 0; want < n; want++) {
    char full[64] = {0}, expect[16];
    snprintf(full, sizeof full, "%s-%u", prefix, want);
    memcpy(expect, full, sizeof expect - 1); /* cut to 15 bytes */
    expect[sizeof expect - 1] = '\0';
    int found = 0;
    for (unsigned i = 0; i < n; i++)
      if (strcmp(rec.start_name[i], expect) == 0)
        found++;
    if (found != 1) {
      for (unsigned i = 0; i < n; i++)
        printf("worker %u is named \"%s\"\n", i, rec.start_name[i]);
      FAIL("%d workers are named \"%s\", want exactly 1", found, expect);
    }
  }
}

/* Workers are named "<prefix>-<index>"; NULL prefix = "rt-worker". */
TEST(config_thread_name_default) {
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = 3;
  cfg.thread_name = NULL;
  cfg.on_thread_start = on_start;
  rt_runtime_t *rt = rt_new(&cfg);
  CHECK_NOT_NULL(rt);
  check_names("rt-worker", 3);
  CHECK_RC(rt_shutdown(rt), RT_OK);
}

/* A custom prefix is copied: freeing it after rt_new changes nothing. */
TEST(config_thread_name_custom) {
  char *prefix = strdup("pool");
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = 2;
  cfg.thread_name = prefix;
  cfg.on_thread_start = on_start;
  rt_runtime_t *rt = rt_new(&cfg);
  CHECK_NOT_NULL(rt);
  memset(prefix, 'X', 4);
  free(prefix);
  check_names("pool", 2);
  rt_handle_t *h = rt_handle(rt);
  char name[16] = {0};
  CHECK_RC(rt_block_on(h, thread_name_call, name, NULL), RT_OK);
  if (strcmp(name, "pool-0") != 0 && strcmp(name, "pool-1") != 0)
    FAIL("worker name \"%s\" after the prefix was freed", name);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

/* Names longer than 15 bytes are cut (Linux thread names hold 15 + NUL). */
TEST(config_thread_name_truncated) {
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = 12;
  cfg.thread_name = "averyveryverylongprefix";
  cfg.on_thread_start = on_start;
  rt_runtime_t *rt = rt_new(&cfg);
  CHECK_NOT_NULL(rt);
  /* Linux keeps 15 bytes: the prefix is cut, the index kept, so that every
   * worker still has a name of its own. */
  CHECK_EQ(rec.starts, 12);
  bool seen[12] = {false};
  for (int i = 0; i < 12; i++) {
    const char *name = rec.start_name[i];
    CHECK_TRUE(strlen(name) <= 15);
    const char *dash = strrchr(name, '-');
    CHECK_NOT_NULL(dash);
    char want[16];
    int index = atoi(dash + 1);
    CHECK_TRUE(index >= 0 && index < 12);
    snprintf(want, sizeof want, "%.*s-%d", 15 - (index < 10 ? 2 : 3), "averyveryverylongprefix", index);
    CHECK_STR_EQ(name, want);
    CHECK_FALSE(seen[index]);
    seen[index] = true;
  }
  CHECK_RC(rt_shutdown(rt), RT_OK);
}

/* rt_new returns only once every worker ran on_thread_start, even a slow one. */
TEST(config_new_waits_for_start_hooks) {
  rec.start_delay_ms = 40;
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = 3;
  cfg.on_thread_start = on_start;
  rt_runtime_t *rt = rt_new(&cfg);
  CHECK_NOT_NULL(rt);
  CHECK_EQ(get_starts(), 3); /* read right away: no waiting */
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(get_starts(), 3);
}

/* In on_thread_start / on_thread_stop the current handle is the worker's
 * runtime (the pointer rt_handle returns), and `user` is cfg.user. */
TEST(config_hooks_current_and_user) {
  int token;
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = 2;
  cfg.on_thread_start = on_start;
  cfg.on_thread_stop = on_stop;
  cfg.user = &token;
  rt_runtime_t *rt = rt_new(&cfg);
  CHECK_NOT_NULL(rt);
  rt_handle_t *h = rt_handle(rt);
  CHECK_EQ(rec.starts, 2);
  for (int i = 0; i < 2; i++) {
    CHECK_PTR_EQ(rec.start_current[i], h);
    CHECK_PTR_EQ(rec.start_user[i], &token);
  }
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(rec.stops, 2);
  for (int i = 0; i < 2; i++) {
    CHECK_PTR_EQ(rec.stop_current[i], h);
    CHECK_PTR_EQ(rec.stop_user[i], &token);
  }
  /* The main thread never became a worker. */
  CHECK_NULL(rt_handle_current());
  rt_handle_release(h);
}

/* on_thread_stop runs after the last task: by then every accepted task ran. */
TEST(config_stop_hook_after_last_task) {
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = 2;
  cfg.on_thread_start = on_start;
  cfg.on_thread_stop = on_stop;
  rt_runtime_t *rt = rt_new(&cfg);
  CHECK_NOT_NULL(rt);
  rt_handle_t *h = rt_handle(rt);
  for (int i = 0; i < 200; i++)
    CHECK_RC(rt_spawn(h, worker_task, NULL), RT_OK);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(rec.stops, 2);
  for (int i = 0; i < 2; i++)
    CHECK_EQ(rec.tasks_at_stop[i], 200);
  rt_handle_release(h);
}

/* The config is not kept: a heap config freed right after rt_new. */
TEST(config_not_kept) {
  rt_config_t *cfg = malloc(sizeof *cfg);
  CHECK_NOT_NULL(cfg);
  rt_config_init(cfg);
  cfg->workers = 2;
  cfg->on_thread_start = on_start;
  cfg->on_thread_stop = on_stop;
  cfg->user = &rec;
  rt_runtime_t *rt = rt_new(cfg);
  CHECK_NOT_NULL(rt);
  memset(cfg, 0, sizeof *cfg);
  free(cfg);
  rt_handle_t *h = rt_handle(rt);
  for (int i = 0; i < 10; i++)
    CHECK_RC(rt_spawn(h, count_task, NULL), RT_OK);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&rec.tasks_ran), 10);
  CHECK_EQ(rec.stops, 2);
  for (int i = 0; i < 2; i++)
    CHECK_PTR_EQ(rec.stop_user[i], &rec);
  rt_handle_release(h);
}

/* rt_handle returns the same pointer each time, each a new reference. */
TEST(config_handle_same_pointer) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *a = rt_handle(rt);
  rt_handle_t *b = rt_handle(rt);
  CHECK_NOT_NULL(a);
  CHECK_PTR_EQ(a, b);
  rt_handle_release(a);
  /* b is still a live reference. */
  CHECK_EQ(get_stats(b).workers, 1);
  rt_handle_t *c = rt_handle_clone(b);
  CHECK_PTR_EQ(c, b);
  rt_handle_release(b);
  CHECK_EQ(get_stats(c).workers, 1);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_TRUE(get_stats(c).shutdown);
  rt_handle_release(c);
}

/* Many runtimes at once, each with its own workers, and create/shutdown
 * cycles leave nothing behind that breaks the next runtime. */
TEST(config_many_runtimes) {
  rt_runtime_t *rts[8];
  rt_handle_t *hs[8];
  for (int round = 0; round < 5; round++) {
    for (int i = 0; i < 8; i++) {
      rts[i] = make_rt(1 + (unsigned)(i % 3), 0);
      hs[i] = rt_handle(rts[i]);
      CHECK_RC(rt_spawn(hs[i], count_task, NULL), RT_OK);
    }
    for (int i = 0; i < 8; i++) {
      CHECK_RC(rt_shutdown(rts[i]), RT_OK);
      rt_handle_release(hs[i]);
    }
  }
  CHECK_EQ(atomic_load(&rec.tasks_ran), 40);
}

static counter_t from_hook[MAXW];
static atomic_int hook_index;

static void spawn_from_hook(void *user) {
  (void)user;
  int i = atomic_fetch_add(&hook_index, 1);
  counter_init(&from_hook[i]);
  CHECK_RC(rt_spawn_full(rt_handle_current(), counter_call, &from_hook[i],
                         counter_drop, NULL),
           RT_OK);
}

/* Any function may be called from any thread, hooks included: a start hook
 * spawns onto its own runtime, and those tasks run. */
TEST(config_start_hook_can_spawn) {
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = 2;
  cfg.on_thread_start = spawn_from_hook;
  rt_runtime_t *rt = rt_new(&cfg);
  CHECK_NOT_NULL(rt);
  CHECK_EQ(atomic_load(&hook_index), 2);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  for (int i = 0; i < 2; i++) {
    CHECK_EQ(atomic_load(&from_hook[i].ran), 1);
    CHECK_EQ(atomic_load(&from_hook[i].dropped), 0);
  }
}

/* queue_capacity at the edges the header names: 0 (unbounded), 1, 2^62 and
 * SIZE_MAX/2 are accepted and bound the queue as said; SIZE_MAX/2 + 1 and
 * SIZE_MAX are bad configs (NULL). A capacity of 2^62 or SIZE_MAX/2 never
 * refuses in practice: 1000 tasks queued behind a busy worker all go in. */
TEST(config_queue_capacity_edges) {
  const size_t accepted[] = {0, 1, (size_t)1 << 62, SIZE_MAX / 2};
  for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
    rt_config_t cfg;
    rt_config_init(&cfg);
    cfg.workers = 1;
    cfg.queue_capacity = accepted[i];
    rt_runtime_t *rt = rt_new(&cfg);
    if (rt == NULL)
      FAIL("rt_new refused queue_capacity %zu", accepted[i]);
    rt_handle_t *h = rt_handle(rt);
    blocker_t b;
    blocker_init(&b);
    blocker_start(h, &b);
    counter_t c;
    counter_init(&c);
    int refused = 0;
    for (int k = 0; k < 1000; k++) {
      int rc = rt_spawn(h, counter_fn, &c);
      if (rc == RT_EAGAIN)
        refused++;
      else
        CHECK_RC(rc, RT_OK);
    }
    CHECK_EQ(refused, accepted[i] == 1 ? 999 : 0);
    CHECK_EQ(get_stats(h).rejected, refused);
    gate_open(&b.gate);
    CHECK_RC(rt_shutdown(rt), RT_OK);
    CHECK_EQ(atomic_load(&c.ran), 1000 - refused);
    rt_handle_release(h);
  }
  const size_t refused[] = {SIZE_MAX / 2 + 1, SIZE_MAX};
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    rt_config_t cfg;
    rt_config_init(&cfg);
    cfg.workers = 1;
    cfg.queue_capacity = refused[i];
    cfg.on_thread_start = on_start;
    rt_runtime_t *rt = rt_new(&cfg);
    if (rt != NULL)
      FAIL("rt_new accepted queue_capacity %zu, above SIZE_MAX/2", refused[i]);
  }
  CHECK_EQ(get_starts(), 0);
}
