/*
 * rtctx.h — a task runtime for C programs.
 *
 * A runtime owns a pool of worker threads. C code holds an opaque handle to
 * it and posts work (rt_spawn), runs work and waits for its result
 * (rt_block_on), finds the runtime driving the current thread
 * (rt_handle_current), enters a runtime's context on any thread (rt_enter)
 * and shuts it down without losing a task (rt_shutdown).
 *
 * Conventions that hold for every function unless its comment says otherwise:
 *
 *  - Any thread may call it, including threads the runtime never created
 *    (foreign threads, callbacks fired by other C libraries).
 *  - Functions that can fail return int: RT_OK (0) or a negative RT_E* code.
 *    Functions that return a pointer return NULL on failure.
 *  - NULL or out-of-range arguments give RT_EINVAL (or NULL), never a crash.
 *    Using a pointer after its last release is undefined behaviour.
 *  - A spawn that fails queued nothing: the caller still owns `arg`, and
 *    neither `fn` nor `drop` is ever called for it.
 *  - Every accepted task runs exactly once on a worker thread, or is dropped
 *    exactly once: its `drop` callback (if not NULL) receives `arg`. Never
 *    both, never twice.
 *
 * Copyright the rtctx authors. Licensed under the Apache License 2.0.
 */
#ifndef RTCTX_H
#define RTCTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTCTX_VERSION_MAJOR 0
#define RTCTX_VERSION_MINOR 1
#define RTCTX_VERSION_PATCH 0
/** The version as one comparable number: MAJOR * 10000 + MINOR * 100 + PATCH. */
#define RTCTX_VERSION                                                          \
  (RTCTX_VERSION_MAJOR * 10000 + RTCTX_VERSION_MINOR * 100 + RTCTX_VERSION_PATCH)

#if defined(__GNUC__) || defined(__clang__)
#define RT_EXPORT __attribute__((visibility("default")))
#else
#define RT_EXPORT
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

/** Result codes. Every failing call returns one of these; the values are ABI. */
enum {
  RT_OK = 0,           /**< success */
  RT_EINVAL = -22,     /**< bad argument: NULL fn or handle, bad config, misuse */
  RT_ENOMEM = -12,     /**< an allocation failed */
  RT_EAGAIN = -11,     /**< the bounded queue is full; try again later */
  RT_EDEADLK = -35,    /**< the call would wait on itself (shutdown from a worker) */
  RT_ETIMEDOUT = -110, /**< a timeout elapsed first */
  RT_ESHUTDOWN = -108, /**< the runtime is shutting down or gone */
  RT_ECANCELED = -125, /**< the task was cancelled or dropped and never ran */
  RT_EBUSY = -16       /**< the task already started or finished (cancel) */
};

/**
 * A static, human-readable description of `code`.
 * @return never NULL; unknown codes give "unknown error". The string lives
 *         as long as the program and must not be freed.
 */
RT_EXPORT const char *rt_strerror(int code);

/** The library's version as RTCTX_VERSION computes it (may differ from the
 *  header's when the program runs against a newer library). */
RT_EXPORT unsigned rt_version(void);
/** The library's version as "MAJOR.MINOR.PATCH"; static, never NULL. */
RT_EXPORT const char *rt_version_string(void);

/* ------------------------------------------------------------------------ */
/* Types                                                                     */
/* ------------------------------------------------------------------------ */

/** A running runtime. Owned by its creator; rt_shutdown* consumes it. */
typedef struct rt_runtime rt_runtime_t;
/** A reference-counted reference to a runtime; cheap to clone; outlives it. */
typedef struct rt_handle rt_handle_t;
/** A join handle to one spawned task; reference-counted. */
typedef struct rt_task rt_task_t;
/** An entered runtime context on one thread; see rt_enter(). */
typedef struct rt_guard rt_guard_t;

/** Fire-and-forget work: runs once on a worker thread. */
typedef void (*rt_fn)(void *arg);
/** Work with a result; the result is handed to joiners and rt_block_on. */
typedef void *(*rt_call_fn)(void *arg);
/** Called with `arg` instead of the task's function when it will never run
 *  (cancelled, or dropped by a shutdown). Runs on the thread that dropped it. */
typedef void (*rt_drop_fn)(void *arg);

/* ------------------------------------------------------------------------ */
/* Runtime                                                                   */
/* ------------------------------------------------------------------------ */

/**
 * Runtime configuration. Versioned: `size` must be set (rt_config_init does
 * it). A smaller `size`, from a program built against an older header, is
 * accepted and the missing fields take their defaults; a larger one than
 * this library knows is RT_EINVAL (rt_new returns NULL).
 */
