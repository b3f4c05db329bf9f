/*
 * A stand-in for an existing C library that works on "the current rtctx
 * runtime" and reports through a callback, as C libraries do. It never takes
 * a runtime argument: it asks rt_handle_current().
 */
#ifndef LEGACY_H
#define LEGACY_H

/* Runs on a worker of the runtime, once the sum is known. */
typedef void (*legacy_done_fn)(long sum, void *user);

/* Sums 1...n on the current runtime and calls done(sum, user) from a worker.
 * Returns 0 if queued (done will be called exactly once), else a negative
 * RT_E* code and done is never called: RT_EINVAL when no runtime is current
 * on this thread. */
int legacy_sum_async(long n, legacy_done_fn done, void *user);

#endif
