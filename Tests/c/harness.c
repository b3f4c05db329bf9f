/* harness.c — assertion failure, clocks, gates and task ledgers for the tests. */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

void test_fail(const char *file, int line, const char *fmt, ...) {
  /* One write per line so that two threads failing at once stay readable. */
  char buf[1024];
  int n = snprintf(buf, sizeof buf, "%s:%d: ", file, line);
  va_list ap;
  va_start(ap, fmt);
  if (n >= 0 && (size_t)n < sizeof buf)
    n += vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof buf - 1)
    n = (int)sizeof buf - 2;
  buf[n++] = '\n';
  fflush(stdout);
  ssize_t w = write(STDERR_FILENO, buf, (size_t)n);
  (void)w;
  /* _exit, not exit: worker threads may still be running library code, and
   * atexit handlers racing them would blur the real failure. */
  _exit(1);
}

const char *rt_code_name(int code) {
  switch (code) {
  case RT_OK: return "RT_OK";
  case RT_EINVAL: return "RT_EINVAL";
  case RT_ENOMEM: return "RT_ENOMEM";
  case RT_EAGAIN: return "RT_EAGAIN";
  case RT_EDEADLK: return "RT_EDEADLK";
  case RT_ETIMEDOUT: return "RT_ETIMEDOUT";
  case RT_ESHUTDOWN: return "RT_ESHUTDOWN";
  case RT_ECANCELED: return "RT_ECANCELED";
  case RT_EBUSY: return "RT_EBUSY";
  default: return "?";
  }
}

uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(uint64_t ns) {
  struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

void sleep_ms(unsigned ms) { sleep_ns((uint64_t)ms * MS); }
void sleep_us(unsigned us) { sleep_ns((uint64_t)us * 1000ull); }

void gate_init(gate_t *g) {
  pthread_mutex_init(&g->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&g->cv, &ca);
  pthread_condattr_destroy(&ca);
  g->open = false;
}

void gate_open(gate_t *g) {
  pthread_mutex_lock(&g->mu);
  g->open = true;
  pthread_cond_broadcast(&g->cv);
  pthread_mutex_unlock(&g->mu);
}

void gate_wait(gate_t *g) {
  pthread_mutex_lock(&g->mu);
  while (!g->open)
    pthread_cond_wait(&g->cv, &g->mu);
  pthread_mutex_unlock(&g->mu);
}

bool gate_wait_ms(gate_t *g, unsigned ms) {
  uint64_t deadline = now_ns() + (uint64_t)ms * MS;
  struct timespec ts = {(time_t)(deadline / 1000000000ull),
                        (long)(deadline % 1000000000ull)};
  pthread_mutex_lock(&g->mu);
  while (!g->open) {
    if (pthread_cond_timedwait(&g->cv, &g->mu, &ts) == ETIMEDOUT)
      break;
  }
  bool open = g->open;
  pthread_mutex_unlock(&g->mu);
  return open;
}

bool gate_is_open(gate_t *g) {
  pthread_mutex_lock(&g->mu);
  bool open = g->open;
  pthread_mutex_unlock(&g->mu);
  return open;
}

void gate_destroy(gate_t *g) {
  pthread_cond_destroy(&g->cv);
  pthread_mutex_destroy(&g->mu);
}

struct open_later {
  gate_t *gate;
  unsigned ms;
};

static void *open_later_main(void *p) {
  struct open_later ol = *(struct open_later *)p;
  free(p);
  sleep_ms(ol.ms);
  gate_open(ol.gate);
  return NULL;
}

pthread_t gate_open_later(gate_t *g, unsigned ms) {
  struct open_later *ol = malloc(sizeof *ol);
  if (ol == NULL)
    FAIL("out of memory");
  ol->gate = g;
  ol->ms = ms;
  pthread_t t;
  if (pthread_create(&t, NULL, open_later_main, ol) != 0)
    FAIL("pthread_create failed");
  return t;
}

rt_runtime_t *make_rt(unsigned workers, size_t queue_capacity) {
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = workers;
  cfg.queue_capacity = queue_capacity;
  rt_runtime_t *rt = rt_new(&cfg);
  if (rt == NULL)
    FAIL("rt_new(workers=%u, queue_capacity=%zu) returned NULL", workers,
         queue_capacity);
  return rt;
}

rt_stats_t get_stats(rt_handle_t *h) {
  rt_stats_t s;
  memset(&s, 0, sizeof s);
  s.size = sizeof s;
  CHECK_RC(rt_stats_get(h, &s), RT_OK);
  return s;
}

void blocker_init(blocker_t *b) {
  gate_init(&b->gate);
  atomic_init(&b->started, 0);
  atomic_init(&b->finished, 0);
}

void blocker_fn(void *p) {
  blocker_t *b = p;
  atomic_fetch_add(&b->started, 1);
  gate_wait(&b->gate);
  atomic_fetch_add(&b->finished, 1);
}

void *blocker_call(void *p) {
  blocker_fn(p);
  return p;
}

void blocker_start(rt_handle_t *h, blocker_t *b) {
  CHECK_RC(rt_spawn(h, blocker_fn, b), RT_OK);
  WAIT_UNTIL(atomic_load(&b->started) == 1);
}

void counter_init(counter_t *c) {
  atomic_init(&c->ran, 0);
  atomic_init(&c->dropped, 0);
  atomic_init(&c->ran_on, 0);
  atomic_init(&c->dropped_on, 0);
  atomic_init(&c->ran_at, 0);
}

void *counter_call(void *p) {
  counter_t *c = p;
  atomic_store(&c->ran_at, now_ns());
  atomic_store(&c->ran_on, (uintptr_t)pthread_self());
  atomic_fetch_add(&c->ran, 1);
  return c;
}

void counter_fn(void *p) { (void)counter_call(p); }

void counter_drop(void *p) {
  counter_t *c = p;
  atomic_store(&c->dropped_on, (uintptr_t)pthread_self());
  atomic_fetch_add(&c->dropped, 1);
}

int count_threads(const char *name_prefix) {
  DIR *d = opendir("/proc/self/task");
  if (d == NULL)
    FAIL("cannot open /proc/self/task");
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    if (name_prefix == NULL) {
      n++;
      continue;
    }
    char path[300], name[64] = {0};
    snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
    FILE *f = fopen(path, "r");
    if (f == NULL)
      continue; /* the thread exited meanwhile */
    if (fgets(name, sizeof name, f) != NULL &&
        strncmp(name, name_prefix, strlen(name_prefix)) == 0)
      n++;
    fclose(f);
  }
  closedir(d);
  return n;
}