typedef struct rt_config {
  size_t size;                        /**< sizeof(rt_config_t), set by rt_config_init */
  unsigned workers;                   /**< worker threads; 0 = online CPUs; at most 1024 */
  size_t queue_capacity;              /**< 0 = unbounded; else rt_spawn and rt_spawn_full
                                           return RT_EAGAIN while this many tasks are queued */
  const char *thread_name;            /**< worker name prefix, copied; NULL = "rt-worker".
                                           Workers are named "<prefix>-<index>", cut to 15 bytes */
  void (*on_thread_start)(void *user);/**< runs on each worker before its first task */
  void (*on_thread_stop)(void *user); /**< runs on each worker after its last task */
  void *user;                         /**< passed to both hooks */
} rt_config_t;

/** Fills `cfg` with the defaults and sets `cfg->size`. NULL is a no-op. */
RT_EXPORT void rt_config_init(rt_config_t *cfg);

/**
 * Starts a runtime: its worker threads are running and each has run
 * `on_thread_start` when this returns.
 * @param cfg the configuration, or NULL for the defaults. It is not kept.
 * @return the runtime, owned by the caller until it passes it to
 *         rt_shutdown* ; NULL for a bad configuration (size larger than the
 *         library knows, too many workers) or when threads could not start.
 */
RT_EXPORT rt_runtime_t *rt_new(const rt_config_t *cfg);

/**
 * A new reference to the runtime's handle. Every call returns the same
 * pointer with one more reference: release each with rt_handle_release().
 * @return NULL if `rt` is NULL.
 */
RT_EXPORT rt_handle_t *rt_handle(rt_runtime_t *rt);

/**
 * Graceful shutdown, in this order:
 *  1. From now on rt_spawn*, rt_block_on and trampoline calls made from
 *     outside this runtime's workers return RT_ESHUTDOWN. Tasks running on
 *     this runtime may still spawn onto it, so work in flight can finish.
 *  2. Every task accepted before runs to completion. Draining ends when no
 *     task is queued or running; timers still pending then are dropped
 *     (their drop runs, joins see RT_ECANCELED). Timers that fall due while
 *     draining run.
 *  3. on_thread_stop runs on each worker; all workers are joined.
 *  4. Every drop has run and `rt` is freed: do not use it again. Handles
 *     stay valid until their last release; spawning or waiting through them
 *     returns RT_ESHUTDOWN, rt_stats_get reports `shutdown`.
 *
 * @return RT_OK; RT_EINVAL if `rt` is NULL; RT_EDEADLK, changing nothing,
 *         when called on a worker thread of this same runtime.
 */
RT_EXPORT int rt_shutdown(rt_runtime_t *rt);

/**
 * rt_shutdown that gives up draining after `timeout_ns` nanoseconds: tasks
 * not yet started then are dropped (each drop exactly once, on the thread
 * that drops it), tasks already running are waited for, and a rt_block_on
 * whose task is dropped returns RT_ECANCELED. From the timeout on, tasks
 * still running can no longer spawn (RT_ESHUTDOWN).
 * @return RT_OK if everything ran; RT_ETIMEDOUT if the timeout dropped any
 *         task (pending timers dropped as in rt_shutdown step 2 do not
 *         count); RT_EINVAL for NULL; RT_EDEADLK as rt_shutdown. In every
 *         case but RT_EINVAL and RT_EDEADLK `rt` is freed.
 */
RT_EXPORT int rt_shutdown_timeout(rt_runtime_t *rt, uint64_t timeout_ns);

/* ------------------------------------------------------------------------ */
/* Handles and context                                                       */
/* ------------------------------------------------------------------------ */

/** A new reference to the same handle (the same pointer). NULL gives NULL. */
RT_EXPORT rt_handle_t *rt_handle_clone(rt_handle_t *h);
/** Drops one reference. NULL is a no-op. The handle may outlive its runtime. */
RT_EXPORT void rt_handle_release(rt_handle_t *h);

/**
 * The handle current on this thread, BORROWED (do not release it):
 *  - the innermost handle entered with rt_enter() and not yet exited; else
 *  - on a worker thread (in tasks and in on_thread_start/on_thread_stop), the
 *    worker's runtime; else
 *  - NULL.
 * The pointer stays valid until the running task returns or the matching
 * rt_exit(); clone it to keep it longer.
 */
RT_EXPORT rt_handle_t *rt_handle_current(void);

/**
 * Makes `h` current on the calling thread until the matching rt_exit().
 * Works on any thread and nests; the guard keeps its own reference to `h`.
 * @return a guard for rt_exit(), or NULL if `h` is NULL or out of memory.
 */
RT_EXPORT rt_guard_t *rt_enter(rt_handle_t *h);

