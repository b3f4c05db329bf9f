/*
 * hello.c — the smallest complete rtctx program.
 *
 * It shows the whole life of a runtime:
 *   1. start one (rt_new) and take a handle to it (rt_handle);
 *   2. spawn tasks from ordinary synchronous code (rt_spawn_full) and wait
 *      for them with their join handles (rt_task_join);
 *   3. run a function on the runtime and get its result (rt_block_on);
 *   4. shut it down gracefully (rt_shutdown) and let go of the handle.
 *
 * Output:
 *   Task 1 on runtime
 *   Task 2 on runtime
 *   Got: 42
 *   Runtime shut down
 *
 * Build: cc -std=c11 -Iinclude examples-c/hello.c -Lbuild/lib -lrtctx \
 *          -Wl,-rpath,$PWD/build/lib -o hello
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "rtctx.h"

/* Every rtctx call that can fail returns RT_OK or a negative RT_E* code. */
static void check(int rc, const char *what) {
  if (rc != RT_OK) {
    fprintf(stderr, "%s: %s\n", what, rt_strerror(rc));
    exit(1);
  }
}

/* A task: runs on one of the runtime's worker threads. */
static void *say_hello(void *arg) {
  const char *name = arg;
  printf("%s on runtime\n", name);
  return NULL;
}

/* Work with a result: sleeps 5 ms, then answers. */
static void *compute(void *arg) {
  (void)arg;
  struct timespec five_ms = {0, 5 * 1000 * 1000};
  nanosleep(&five_ms, NULL);
  return (void *)(intptr_t)42;
}

int main(void) {
  rt_runtime_t *rt = rt_new(NULL); /* NULL: default config, one worker per CPU */
  if (rt == NULL) {
    fprintf(stderr, "rt_new failed\n");
    return 1;
  }
  rt_handle_t *h = rt_handle(rt); /* our reference: released at the end */

  /* Tasks run in no promised order, so each is joined before the next is
   * spawned: that keeps the two lines in order. */
  const char *names[] = {"Task 1", "Task 2"};
  for (int i = 0; i < 2; i++) {
    rt_task_t *task;
    check(rt_spawn_full(h, say_hello, (void *)names[i], NULL, &task), "rt_spawn_full");
    check(rt_task_join(task, -1, NULL), "rt_task_join"); /* -1: wait forever */
    rt_task_release(task);
  }

  void *result;
  check(rt_block_on(h, compute, NULL, &result), "rt_block_on");
  printf("Got: %d\n", (int)(intptr_t)result);

  /* Runs everything still queued, stops the workers and frees rt. */
  check(rt_shutdown(rt), "rt_shutdown");
  printf("Runtime shut down\n");

  rt_handle_release(h);
  return 0;
}
