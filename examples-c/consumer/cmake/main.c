/*
 * A program built with CMake against an installed rtctx (see CMakeLists.txt).
 * It checks that the header and the library it runs against agree, then
 * sums the squares of 1..10 on the runtime's workers.
 */
#include <rtctx.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void *square(void *arg) {
  uintptr_t n = (uintptr_t)arg;
  return (void *)(n * n);
}

int main(void) {
  if (rt_version() != RTCTX_VERSION) {
    fprintf(stderr, "header %s, library %s\n", RTCTX_VERSION_STRING, rt_version_string());
    return 1;
  }
  rt_runtime_t *rt = rt_new(NULL);
  if (rt == NULL) return 1;
  rt_handle_t *h = rt_handle(rt);

  rt_task_t *tasks[10];
  for (uintptr_t i = 0; i < 10; i++) {
    int rc = rt_spawn_full(h, square, (void *)(i + 1), NULL, &tasks[i]);
    if (rc != RT_OK) {
      fprintf(stderr, "rt_spawn_full: %s\n", rt_strerror(rc));
      return 1;
    }
  }
  uintptr_t sum = 0;
  for (int i = 0; i < 10; i++) {
    void *result;
    if (rt_task_join(tasks[i], -1, &result) != RT_OK) return 1;
    sum += (uintptr_t)result;
    rt_task_release(tasks[i]);
  }
  if (rt_shutdown(rt) != RT_OK) return 1;
  rt_handle_release(h);
  printf("CMake consumer: rtctx %s, sum of squares 1..10 = %lu\n", rt_version_string(),
         (unsigned long)sum);
  return sum == 385 ? 0 : 1;
}