/**
 * Undoes the matching rt_enter() and frees `g`: the handle current before it
 * is current again. Exits must be last-in-first-out and on the entering
 * thread.
 * @return RT_OK; RT_EINVAL, changing nothing, for NULL, for a guard that is
 *         not the innermost one, or for a guard entered on another thread.
 */
RT_EXPORT int rt_exit(rt_guard_t *g);

/* ------------------------------------------------------------------------ */
/* Spawning, waiting, joining                                                */
/* ------------------------------------------------------------------------ */

/**
 * Queues `fn(arg)` to run once on a worker thread.
 * @return RT_OK; RT_EINVAL (NULL h or fn); RT_EAGAIN (the bounded queue is
 *         full); RT_ESHUTDOWN (shutdown started and the caller is not a task
 *         of this runtime, or the runtime is gone); RT_ENOMEM.
 */
RT_EXPORT int rt_spawn(rt_handle_t *h, rt_fn fn, void *arg);

/**
 * Queues `fn(arg)` with a drop callback and, optionally, a join handle.
 * @param drop      called with `arg` instead of `fn` if the task never runs;
 *                  may be NULL.
 * @param task_out  if not NULL, receives a new join handle on success (release
 *                  it with rt_task_release) and is left untouched on failure.
 * @return as rt_spawn.
 */
RT_EXPORT int rt_spawn_full(rt_handle_t *h, rt_call_fn fn, void *arg,
                            rt_drop_fn drop, rt_task_t **task_out);

/**
 * Like rt_spawn_full, but the task becomes runnable `delay_ns` nanoseconds
 * from now (monotonic clock), never earlier. Timers start in the order they
 * fall due. `delay_ns` 0 is rt_spawn_full. Timers are not refused for a full
 * queue. A timer still pending when a shutdown has drained is dropped.
 * @return as rt_spawn_full, except that RT_EAGAIN is never returned.
 */
RT_EXPORT int rt_spawn_after(rt_handle_t *h, uint64_t delay_ns, rt_call_fn fn,
                             void *arg, rt_drop_fn drop, rt_task_t **task_out);

/**
 * Runs `fn(arg)` on a worker and blocks the calling thread until it returned.
 * On a worker thread of the same runtime `fn` runs inline instead (no
 * deadlock); on a worker of another runtime that worker simply blocks.
 * Not refused for a full queue.
 * @param result if not NULL, receives fn's return value on RT_OK.
 * @return RT_OK; RT_EINVAL (NULL h or fn); RT_ESHUTDOWN (as rt_spawn);
 *         RT_ECANCELED if a shutdown timeout dropped the task before it ran.
 */
RT_EXPORT int rt_block_on(rt_handle_t *h, rt_call_fn fn, void *arg,
                          void **result);

/**
 * Waits for the task to finish.
 * @param timeout_ns <0 waits forever; 0 only polls.
 * @param result     if not NULL, receives the task's result on RT_OK.
 * @return RT_OK once the task ran; RT_ECANCELED if it was dropped;
 *         RT_ETIMEDOUT if the timeout elapsed first; RT_EINVAL for NULL.
 * Several threads may join the same task. Called on a worker of the task's
 * runtime for a task that has not started, it runs the task inline rather
 * than waiting on itself.
 */
RT_EXPORT int rt_task_join(rt_task_t *t, int64_t timeout_ns, void **result);

/**
 * Cancels a task that has not started: it will never run, and its drop has
 * run on the calling thread when this returns RT_OK.
 * @return RT_OK; RT_EBUSY if the task already started, finished or was
 *         cancelled before; RT_EINVAL for NULL.
 */
RT_EXPORT int rt_task_cancel(rt_task_t *t);

/** True once the task ran to the end or was dropped. False for NULL. */
RT_EXPORT bool rt_task_is_finished(rt_task_t *t);

/** Drops the join handle. The task itself still runs. NULL is a no-op. */
RT_EXPORT void rt_task_release(rt_task_t *t);

/* ------------------------------------------------------------------------ */
/* Observability                                                             */
/* ------------------------------------------------------------------------ */

/**
 * Counters of one runtime. Versioned like rt_config_t: set `size` to
 * sizeof(rt_stats_t) before calling rt_stats_get(). Work run inline (a
 * rt_block_on, WAIT trampoline or join on a worker of the same runtime) is
 * not counted. After a finished shutdown, spawned == completed + dropped.
 */
typedef struct rt_stats {
  size_t size;        /**< set by the caller to sizeof(rt_stats_t) */
  unsigned workers;   /**< configured worker count */
  uint64_t spawned;   /**< tasks accepted: spawns, timers, block_on, trampoline calls */
  uint64_t completed; /**< ran to the end */
  uint64_t dropped;   /**< never ran */
  uint64_t queued;    /**< accepted, not yet started, timers excluded (approximate while running) */
  uint64_t timers;    /**< timers not yet due */
  uint64_t rejected;  /**< spawns, block_on and trampoline calls refused (RT_ESHUTDOWN, RT_EAGAIN) */
  bool shutdown;      /**< shutdown started */
} rt_stats_t;

