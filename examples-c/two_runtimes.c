/*
 * two_runtimes.c — a "front" runtime and a "background jobs" runtime, with
 * work crossing between them through rt_block_on.
 *
 * A program can keep latency-sensitive work and slow batch work apart by
 * giving each its own runtime. Here:
 *
 *   - each request task on "front" hands its slow part to "background
 *     jobs" with rt_block_on: the front worker waits for the result (a
 *     worker of another runtime simply blocks, as any thread would);
 *   - the job reports back to "front" with rt_spawn, fire-and-forget;
 *   - rt_block_on onto a task's own runtime runs inline on its worker
 *     (waiting for a worker of its own would wait on itself);
 *   - every piece of work asks rt_handle_current() where it runs.
 *
 * Output:
 *   main: outside any runtime
 *   request 1: handled on front, job on background jobs, result 1
 *   request 2: handled on front, job on background jobs, result 4
 *   request 3: handled on front, job on background jobs, result 9
 *   request 4: handled on front, job on background jobs, result 16
 *   reports: 4 ran on front
 *   front -> front rt_block_on: inline on the same worker
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "rtctx.h"

static rt_handle_t *front, *jobs;
static atomic_int reports_on_front, misplaced;

/* Where the calling code runs, by the current handle. */
static const char *where(void) {
  rt_handle_t *h = rt_handle_current();
  if (h == NULL)
    return "outside any runtime";
  if (h == front)
    return "front";
  if (h == jobs)
    return "background jobs";
  return "an unknown runtime";
}

struct request {
  int n;
  const char *handled_on;
  const char *job_on;
  long result;
};

/* Back on front: a fire-and-forget note that a job finished. */
static void report(void *arg) {
  (void)arg;
  if (rt_handle_current() == front)
    atomic_fetch_add(&reports_on_front, 1);
  else
    atomic_fetch_add(&misplaced, 1);
}

/* The slow part, on a background worker. */
static void *job(void *arg) {
  struct request *r = arg;
  r->job_on = where();
  r->result = (long)r->n * r->n;
  if (rt_spawn(front, report, NULL) != RT_OK)
    atomic_fetch_add(&misplaced, 1);
  return r;
}

/* A request, on a front worker: its slow part crosses to the other runtime. */
static void *handle_request(void *arg) {
  struct request *r = arg;
  r->handled_on = where();
  void *done = NULL;
  if (rt_block_on(jobs, job, r, &done) != RT_OK || done != r)
    atomic_fetch_add(&misplaced, 1);
  return r;
}

/* rt_block_on onto the task's own runtime: runs right here. */
static void *same_thread(void *arg) {
  return pthread_equal(pthread_self(), *(pthread_t *)arg) ? arg : NULL;
}

static void *block_on_own_runtime(void *arg) {
  (void)arg;
  pthread_t self = pthread_self();
  void *result = NULL;
  if (rt_block_on(front, same_thread, &self, &result) != RT_OK)
    return NULL;
  return result == &self ? (void *)1 : NULL;
}

static rt_runtime_t *start(const char *name, unsigned workers) {
  rt_config_t cfg;
  rt_config_init(&cfg);
  cfg.workers = workers;
  cfg.thread_name = name;
  return rt_new(&cfg);
}

int main(void) {
  rt_runtime_t *front_rt = start("front", 2);
  rt_runtime_t *jobs_rt = start("jobs", 1);
  if (front_rt == NULL || jobs_rt == NULL) {
    fprintf(stderr, "rt_new failed\n");
    return 1;
  }
  front = rt_handle(front_rt);
  jobs = rt_handle(jobs_rt);
  int failed = 0;

  printf("main: %s\n", where());

  enum { N = 4 };
  struct request requests[N];
  rt_task_t *tasks[N];
  for (int i = 0; i < N; i++) {
    requests[i] = (struct request){.n = i + 1};
    if (rt_spawn_full(front, handle_request, &requests[i], NULL, &tasks[i]) != RT_OK) {
      fprintf(stderr, "spawn failed\n");
      return 1;
    }
  }
  for (int i = 0; i < N; i++) {
    if (rt_task_join(tasks[i], -1, NULL) != RT_OK)
      failed = 1;
    rt_task_release(tasks[i]);
    struct request *r = &requests[i];
    printf("request %d: handled on %s, job on %s, result %ld\n", r->n, r->handled_on,
           r->job_on, r->result);
    if (r->result != (long)r->n * r->n)
      failed = 1;
  }

  void *inline_ok = NULL;
  if (rt_block_on(front, block_on_own_runtime, NULL, &inline_ok) != RT_OK)
    failed = 1;

  /* Jobs first: its last reports go to front, which is still running. */
  if (rt_shutdown(jobs_rt) != RT_OK || rt_shutdown(front_rt) != RT_OK)
    failed = 1;
  printf("reports: %d ran on front\n", atomic_load(&reports_on_front));
  printf("front -> front rt_block_on: %s\n",
         inline_ok ? "inline on the same worker" : "NOT inline");

  if (atomic_load(&reports_on_front) != N || atomic_load(&misplaced) != 0 || !inline_ok)
    failed = 1;
  rt_handle_release(front);
  rt_handle_release(jobs);
  if (failed)
    fprintf(stderr, "two_runtimes: FAILED\n");
  return failed;
}
