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

void rtctx_alloc_load(void);

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
__attribute__((constructor)) static void rtctx_shim_load(void) {
  rtctx_alloc_load();
  rtctx_core_load();
}

const char *rtctx_shim_version_string(void) { return RTCTX_VERSION_STRING; }

/* --- The allocation funnel ------------------------------------------------
 *
 * Every allocation of the Swift object comes here: mk/embedded.mk renames
 * its posix_memalign, calloc and free (the Embedded Swift runtime's
 * swift_allocObject and swift_slowAlloc call posix_memalign, and trap on a
 * failure). Swift code cannot handle a NULL, so a failure never reaches
 * it: the block comes from the calling thread's reserve instead (or the
 * process's shared one), and the thread's failure flag tells the entry
 * point, at its commit point, to undo what it built and answer RT_ENOMEM.
 * The reserve is a bump arena whose live count and offset share one word:
 * its owner rewinds it once no block is live (the shared one is rewound
 * by its last free: it is never freed), and a retired chunk is freed by
 * whoever ends its last use. */

#include <stdatomic.h>

#define RESERVE_BYTES ((size_t)RTCTX_RESERVE_BYTES)
#define RESERVE_HEADER ((size_t)64)
#define RESERVE_SLOTS 4096
#define RESERVE_RETIRED ((uint64_t)1 << 63)
#define RESERVE_LIVE_ONE ((uint64_t)1 << 32)
#define RESERVE_LIVE_MASK (((uint64_t)1 << 63) - RESERVE_LIVE_ONE)
#define RESERVE_OFFSET_MASK (RESERVE_LIVE_ONE - 1)

struct rtctx_reserve {
  /* bit 63 retired, bits 32-62 live blocks, bits 0-31 bump offset. */
  _Atomic uint64_t state;
};

__thread struct rtctx_reserve *rtctx_tls_reserve_slot RTCTX_SHIM_TLS;
__thread int rtctx_tls_alloc_failed_slot RTCTX_SHIM_TLS = 1;

/* Reserve blocks live anywhere: free's fast path reads only this. */
static _Atomic uint64_t reserve_live;
static struct rtctx_reserve *_Atomic reserve_registry[RESERVE_SLOTS];
static _Atomic size_t reserve_registry_high;
static struct rtctx_reserve *shared_reserve;
static pthread_key_t reserve_key;
static int reserve_key_ok;

#ifdef RTCTX_ALLOC_SEAM
/* The debug library's seam (rtctx_debug_fail_allocations). */
static _Atomic uint64_t seam_count;
static _Atomic uint64_t seam_fail_from = UINT64_MAX;
static _Atomic uint64_t seam_fail_to;

static int seam_fails(void) {
  uint64_t n = atomic_fetch_add_explicit(&seam_count, 1, memory_order_relaxed) + 1;
  return n >= atomic_load_explicit(&seam_fail_from, memory_order_relaxed) &&
         n < atomic_load_explicit(&seam_fail_to, memory_order_relaxed);
}

void rtctx_debug_fail_allocations(uint64_t nth, uint64_t count) {
  uint64_t now = atomic_load(&seam_count);
  uint64_t from = nth == 0 ? UINT64_MAX : now + nth;
  uint64_t to = count > UINT64_MAX - from ? UINT64_MAX : from + count;
  atomic_store(&seam_fail_from, UINT64_MAX);
  atomic_store(&seam_fail_to, to);
  atomic_store(&seam_fail_from, from);
}

uint64_t rtctx_debug_allocations(void) { return atomic_load(&seam_count); }
#else
static inline int seam_fails(void) { return 0; }
#endif

int rtctx_alloc_seam_fails(void) { return seam_fails(); }

static int reserve_register(struct rtctx_reserve *chunk) {
  for (size_t i = 0; i < RESERVE_SLOTS; i++) {
    struct rtctx_reserve *expected = NULL;
    if (atomic_compare_exchange_strong(&reserve_registry[i], &expected, chunk)) {
      size_t high = atomic_load(&reserve_registry_high);
      while (high < i + 1 && !atomic_compare_exchange_weak(&reserve_registry_high, &high, i + 1)) {
      }
      return 1;
    }
  }
  return 0;
}