/**
 * Fills `out` (up to `out->size` bytes) with the runtime's counters. Works
 * after shutdown too.
 * @return RT_OK; RT_EINVAL for NULL, or a `size` smaller than the `size`
 *         field itself or larger than this library knows.
 */
RT_EXPORT int rt_stats_get(rt_handle_t *h, rt_stats_t *out);

/* ------------------------------------------------------------------------ */
/* FFI callback trampolines (libffi)                                         */
/* ------------------------------------------------------------------------ */

/** Argument and return types a trampoline can carry. Values are ABI. */
typedef enum rt_type {
  RT_TYPE_VOID,
  RT_TYPE_INT,
  RT_TYPE_UINT,
  RT_TYPE_LONG,
  RT_TYPE_ULONG,
  RT_TYPE_INT8,
  RT_TYPE_UINT8,
  RT_TYPE_INT16,
  RT_TYPE_UINT16,
  RT_TYPE_INT32,
  RT_TYPE_UINT32,
  RT_TYPE_INT64,
  RT_TYPE_UINT64,
  RT_TYPE_SIZE,
  RT_TYPE_FLOAT,
  RT_TYPE_DOUBLE,
  RT_TYPE_POINTER
} rt_type_t;

/** How a trampoline hands a call to the runtime. */
typedef enum rt_callback_mode {
  /** Copy the arguments, queue the handler, return at once (void only).
   *  Pointer arguments are copied as pointers: what they point at must
   *  outlive the handler. Not refused for a full queue. */
  RT_CALLBACK_POST,
  /** Run the handler on a worker and wait for it; its result is returned.
   *  Inline on a worker of the same runtime. Use it when arguments point at
   *  memory that lives only during the call, or a result is needed. */
  RT_CALLBACK_WAIT
} rt_callback_mode_t;

/**
 * A trampoline's handler. `args[i]` points at argument i, typed as declared
 * (for a pointer argument, at the pointer). `result` points at zeroed
 * storage for the declared return type (NULL for VOID): write exactly that
 * C type, the library widens it as the ABI needs.
 * Runs on a worker thread (inline for WAIT calls made on a worker of the
 * trampoline's runtime), where rt_handle_current() is that runtime.
 */
typedef void (*rt_callback_fn)(void *result, void **args, void *user);

/** A trampoline: a C function pointer bound to a handle and a handler. */
typedef struct rt_callback rt_callback_t;

/** The most arguments a trampoline takes. */
#define RT_CALLBACK_MAX_ARGS 32

/**
 * Creates a trampoline: a real C function pointer of the signature
 * `ret (*)(arg_types[0], ..., arg_types[nargs-1])` that forwards each call
 * to `handler(result, args, user)` on the runtime of `h`. It keeps its own
 * reference to `h`. Any thread may call the function pointer, until
 * rt_callback_free().
 * @param mode      RT_CALLBACK_POST (then `ret` must be RT_TYPE_VOID) or
 *                  RT_CALLBACK_WAIT.
 * @param arg_types `nargs` argument types, copied; may be NULL if `nargs`
 *                  is 0. RT_TYPE_VOID is not an argument type.
 * @param code_out  receives the function pointer; cast it to the signature.
 *                  Left untouched on failure.
 * @return the trampoline, or NULL (nothing allocated) for a NULL handle,
 *         handler or code_out, an unknown mode or type, a VOID argument,
 *         POST with a non-void return, more than RT_CALLBACK_MAX_ARGS
 *         arguments, arg_types NULL with nargs > 0, or no memory.
 * After the runtime shut down, POST calls are dropped and WAIT calls return
 * a zero-filled result, without running the handler; both count in
 * rt_stats_t.rejected. If a shutdown timeout drops a queued POST call, its
 * handler never runs.
 */
RT_EXPORT rt_callback_t *rt_callback_new(rt_handle_t *h, rt_callback_mode_t mode,
                                         rt_type_t ret, const rt_type_t *arg_types,
                                         size_t nargs, rt_callback_fn handler,
                                         void *user, void **code_out);

/**
 * Frees a trampoline once the foreign side stopped calling it: the function
 * pointer is invalid afterwards. Returns after the POST calls already
 * queued have run (or were dropped by a shutdown). NULL is a no-op.
 * Exception: called on a worker of the trampoline's runtime (for instance
 * from its own handler) it returns at once, since waiting there could wait
 * on itself; calls still queued then run later, and the trampoline's memory
 * is freed after the last of them.
 */
RT_EXPORT void rt_callback_free(rt_callback_t *cb);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* RTCTX_H */
