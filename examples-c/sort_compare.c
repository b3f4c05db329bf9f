/*
 * sort_compare.c — qsort with a comparator that runs on the runtime.
 *
 * qsort's comparator is `int (*)(const void *, const void *)`: it has no
 * user-data pointer, so a plain C function could only find its settings in
 * a global. A WAIT trampoline (rt_callback_new) is a real function pointer
 * of exactly that type, bound to a handler, a `user` pointer and a runtime:
 *
 *   - two trampolines share one handler with different `user` settings
 *     (ascending and descending order), no globals;
 *   - called from main, each comparison runs on a worker while qsort waits,
 *     so the element pointers stay valid (why WAIT, not POST);
 *   - called from a task, on a worker of the same runtime, the comparisons
 *     run inline on that worker instead of waiting on themselves.
 *
 * Output:
 *   ascending:  fig kiwi apple lemon mango peach banana cherry
 *   descending: cherry banana peach mango lemon apple kiwi fig
 *   from main: every comparison ran on a worker
 *   from a task: every comparison ran inline on the task's worker
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtctx.h"

enum { N = 8 };
static const char *const fruits[N] = {"peach", "fig",   "banana", "kiwi",
                                      "apple", "mango", "cherry", "lemon"};

/* The comparator's settings: what the trampoline's `user` points at. */
struct order {
  int direction; /* 1 ascending, -1 descending */
  rt_handle_t *runtime;
  pthread_t caller; /* the thread running qsort */
  atomic_int on_caller, on_worker, calls;
};

/* By length, then alphabetically. */
static int compare_words(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la != lb)
    return la < lb ? -1 : 1;
  return strcmp(a, b);
}

/* The handler behind both trampolines. args[i] points at argument i, and
 * argument i is a `const void *` that points at an array element, which is
 * itself a `const char *`. */
static void compare_handler(void *result, void **args, void *user) {
  struct order *o = user;
  const char *a = **(const char *const *const *)args[0];
  const char *b = **(const char *const *const *)args[1];
  atomic_fetch_add(&o->calls, 1);
  if (pthread_equal(pthread_self(), o->caller))
    atomic_fetch_add(&o->on_caller, 1);
  if (rt_handle_current() == o->runtime)
    atomic_fetch_add(&o->on_worker, 1);
  *(int *)result = o->direction * compare_words(a, b); /* exactly an int */
}

typedef int (*comparator)(const void *, const void *);

static bool sorted(const char **v, int direction) {
  for (int i = 1; i < N; i++)
    if (direction * compare_words(v[i - 1], v[i]) > 0)
      return false;
  return true;
}

static void print_words(const char *label, const char **v) {
  printf("%s", label);
  for (int i = 0; i < N; i++)
    printf(" %s", v[i]);
  printf("\n");
}

struct sort_call {
  const char **words;
  comparator compare;
  struct order *order;
};

static void *sort_in_task(void *arg) {
  struct sort_call *s = arg;
  s->order->caller = pthread_self();
  qsort(s->words, N, sizeof *s->words, s->compare);
  return NULL;
}

int main(void) {
  int failed = 0;
  rt_runtime_t *rt = rt_new(NULL);
  if (rt == NULL) {
    fprintf(stderr, "rt_new failed\n");
    return 1;
  }
  rt_handle_t *h = rt_handle(rt);

  const rt_type_t args[2] = {RT_TYPE_POINTER, RT_TYPE_POINTER};
  struct order up = {.direction = 1, .runtime = h, .caller = pthread_self()};
  struct order down = {.direction = -1, .runtime = h, .caller = pthread_self()};
  void *up_code = NULL, *down_code = NULL;
  rt_callback_t *up_cb = rt_callback_new(h, RT_CALLBACK_WAIT, RT_TYPE_INT, args, 2,
                                         compare_handler, &up, &up_code);
  rt_callback_t *down_cb = rt_callback_new(h, RT_CALLBACK_WAIT, RT_TYPE_INT, args, 2,
                                           compare_handler, &down, &down_code);
  if (up_cb == NULL || down_cb == NULL) {
    fprintf(stderr, "rt_callback_new failed\n");
    return 1;
  }

  /* From main: a thread outside the runtime. */
  const char *words[N];
  memcpy(words, fruits, sizeof words);
  qsort(words, N, sizeof *words, (comparator)up_code);
  print_words("ascending: ", words);
  failed |= !sorted(words, 1);

  memcpy(words, fruits, sizeof words);
  qsort(words, N, sizeof *words, (comparator)down_code);
  print_words("descending:", words);
  failed |= !sorted(words, -1);

  int calls = atomic_load(&up.calls) + atomic_load(&down.calls);
  if (calls > 0 && atomic_load(&up.on_caller) + atomic_load(&down.on_caller) == 0 &&
      atomic_load(&up.on_worker) + atomic_load(&down.on_worker) == calls) {
    printf("from main: every comparison ran on a worker\n");
  } else {
    fprintf(stderr, "from main: comparisons did not all run on a worker\n");
    failed = 1;
  }

  /* From a task: the same trampoline, now called on a worker. */
  atomic_store(&up.calls, 0);
  atomic_store(&up.on_caller, 0);
  atomic_store(&up.on_worker, 0);
  memcpy(words, fruits, sizeof words);
  struct sort_call s = {words, (comparator)up_code, &up};
  rt_task_t *task = NULL;
  int rc = rt_spawn_full(h, sort_in_task, &s, NULL, &task);
  if (rc == RT_OK) {
    rc = rt_task_join(task, -1, NULL);
    rt_task_release(task);
  }
  if (rc != RT_OK) {
    fprintf(stderr, "sorting task: %s\n", rt_strerror(rc));
    return 1;
  }
  failed |= !sorted(words, 1);
  calls = atomic_load(&up.calls);
  if (calls > 0 && atomic_load(&up.on_caller) == calls && atomic_load(&up.on_worker) == calls) {
    printf("from a task: every comparison ran inline on the task's worker\n");
  } else {
    fprintf(stderr, "from a task: comparisons did not run inline\n");
    failed = 1;
  }

  /* The foreign side (qsort) stopped calling: free the trampolines. */
  rt_callback_free(up_cb);
  rt_callback_free(down_cb);
  rc = rt_shutdown(rt);
  rt_handle_release(h);
  if (rc != RT_OK) {
    fprintf(stderr, "rt_shutdown: %s\n", rt_strerror(rc));
    return 1;
  }
  if (failed)
    fprintf(stderr, "sort_compare: FAILED\n");
  return failed;
}
