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

/* Thread-local slots, touched only through Context.swift and Worker.swift. */
void *rtctx_tls_worker(void);
void rtctx_tls_set_worker(void *worker);
void *rtctx_tls_context(void);
void rtctx_tls_set_context(void *guard);

#endif