static void reserve_unregister_free(struct rtctx_reserve *chunk) {
  size_t high = atomic_load(&reserve_registry_high);
  for (size_t i = 0; i < high; i++) {
    if (atomic_load(&reserve_registry[i]) == chunk) {
      atomic_store(&reserve_registry[i], NULL);
      break;
    }
  }
  free(chunk);
}

/* NULL if the system refused the memory, or (*full set) if every slot of
 * the registry is taken: more than RESERVE_SLOTS threads with a reserve. */
static struct rtctx_reserve *reserve_new(int *full) {
  void *memory = NULL;
  *full = 0;
  if (seam_fails() || posix_memalign(&memory, RESERVE_HEADER, RESERVE_BYTES) != 0) return NULL;
  struct rtctx_reserve *chunk = memory;
  atomic_init(&chunk->state, 0);
  if (!reserve_register(chunk)) {
    free(chunk);
    *full = 1;
    return NULL;
  }
  return chunk;
}

static void reserve_retire(struct rtctx_reserve *chunk) {
  uint64_t old = atomic_fetch_or(&chunk->state, RESERVE_RETIRED);
  if ((old & RESERVE_LIVE_MASK) == 0) reserve_unregister_free(chunk);
}

static void *reserve_take(struct rtctx_reserve *chunk, size_t alignment, size_t size) {
  if (chunk == NULL || size > RESERVE_BYTES) return NULL;
  if (alignment < 16) alignment = 16;
  uintptr_t base = (uintptr_t)chunk + RESERVE_HEADER;
  uint64_t state = atomic_load(&chunk->state);
  for (;;) {
    if (state & RESERVE_RETIRED) return NULL;
    uintptr_t start = (base + (state & RESERVE_OFFSET_MASK) + alignment - 1) & ~(uintptr_t)(alignment - 1);
    if (start - base + size > RESERVE_BYTES - RESERVE_HEADER) return NULL;
    uint64_t next = ((state & RESERVE_LIVE_MASK) + RESERVE_LIVE_ONE) | (uint64_t)(start - base + size);
    if (atomic_compare_exchange_weak(&chunk->state, &state, next)) {
      atomic_fetch_add(&reserve_live, 1);
      return (void *)start;
    }
  }
}

/* Whether `pointer` was a reserve block (then given back). */
static int reserve_give_back(void *pointer) {
  uintptr_t p = (uintptr_t)pointer;
  size_t high = atomic_load(&reserve_registry_high);
  for (size_t i = 0; i < high; i++) {
    struct rtctx_reserve *chunk = atomic_load(&reserve_registry[i]);
    uintptr_t base = (uintptr_t)chunk + RESERVE_HEADER;
    if (chunk == NULL || p < base || p >= (uintptr_t)chunk + RESERVE_BYTES) continue;
    atomic_fetch_sub(&reserve_live, 1);
    uint64_t state = atomic_fetch_sub(&chunk->state, RESERVE_LIVE_ONE) - RESERVE_LIVE_ONE;
    if ((state & RESERVE_LIVE_MASK) == 0) {
      if (state & RESERVE_RETIRED)
        reserve_unregister_free(chunk);
      else if (chunk == shared_reserve) /* unless someone took a block meanwhile */
        atomic_compare_exchange_strong(&chunk->state, &state, 0);
      /* A thread's own chunk: only its owner rewinds it (rtctx_alloc_refill),
       * since the owner may retire and free it the moment its count is 0. */
    }
    return 1;
  }
  return 0;
}

static void *reserve_serve(size_t alignment, size_t size) {
  void *block = reserve_take(rtctx_tls_reserve_slot, alignment, size);
  if (block == NULL) block = reserve_take(shared_reserve, alignment, size);
  rtctx_tls_alloc_failed_slot = 1;
  return block;
}

/* A block the system gave to rtctx_alloc_grant, kept for the growth that
 * asked: the first allocation of this thread that it fits (a buffer's
 * header on top of the bytes asked, within GRANT_SLACK) takes it. So a
 * growth checked before the commit point is never refused after it, even
 * when another thread takes the memory in between. */
#define GRANT_SLACK 128
static __thread void *grant_block RTCTX_SHIM_TLS;
static __thread size_t grant_bytes RTCTX_SHIM_TLS;

