#define _GNU_SOURCE
#include "rtctx_shim.h"
#include "rtctx.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int rtctx_futex_wait(uint32_t *word, uint32_t expected, int64_t timeout_ns) {
  struct timespec ts, *tsp = NULL;
  if (timeout_ns >= 0) {
    ts.tv_sec = (time_t)(timeout_ns / 1000000000);
    ts.tv_nsec = (long)(timeout_ns % 1000000000);
    tsp = &ts;
  }
  /* Private: the word never lives in memory shared between processes, and a
   * private futex skips the kernel's mm lookup. */
  long rc = syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, tsp, NULL, 0);
  return rc == 0 ? 0 : errno;
}

int rtctx_futex_wake(uint32_t *word, int count) {
  long rc = syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, count, NULL, NULL, 0);
  return rc < 0 ? 0 : (int)rc;
}

__thread void *rtctx_tls_worker_slot RTCTX_SHIM_TLS;
__thread void *rtctx_tls_context_slot RTCTX_SHIM_TLS;
__thread void *rtctx_tls_strand_slot RTCTX_SHIM_TLS;
__thread intptr_t rtctx_tls_region_slot RTCTX_SHIM_TLS;
__thread void *rtctx_tls_loop_slot RTCTX_SHIM_TLS;

const char *rtctx_secure_getenv(const char *name) { return secure_getenv(name); }

void rtctx_set_thread_name(const char *name) { pthread_setname_np(pthread_self(), name); }

/* See rtctx_core_load in rtctx_shim.h. A constructor runs before main, or
 * before dlopen returns: no thread of the program can be inside the
 * library yet, so none can leave one of its globals half-initialised. */
__attribute__((constructor)) static void rtctx_shim_load(void) { rtctx_core_load(); }

const char *rtctx_shim_version_string(void) { return RTCTX_VERSION_STRING; }
