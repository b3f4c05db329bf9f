#include "legacy.h"

#include <rtctx.h>
#include <stdlib.h>

struct job {
  long n;
  legacy_done_fn done;
  void *user;
};

static void run(void *arg) {
  struct job *job = arg;
  long sum = 0;
  for (long i = 1; i <= job->n; i++) sum += i;
  job->done(sum, job->user);
  free(job);
}

int legacy_sum_async(long n, legacy_done_fn done, void *user) {
  /* Borrowed: valid while the calling task runs, which is all we need. */
  rt_handle_t *h = rt_handle_current();
  if (h == NULL || done == NULL) return RT_EINVAL;
  struct job *job = malloc(sizeof *job);
  if (job == NULL) return RT_ENOMEM;
  job->n = n;
  job->done = done;
  job->user = user;
  int rc = rt_spawn(h, run, job);
  if (rc != RT_OK) free(job); /* a failed spawn queued nothing: still ours */
  return rc;
}
