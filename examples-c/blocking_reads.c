/* blocking_reads.c — tasks that block in read(), without holding up the
 * runtime: the blocking pool and blocking regions.
 *
 * 1. Files: the program writes 8 files under a fresh /tmp directory, then
 *    reads each back with rt_spawn_blocking(): every read runs on the
 *    runtime's blocking pool, never on a worker, and its join handle
 *    gives back the byte count; the job's checksum is compared with the
 *    one computed when the file was written.
 * 2. Sockets: 4 socketpairs, a "network" thread of the program's own
 *    writing to them round robin in 4 KiB chunks through small socket
 *    buffers, so every reader must be reading at once for the writer to get
 *    anywhere. The readers are ordinary tasks (rt_spawn_full) on a runtime
 *    of 2 workers; each wraps its reads in rt_blocking_begin() /
 *    rt_blocking_end(), which hands its worker to a spare thread, so all 4
 *    block at once, and while they do (before the writer starts), 10,000
 *    short tasks run on the 2 workers. Without the regions the 2 workers
 *    would sit in read() and neither would happen.
 *
 * At the end it prints the runtime's blocking counters (rt_stats_t) and
 * exits non-zero if a result is wrong.
 *
 *   cc blocking_reads.c $(pkg-config --cflags --libs rtctx) -pthread -o blocking_reads
 */
#define _DEFAULT_SOURCE
#include <rtctx.h>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { FILES = 8, READERS = 4, CHUNK = 4096, CHUNKS = 64, SHORT_TASKS = 10000 };

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}
#define FNV_START 0xcbf29ce484222325ull

/* The same bytes for the writer and the check: chunk `c` of stream `s`. */
static void fill(unsigned char *buf, size_t n, uint64_t seed) {
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < n; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    buf[i] = (unsigned char)x;
  }
}

/* ---- 1. files, read on the blocking pool ------------------------------ */

struct file_job {
  char path[64];
  uint64_t expected; /* checksum of what was written */
  uint64_t checksum; /* the job's */
};

/* Runs on a blocking thread: open() and read() may take as long as they
 * like. The result is the number of bytes read, or -1. */
static void *read_file(void *arg) {
  struct file_job *job = arg;
  int fd = open(job->path, O_RDONLY);
  if (fd < 0)
    return (void *)(intptr_t)-1;
  unsigned char buf[CHUNK];
  intptr_t total = 0;
  uint64_t h = FNV_START;
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) {
    h = fnv1a(h, buf, (size_t)n);
    total += n;
  }
  close(fd);
  job->checksum = h;
  return (void *)(n < 0 ? -1 : total);
}

static int write_file(const char *path, size_t size, uint64_t seed, uint64_t *checksum) {
  unsigned char *data = malloc(size);
  if (data == NULL)
    return -1;
  fill(data, size, seed);
  *checksum = fnv1a(FNV_START, data, size);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ssize_t n = fd < 0 ? -1 : write(fd, data, size);
  if (fd >= 0)
    close(fd);
  free(data);
  return n == (ssize_t)size ? 0 : -1;
}

static int read_files(rt_handle_t *h, const char *dir) {
  static struct file_job jobs[FILES];
  rt_task_t *tasks[FILES] = {0};
  int bad = 0;
  for (int i = 0; i < FILES; i++) {
    snprintf(jobs[i].path, sizeof jobs[i].path, "%s/file-%d", dir, i);
    if (write_file(jobs[i].path, (size_t)(i + 1) * 5000, (uint64_t)i, &jobs[i].expected) != 0) {
      perror(jobs[i].path);
      return 1;
    }
  }
  for (int i = 0; i < FILES; i++) {
    int rc = rt_spawn_blocking(h, read_file, &jobs[i], NULL, &tasks[i]);
    if (rc != RT_OK) {
      fprintf(stderr, "rt_spawn_blocking: %s\n", rt_strerror(rc));
      bad = 1;
    }
  }
  for (int i = 0; i < FILES; i++) {
    if (tasks[i] == NULL)
      continue;
    void *result = NULL;
    int rc = rt_task_join(tasks[i], -1, &result);
    rt_task_release(tasks[i]);
    intptr_t bytes = (intptr_t)result;
    int ok = rc == RT_OK && bytes == (intptr_t)(i + 1) * 5000 && jobs[i].checksum == jobs[i].expected;
    printf("blocking_reads: file-%d: %ld bytes, checksum %016llx %s\n", i, (long)bytes,
           (unsigned long long)jobs[i].checksum, ok ? "ok" : "WRONG");
    bad |= !ok;
    unlink(jobs[i].path);
  }
  return bad;
}

/* ---- 2. sockets, read in blocking regions ----------------------------- */

struct reader {
  int fd;
  int stream;
  uint64_t expected;
};

static atomic_int readers_blocking; /* readers inside their region */
static atomic_int region_refused;   /* rt_blocking_begin() said the worker stayed */
static atomic_long short_done;

/* An ordinary task on a worker. The result is the stream's checksum. */
static void *read_stream(void *arg) {
  struct reader *r = arg;
  int rc = rt_blocking_begin(); /* the worker moves on; this thread may block */
  if (rc != RT_OK)
    atomic_fetch_add(&region_refused, 1);
  atomic_fetch_add(&readers_blocking, 1);
  unsigned char buf[CHUNK];
  uint64_t h = FNV_START;
  size_t total = 0;
  ssize_t n;
  while (total < (size_t)CHUNK * CHUNKS && (n = read(r->fd, buf, sizeof buf)) > 0) {
    h = fnv1a(h, buf, (size_t)n);
    total += (size_t)n;
  }
  if (rc != RT_EINVAL)
    (void)rt_blocking_end();
  return (void *)(uintptr_t)(total == (size_t)CHUNK * CHUNKS ? h : 0);
}

