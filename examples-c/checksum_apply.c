/* checksum_apply.c — a parallel checksum with rt_apply.
 *
 * A 64 MiB buffer is cut into 1 MiB blocks; rt_apply() computes each
 * block's FNV-1a hash on the runtime's workers, the calling thread taking
 * part, and returns when every block is done. The block hashes are then
 * combined in order, so the result does not depend on which thread hashed
 * which block, and it is compared with the same computation run in a
 * plain loop.
 *
 *   cc checksum_apply.c $(pkg-config --cflags --libs rtctx) -o checksum_apply
 */
#define _POSIX_C_SOURCE 200809L
#include <rtctx.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { BLOCK = 1 << 20, BLOCKS = 64 };

struct job {
  const unsigned char *data;
  uint64_t hash[BLOCKS];
};

static uint64_t fnv1a(const unsigned char *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

/* Called once per block, on any of the threads taking part. */
static void hash_block(void *ctx, size_t i) {
  struct job *job = ctx;
  job->hash[i] = fnv1a(job->data + i * BLOCK, BLOCK);
}

static uint64_t combine(const uint64_t *hash) {
  uint64_t h = 0;
  for (int i = 0; i < BLOCKS; i++)
    h = (h ^ hash[i]) * 0x100000001b3ull;
  return h;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(void) {
  unsigned char *data = malloc((size_t)BLOCK * BLOCKS);
  if (data == NULL)
    return 1;
  uint64_t x = 88172645463325252ull;
  for (size_t i = 0; i < (size_t)BLOCK * BLOCKS; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    data[i] = (unsigned char)x;
  }

  rt_runtime_t *rt = rt_new(NULL); /* one worker per CPU */
  rt_handle_t *h = rt_handle(rt);
  static struct job parallel, serial;
  parallel.data = serial.data = data;

  double t0 = now_ms();
  int rc = rt_apply(h, BLOCKS, hash_block, &parallel);
  double t1 = now_ms();
  for (size_t i = 0; i < BLOCKS; i++)
    hash_block(&serial, i);
  double t2 = now_ms();

  if (rc != RT_OK) {
    fprintf(stderr, "rt_apply: %s\n", rt_strerror(rc));
  } else {
    printf("checksum_apply: %d MiB in %d blocks: %016llx with rt_apply (%.1f ms), %016llx in a loop (%.1f ms)\n",
           BLOCKS * BLOCK >> 20, BLOCKS, (unsigned long long)combine(parallel.hash), t1 - t0,
           (unsigned long long)combine(serial.hash), t2 - t1);
  }
  int same = combine(parallel.hash) == combine(serial.hash);
  if (rt_shutdown(rt) != RT_OK)
    rc = RT_EINVAL;
  rt_handle_release(h);
  free(data);
  return rc == RT_OK && same ? 0 : 1;
}