void print_threads(void) {
  DIR *d = opendir("/proc/self/task");
  if (d == NULL)
    return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    char path[300], name[64] = {0}, stat[512] = {0};
    snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
    FILE *f = fopen(path, "r");
    if (f != NULL) {
      if (fgets(name, sizeof name, f) == NULL)
        name[0] = '\0';
      fclose(f);
    }
    name[strcspn(name, "\n")] = '\0';
    snprintf(path, sizeof path, "/proc/self/task/%s/stat", e->d_name);
    f = fopen(path, "r");
    if (f != NULL) {
      if (fgets(stat, sizeof stat, f) == NULL)
        stat[0] = '\0';
      fclose(f);
    }
    const char *paren = strrchr(stat, ')');
    printf("thread %s \"%s\" state %c\n", e->d_name, name,
           paren != NULL && paren[1] != '\0' ? paren[2] : '?');
  }
  closedir(d);
}

uint64_t rng_next(uint64_t *s) {
  uint64_t x = *s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  return x * 0x2545F4914F6CDD1Dull;
}

uint64_t test_seed(void) {
  const char *env = getenv("RTCTX_SEED");
  uint64_t seed;
  if (env != NULL && *env != '\0')
    seed = strtoull(env, NULL, 0);
  else
    seed = now_ns() ^ ((uint64_t)getpid() << 32);
  if (seed == 0)
    seed = 1;
  printf("seed: RTCTX_SEED=%" PRIu64 "\n", seed);
  fflush(stdout);
  return seed;
}

bool under_valgrind(void) {
  const char *vg = getenv("RTCTX_UNDER_VALGRIND");
  return vg != NULL && *vg != '\0';
}

void child_exit(int code) {
  if (under_valgrind()) {
    char cmd[32];
    snprintf(cmd, sizeof cmd, "exit %d", code);
    fflush(stdout);
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
  }
  _exit(code);
}

void never_fn(void *arg) {
  (void)arg;
  FAIL("the fn of a refused call ran");
}

void *never_call(void *arg) {
  (void)arg;
  FAIL("the fn of a refused call ran");
}

void never_apply(void *ctx, size_t index) {
  (void)ctx;
  FAIL("the fn of a refused rt_apply ran (index %zu)", index);
}

timer_t signal_storm_start(int signo, void (*handler)(int, siginfo_t *, void *), long interval_ns) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = handler;
  sa.sa_flags = SA_RESTART | SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  CHECK_EQ(sigaction(signo, &sa, NULL), 0);
  struct sigevent sev;
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = signo;
  timer_t timer;
  CHECK_EQ(timer_create(CLOCK_MONOTONIC, &sev, &timer), 0);
  struct itimerspec its = {{interval_ns / 1000000000, interval_ns % 1000000000},
                           {interval_ns / 1000000000, interval_ns % 1000000000}};
  CHECK_EQ(timer_settime(timer, 0, &its, NULL), 0);
  return timer;
}

void signal_storm_stop(timer_t timer) {
  struct itimerspec off = {{0, 0}, {0, 0}};
  CHECK_EQ(timer_settime(timer, 0, &off, NULL), 0);
  CHECK_EQ(timer_delete(timer), 0);
}