static void *short_task(void *arg) {
  (void)arg;
  atomic_fetch_add_explicit(&short_done, 1, memory_order_relaxed);
  return NULL;
}

static int write_fds[READERS];

/* The program's own thread, which rtctx knows nothing of: round robin, so
 * it stalls on any stream whose reader is not reading. */
static void *network(void *arg) {
  (void)arg;
  unsigned char buf[CHUNK];
  for (int c = 0; c < CHUNKS; c++) {
    for (int s = 0; s < READERS; s++) {
      fill(buf, sizeof buf, (uint64_t)(1000 + s * CHUNKS + c));
      size_t off = 0;
      while (off < sizeof buf) {
        ssize_t n = write(write_fds[s], buf + off, sizeof buf - off);
        if (n <= 0)
          return (void *)1;
        off += (size_t)n;
      }
    }
  }
  return NULL;
}

static int read_sockets(rt_handle_t *h) {
  static struct reader readers[READERS];
  rt_task_t *tasks[READERS] = {0};
  int bad = 0;
  for (int s = 0; s < READERS; s++) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
      perror("socketpair");
      return 1;
    }
    int small = CHUNK; /* the kernel may round it up; still far below a stream */
    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    readers[s] = (struct reader){sv[0], s, FNV_START};
    write_fds[s] = sv[1];
    unsigned char buf[CHUNK];
    for (int c = 0; c < CHUNKS; c++) {
      fill(buf, sizeof buf, (uint64_t)(1000 + s * CHUNKS + c));
      readers[s].expected = fnv1a(readers[s].expected, buf, sizeof buf);
    }
  }
  for (int s = 0; s < READERS; s++) {
    int rc = rt_spawn_full(h, read_stream, &readers[s], NULL, &tasks[s]);
    if (rc != RT_OK) {
      fprintf(stderr, "rt_spawn_full: %s\n", rt_strerror(rc));
      return 1;
    }
  }
  /* Every reader is blocked (or about to block) in read() on a thread of
   * its own: the 2 workers are free for short work. */
  while (atomic_load(&readers_blocking) < READERS)
    usleep(100);
  rt_group_t *g = rt_group_new(h);
  if (g == NULL)
    return 1;
  for (int i = 0; i < SHORT_TASKS; i++)
    if (rt_group_spawn(g, short_task, NULL, NULL) != RT_OK)
      bad = 1;
  if (rt_group_wait(g, -1) != RT_OK)
    bad = 1;
  rt_group_release(g);
  printf("blocking_reads: %ld short tasks ran while %d readers were blocked in read()\n",
         (long)atomic_load(&short_done), READERS);
  bad |= atomic_load(&short_done) != SHORT_TASKS;

  pthread_t writer;
  if (pthread_create(&writer, NULL, network, NULL) != 0)
    return 1;
  for (int s = 0; s < READERS; s++) {
    void *result = NULL;
    int rc = rt_task_join(tasks[s], -1, &result);
    rt_task_release(tasks[s]);
    int ok = rc == RT_OK && (uint64_t)(uintptr_t)result == readers[s].expected;
    printf("blocking_reads: stream %d: %d KiB, checksum %016llx %s\n", s, CHUNK * CHUNKS / 1024,
           (unsigned long long)(uintptr_t)result, ok ? "ok" : "WRONG");
    bad |= !ok;
  }
  void *wrote = NULL;
  pthread_join(writer, &wrote);
  for (int s = 0; s < READERS; s++) {
    close(readers[s].fd);
    close(write_fds[s]);
  }
  if (atomic_load(&region_refused) != 0) {
    printf("blocking_reads: %d regions kept their worker\n", atomic_load(&region_refused));
    bad = 1;
  }
  return bad || wrote != NULL;
}

/* A wrong program may hang rather than fail: say so and fail. */
static void on_alarm(int sig) {
  (void)sig;
  static const char msg[] = "blocking_reads: no result after 20 s\n";
  (void)!write(2, msg, sizeof msg - 1);
  _exit(1);
}

int main(void) {
  signal(SIGALRM, on_alarm);
  alarm(20);
  char dir[] = "/tmp/rtctx-blocking-reads-XXXXXX";
  if (mkdtemp(dir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = 2;
  rt_runtime_t *rt = rt_new(&cfg);
  if (rt == NULL)
    return 1;
  rt_handle_t *h = rt_handle(rt);

  int bad = read_files(h, dir);
  bad |= read_sockets(h);
  rmdir(dir);

  int rc = rt_shutdown(rt);
  rt_stats_t st = {.size = sizeof st};
  if (rt_stats_get(h, &st) != RT_OK)
    bad = 1;
  rt_handle_release(h);
  printf("blocking_reads: stats: blocking_spawned %llu, blocking_regions %llu, handoffs %llu, "
         "blocking_threads_peak %llu, stranded_moved %llu, joins_helped %llu\n",
         (unsigned long long)st.blocking_spawned, (unsigned long long)st.blocking_regions,
         (unsigned long long)st.handoffs, (unsigned long long)st.blocking_threads_peak,
         (unsigned long long)st.stranded_moved, (unsigned long long)st.joins_helped);
  /* Each pool job counted once, each reader's region once, each region
   * handed its worker on; the pool had a thread for each reader at least. */
  if (st.blocking_spawned != FILES || st.blocking_regions != READERS || st.handoffs != READERS ||
      st.blocking_threads_peak < READERS || st.spawned != st.completed + st.dropped) {
    printf("blocking_reads: unexpected counters\n");
    bad = 1;
  }
  return rc == RT_OK && !bad ? 0 : 1;
}
