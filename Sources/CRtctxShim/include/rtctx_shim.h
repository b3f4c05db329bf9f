/*
 * The few things Swift cannot say on Linux: the futex syscall (glibc has no
 * wrapper) and C11 thread-locals (Swift has no thread-local storage; a
 * pthread key would cost a call on every task). Everything else is Swift.
 */
#ifndef RTCTX_SHIM_H
#define RTCTX_SHIM_H

#include <stdint.h>

/* Sleeps while *word == expected, at most timeout_ns (< 0: no limit).
 * Returns 0 when woken (or spuriously), else the errno: EAGAIN if the word
 * already differed, ETIMEDOUT, EINTR. */
int rtctx_futex_wait(uint32_t *word, uint32_t expected, int64_t timeout_ns);
/* Wakes up to `count` threads sleeping on word; returns how many woke. */
int rtctx_futex_wake(uint32_t *word, int count);

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
 * The library needs 16 bytes of the static TLS surplus glibc keeps for
 * libraries loaded later. Inline, so that Swift reads the slot in place. */
extern __thread void *rtctx_tls_worker_slot __attribute__((tls_model("initial-exec")));
extern __thread void *rtctx_tls_context_slot __attribute__((tls_model("initial-exec")));

static inline void *rtctx_tls_worker(void) { return rtctx_tls_worker_slot; }
static inline void rtctx_tls_set_worker(void *worker) { rtctx_tls_worker_slot = worker; }
static inline void *rtctx_tls_context(void) { return rtctx_tls_context_slot; }
static inline void rtctx_tls_set_context(void *guard) { rtctx_tls_context_slot = guard; }

#endif