int rtctx_alloc_grant(size_t bytes) {
  rtctx_alloc_grant_end();
  void *block = NULL;
  if (bytes > SIZE_MAX - GRANT_SLACK || seam_fails() || posix_memalign(&block, 16, bytes + GRANT_SLACK) != 0) {
    rtctx_tls_alloc_failed_slot = 1;
    return 0;
  }
  grant_block = block;
  grant_bytes = bytes + GRANT_SLACK;
  return 1;
}

void rtctx_alloc_grant_end(void) {
  void *block = grant_block;
  grant_block = NULL;
  free(block);
}

int rtctx_posix_memalign(void **out, size_t alignment, size_t size) {
  if (__builtin_expect(grant_block != NULL, 0) && alignment <= 16 && size <= grant_bytes &&
      size + 2 * GRANT_SLACK > grant_bytes) {
    *out = grant_block;
    grant_block = NULL;
    return 0;
  }
  if (!seam_fails() && posix_memalign(out, alignment, size) == 0) return 0;
  void *block = reserve_serve(alignment, size);
  if (block == NULL) return ENOMEM;
  *out = block;
  return 0;
}

void *rtctx_calloc(size_t count, size_t size) {
  void *block = seam_fails() ? NULL : calloc(count, size);
  if (block != NULL) return block;
  if (size != 0 && count > SIZE_MAX / size) return NULL;
  block = reserve_serve(16, count * size);
  if (block != NULL) memset(block, 0, count * size);
  return block;
}

void rtctx_free(void *pointer) {
  if (pointer == NULL) return;
  if (atomic_load_explicit(&reserve_live, memory_order_relaxed) != 0 && reserve_give_back(pointer)) return;
  free(pointer);
}

int rtctx_alloc_probe(size_t bytes) {
  void *block = NULL;
  if (seam_fails() || posix_memalign(&block, 16, bytes) != 0) {
    rtctx_tls_alloc_failed_slot = 1;
    return 0;
  }
  free(block);
  return 1;
}

static void reserve_thread_exit(void *unused) {
  (void)unused;
  rtctx_alloc_grant_end();
  struct rtctx_reserve *chunk = rtctx_tls_reserve_slot;
  rtctx_tls_reserve_slot = NULL;
  if (chunk != NULL) reserve_retire(chunk);
}

int rtctx_alloc_refill(void) {
  struct rtctx_reserve *chunk = rtctx_tls_reserve_slot;
  if (chunk != NULL) {
    uint64_t state = atomic_load(&chunk->state);
    if ((state & RESERVE_LIVE_MASK) == 0 && (state == 0 || atomic_compare_exchange_strong(&chunk->state, &state, 0))) {
      rtctx_tls_alloc_failed_slot = 0;
      return 1;
    }
  }
  int full;
  struct rtctx_reserve *fresh = reserve_new(&full);
  if (fresh == NULL) {
    /* Too many threads for the registry is no shortage of memory: such a
     * thread goes on with what is left of its own reserve and the
     * process's. */
    rtctx_tls_alloc_failed_slot = !full;
    return !rtctx_tls_alloc_failed_slot;
  }
  /* The key's destructor retires the chunk when the thread exits; with no
   * key (the process used up its keys), threads share the process's. */
  if (chunk == NULL && (!reserve_key_ok || pthread_setspecific(reserve_key, fresh) != 0)) {
    reserve_retire(fresh);
    rtctx_tls_alloc_failed_slot = reserve_key_ok;
    return !rtctx_tls_alloc_failed_slot;
  }
  rtctx_tls_reserve_slot = fresh;
  if (chunk != NULL) reserve_retire(chunk);
  rtctx_tls_alloc_failed_slot = 0;
  return 1;
}

void rtctx_alloc_load(void) {
  reserve_key_ok = pthread_key_create(&reserve_key, reserve_thread_exit) == 0;
  void *memory = NULL;
  if (posix_memalign(&memory, RESERVE_HEADER, RESERVE_BYTES) == 0) {
    shared_reserve = memory;
    atomic_init(&shared_reserve->state, 0);
    reserve_register(shared_reserve);
  }
}
