/*
 * The platform as the Swift core sees it, in both builds of the same
 * sources: the C library (Embedded Swift, which has no Glibc module) and
 * the SwiftPM build (where these headers resolve to the toolchain's own
 * Glibc module, so the two never clash). The core imports this module
 * instead of Glibc.
 *
 * And the few things Swift cannot say on Linux: the futex syscall (glibc
 * has no wrapper), C11 thread-locals (Swift has no thread-local storage; a
 * pthread key would cost a call on every task), errno (a macro) and code
 * that runs when the library is loaded. Everything else is Swift.
 */
#ifndef RTCTX_SHIM_H
#define RTCTX_SHIM_H

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* errno of the calling thread (a macro in C, so Swift cannot read it). */
static inline int rtctx_errno(void) { return errno; }
/* Restores errno: a signal handler must leave it as it found it. */
static inline void rtctx_set_errno(int value) { errno = value; }

/* RTCTX_VERSION_STRING of include/rtctx.h: a constant string, where Swift
 * would build one at run time. */
const char *rtctx_shim_version_string(void);

/* Called once when the library is loaded (an ELF constructor in shim.c),
 * before any thread of the program can call into it or fork: defined by
 * the core (Load.swift). It sets up every piece of process-wide state, so
 * that nothing is initialised lazily on a path that a forked child can
 * reach: a child forked while another thread was half-way through such an
 * initialisation would wait on it forever. */
void rtctx_core_load(void);

/* Sleeps while *word == expected, at most timeout_ns (< 0: no limit).
 * Returns 0 when woken (or spuriously), else the errno: EAGAIN if the word
 * already differed, ETIMEDOUT, EINTR. */
int rtctx_futex_wait(uint32_t *word, uint32_t expected, int64_t timeout_ns);
/* Wakes up to `count` threads sleeping on word; returns how many woke. */
int rtctx_futex_wake(uint32_t *word, int count);

/* secure_getenv: getenv, but NULL in a program running with privileges
 * its caller lacks (a GNU extension, which Glibc's Swift module does not
 * declare). */
const char *rtctx_secure_getenv(const char *name);

/* pthread_setname_np for the calling thread (a GNU extension, which
 * Glibc's Swift module does not declare). */
void rtctx_set_thread_name(const char *name);

/* The CPU's spin-wait hint (x86 `pause`): a spinning thread then yields
 * pipeline resources to its hyper-thread sibling and leaves the spin loop
 * without a memory-order mis-speculation. Swift has no way to emit it. */
static inline void rtctx_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

/* Thread-local slots, touched only through ThreadSlots in Sys.swift.
 * Initial-exec: a plain %fs-relative load, where the default model for a
 * shared library calls __tls_get_addr on every access (twice per spawn).
 * The library needs 40 bytes of the static TLS surplus glibc keeps for
 * libraries loaded later. Inline, so that Swift reads the slot in place. */
#define RTCTX_SHIM_TLS __attribute__((tls_model("initial-exec"), visibility("hidden")))
extern __thread void *rtctx_tls_worker_slot RTCTX_SHIM_TLS;
extern __thread void *rtctx_tls_context_slot RTCTX_SHIM_TLS;
extern __thread void *rtctx_tls_strand_slot RTCTX_SHIM_TLS;
extern __thread intptr_t rtctx_tls_region_slot RTCTX_SHIM_TLS;
extern __thread void *rtctx_tls_loop_slot RTCTX_SHIM_TLS;

static inline void *rtctx_tls_worker(void) { return rtctx_tls_worker_slot; }
static inline void rtctx_tls_set_worker(void *worker) { rtctx_tls_worker_slot = worker; }
static inline void *rtctx_tls_context(void) { return rtctx_tls_context_slot; }
static inline void rtctx_tls_set_context(void *guard) { rtctx_tls_context_slot = guard; }
static inline void *rtctx_tls_strand(void) { return rtctx_tls_strand_slot; }
static inline void rtctx_tls_set_strand(void *strand) { rtctx_tls_strand_slot = strand; }
static inline intptr_t rtctx_tls_region(void) { return rtctx_tls_region_slot; }
static inline void rtctx_tls_set_region(intptr_t depth) { rtctx_tls_region_slot = depth; }
static inline void *rtctx_tls_loop(void) { return rtctx_tls_loop_slot; }
static inline void rtctx_tls_set_loop(void *loop) { rtctx_tls_loop_slot = loop; }

/* Out of memory (the funnel in shim.c). Each thread that calls into the
 * library keeps a reserve of RTCTX_RESERVE_BYTES (allocated, but touched
 * only when used), from which a failed allocation of the Swift code is
 * served; the thread's flag then says an allocation failed since the last
 * refill. An entry point calls rtctx_alloc_begin first and, at its commit
 * point, refuses with RT_ENOMEM if rtctx_alloc_failed. */
#define RTCTX_RESERVE_BYTES (128 * 1024)
struct rtctx_reserve;
extern __thread struct rtctx_reserve *rtctx_tls_reserve_slot RTCTX_SHIM_TLS;
extern __thread int rtctx_tls_alloc_failed_slot RTCTX_SHIM_TLS;
/* Gives the thread a full reserve (a fresh one if it used its own) and
 * clears its flag; if the system has no memory for it, sets the flag and
 * returns 0. */
int rtctx_alloc_refill(void);
/* The flag starts set on every thread (a thread has no reserve until its
 * first refill), so that the fast path reads one word. */
static inline void rtctx_alloc_begin(void) {
  if (__builtin_expect(rtctx_tls_alloc_failed_slot, 0)) rtctx_alloc_refill();
}
static inline int rtctx_alloc_failed(void) { return rtctx_tls_alloc_failed_slot; }
/* The funnel itself: what the Swift object's calls to posix_memalign,
 * calloc and free are renamed to. */
int rtctx_posix_memalign(void **out, size_t alignment, size_t size);
void *rtctx_calloc(size_t count, size_t size);
void rtctx_free(void *pointer);
/* The debug library's seam (RTCTX_ALLOC_SEAM): whether the allocation
 * being made should fail; always 0 in the release library. */
int rtctx_alloc_seam_fails(void);
/* Whether the system gives `bytes` now (allocated and freed at once): for
 * a growth too large for the reserve, asked before it. 0 sets the flag. */
int rtctx_alloc_probe(size_t bytes);
/* As rtctx_alloc_probe, but the block is kept for this thread's next
 * allocation that fits it (a growth of `bytes` plus a buffer header), so
 * that the growth itself cannot be refused; 0 sets the flag. The caller
 * ends with rtctx_alloc_grant_end, which frees a block left untaken. */
int rtctx_alloc_grant(size_t bytes);
void rtctx_alloc_grant_end(void);

#endif
