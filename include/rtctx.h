/**
 * @file rtctx.h
 * @brief rtctx: a task runtime for C programs.
 *
 * A runtime owns a pool of worker threads. C code holds an opaque handle to
 * it and posts work (rt_spawn()), runs work and waits for its result
 * (rt_block_on()), finds the runtime driving the current thread
 * (rt_handle_current()), enters a runtime's context on any thread
 * (rt_enter()) and shuts it down without losing a task (rt_shutdown()).
 * C callbacks without a user-data pointer reach the runtime through libffi
 * trampolines (rt_callback_new()).
 *
 * Link with `pkg-config --cflags --libs rtctx`, or in CMake with
 * `find_package(rtctx CONFIG)` and the target `rtctx::rtctx`.
 *
 * Conventions that hold for every function; each function's comment
 * repeats what applies to it and names the exceptions:
 *
 *  - Any thread may call it, including threads the runtime never created
 *    (foreign threads, callbacks fired by other C libraries) and workers of
 *    any runtime.
 *  - Functions that can fail return int: #RT_OK (0) or a negative `RT_E*`
 *    code, which rt_strerror() turns into words. Functions that return a
 *    pointer return NULL on failure.
 *  - NULL or out-of-range arguments give #RT_EINVAL (or NULL), never a
 *    crash. Using a pointer after its last release is undefined behaviour,
 *    as in any C library.
 *  - A spawn that fails queued nothing: the caller still owns `arg`, and
 *    neither `fn` nor `drop` is ever called for it.
 *  - Every accepted task runs exactly once on a worker thread, or is dropped
 *    exactly once: its `drop` callback (if not NULL) receives `arg`. Never
 *    both, never twice.
 *  - The library never frees or reads through a user's `arg` or `user`
 *    pointer; it only passes it back.
 *  - With `RTCTX_LOG=debug` in the environment, a call that fails because
 *    of a misuse (#RT_EINVAL, #RT_EDEADLK, #RT_ESHUTDOWN, or NULL from a
 *    function returning a pointer) prints one line to stderr naming the
 *    function and what was wrong:
 *    `rtctx: rt_spawn: RT_EINVAL: fn is NULL`. Codes of normal operation
 *    (#RT_EAGAIN, #RT_ETIMEDOUT, #RT_EBUSY, #RT_ECANCELED) print nothing.
 *  - Handles, runtimes, join handles, groups and trampolines carry a tag
 *    word that the library checks on entry: a pointer already released for
 *    the last time gets #RT_EINVAL (or NULL, or a no-op release) as long as its
 *    memory was not reused for another object of the same kind.
 *  - After fork(), a runtime inherited by the child (its worker threads did
 *    not come along) refuses everything with #RT_ESHUTDOWN: spawns,
 *    rt_block_on(), joins and cancels of its tasks, and rt_shutdown*()
 *    (which then frees nothing). No task or drop callback runs in the
 *    child; the parent is unaffected. Create a new runtime in the child:
 *    that works at once, without exec, whatever the parent's other threads
 *    were doing in the library when it forked (its one lock taken across
 *    fork() is given back in the child by its fork handler, and it
 *    initialises its globals when it is loaded, so a child never waits for
 *    something a parent thread left half done).
 *
 * Copyright the rtctx authors. Licensed under the Apache License 2.0.
 */
#ifndef RTCTX_H
#define RTCTX_H

#include <stddef.h>
#include <stdint.h>

/* A truth value with the ABI of C99's bool (one byte, 0 or 1), so that the
 * header also compiles as C89/C90 with -pedantic: there, GCC and Clang
 * still have _Bool (taken as an extension, without a warning), and any
 * other compiler gets unsigned char, which has the same size and the same
 * calling convention. C99, C11 and C++ programs see plain bool, and get
 * <stdbool.h> as before. */
#if defined(__cplusplus) || (defined(__STDC_VERSION__) && __STDC_VERSION__ >= 199901L)
#include <stdbool.h>
/** A truth value: `bool` in C99 and later and in C++; see the header. */
#define RT_BOOL bool
#elif defined(__GNUC__)
__extension__ typedef _Bool rt_c89_bool_;
#define RT_BOOL rt_c89_bool_
#else
#define RT_BOOL unsigned char
#endif

/* ------------------------------------------------------------------------ */
/* Version                                                                   */
/* ------------------------------------------------------------------------ */

/* These three lines are the one source of the version: the Makefile, the
 * soname, rtctx.pc, the CMake package and rt_version() all read them. */

/** Major version. A new major version may break the ABI; the shared
 *  library's soname is `librtctx.so.MAJOR`. */
#define RTCTX_VERSION_MAJOR 0
/** Minor version: new functions, same ABI (below 100). */
#define RTCTX_VERSION_MINOR 1
/** Patch version: fixes only (below 100). */
#define RTCTX_VERSION_PATCH 0

/** The header's version as one comparable number (100 for 0.1.0):
 *  MAJOR * 10000 + MINOR * 100 + PATCH. */
#define RTCTX_VERSION                                                          \
  (RTCTX_VERSION_MAJOR * 10000 + RTCTX_VERSION_MINOR * 100 + RTCTX_VERSION_PATCH)

/** True (1) if this header is version `major.minor.patch` or newer, for
 *  `#if` tests: `#if RTCTX_VERSION_AT_LEAST(0, 2, 0)`. */
#define RTCTX_VERSION_AT_LEAST(major, minor, patch)                            \
  (RTCTX_VERSION >= (major) * 10000 + (minor) * 100 + (patch))

/** @cond RTCTX_INTERNAL */
#define RTCTX_STRINGIFY_(x) #x
#define RTCTX_EXPAND_STRINGIFY_(x) RTCTX_STRINGIFY_(x)
/** @endcond */

/** The header's version as a string literal, "MAJOR.MINOR.PATCH". */
#define RTCTX_VERSION_STRING                                                   \
  RTCTX_EXPAND_STRINGIFY_(RTCTX_VERSION_MAJOR)                                 \
  "." RTCTX_EXPAND_STRINGIFY_(RTCTX_VERSION_MINOR)                             \
  "." RTCTX_EXPAND_STRINGIFY_(RTCTX_VERSION_PATCH)

/** Marks the functions the shared library exports (and only those). */
#if defined(__GNUC__) || defined(__clang__)
#define RT_EXPORT __attribute__((visibility("default")))
#else
#define RT_EXPORT
#endif

/** Marks the functions whose result the caller must act on: an error code
 *  that says who owns what (a spawn that failed left `arg` with the caller;
 *  a shutdown that failed did not consume `rt`), or a new object the
 *  caller owns. The compiler warns when such a result is dropped:
 *  `warn_unused_result` on GCC and Clang (GCC warns even through a cast to
 *  void: test the result), `[[nodiscard]]` on other C++17 and C23
 *  compilers. */
#if defined(__GNUC__) || defined(__clang__)
#define RT_NODISCARD __attribute__((warn_unused_result))
#elif (defined(__cplusplus) && __cplusplus >= 201703L) ||                      \
    (defined(__STDC_VERSION__) && __STDC_VERSION__ >= 202311L)
#define RT_NODISCARD [[nodiscard]]
#else
#define RT_NODISCARD
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

/** Result codes. Every failing call returns one of these; the values are
 *  ABI (they match the Linux errno values of the same name, negated). */
enum {
  RT_OK = 0,           /**< success */
  RT_EINVAL = -22,     /**< bad argument: NULL fn or handle, bad config, misuse */
  RT_ENOMEM = -12,     /**< an allocation failed (no function of this version
                            returns it: rt_callback_new() gives NULL) */
  RT_EAGAIN = -11,     /**< the bounded queue is full; try again later */
  RT_EDEADLK = -35,    /**< the call would wait on itself (shutdown from a worker) */
  RT_ETIMEDOUT = -110, /**< a timeout elapsed first */
  RT_ESHUTDOWN = -108, /**< the runtime is shutting down or gone */
  RT_ECANCELED = -125, /**< the task was cancelled or dropped and never ran */
  RT_EBUSY = -16       /**< the task already started or finished (cancel) */
};

/**
 * Describes a result code in words a person can act on: what went wrong
 * and what to do about it.
 *
 * @param code a value an rtctx function returned: #RT_OK or an `RT_E*` code.
 * @return a static string, never NULL, e.g. for #RT_ESHUTDOWN "runtime is
 *         shut down: ...". Codes that are not rtctx's give "unknown error".
 * @ownership The string is static: do not free it; it lives as long as the
 *            program.
 * @threads Any thread.
 */
RT_EXPORT const char *rt_strerror(int code);

/**
 * The version of the library the program runs against, which may be newer
 * than the header it was compiled with (#RTCTX_VERSION).
 *
 * @return MAJOR * 10000 + MINOR * 100 + PATCH, as #RTCTX_VERSION computes it.
 * @threads Any thread.
 */
RT_EXPORT unsigned rt_version(void);

/**
 * The version of the library the program runs against, as text.
 *
 * @return the version as "MAJOR.MINOR.PATCH", never NULL.
 * @ownership The string is static: do not free it.
 * @threads Any thread.
 */
RT_EXPORT const char *rt_version_string(void);

/* ------------------------------------------------------------------------ */
/* Types                                                                     */
/* ------------------------------------------------------------------------ */

/** A running runtime. Owned by its creator; rt_shutdown() or
 *  rt_shutdown_timeout() consumes it. */
typedef struct rt_runtime rt_runtime_t;
/** A reference-counted reference to a runtime; cheap to clone; may outlive
 *  the runtime (calls through it then return #RT_ESHUTDOWN). */
typedef struct rt_handle rt_handle_t;
/** A join handle to one spawned task; reference-counted. */
typedef struct rt_task rt_task_t;
/** An entered runtime context on one thread; see rt_enter(). */
typedef struct rt_guard rt_guard_t;

/** Fire-and-forget work: runs once on a worker thread, given the `arg` it
 *  was spawned with. */
typedef void (*rt_fn)(void *arg);
/** Work with a result: runs once on a worker thread, given its `arg`; the
 *  result is handed to joiners and to rt_block_on(). */
typedef void *(*rt_call_fn)(void *arg);
/** Called with `arg` instead of the task's function when the task will
 *  never run (cancelled, or dropped by a shutdown), typically to free
 *  `arg`. Runs on the thread that dropped the task. */
typedef void (*rt_drop_fn)(void *arg);

/* ------------------------------------------------------------------------ */
/* Runtime                                                                   */
/* ------------------------------------------------------------------------ */

/**
 * Runtime configuration. Versioned: `size` must be set (rt_config_init()
 * does it). A smaller `size`, from a program built against an older header,
 * is accepted and the missing fields take their defaults; a larger one
 * than this library knows makes rt_new() return NULL.
 */
typedef struct rt_config {
  size_t size;                        /**< sizeof(rt_config_t), set by rt_config_init */
  unsigned workers;                   /**< worker threads; 0 = online CPUs; at most 1024 */
  size_t queue_capacity;              /**< 0 = unbounded; else rt_spawn and rt_spawn_full
                                           return RT_EAGAIN while this many tasks are queued */
  const char *thread_name;            /**< worker name prefix, copied; NULL = "rt-worker".
                                           Workers are named "<prefix>-<index>" in 15 bytes
                                           (Linux's limit): a long prefix is cut, never the index */
  void (*on_thread_start)(void *user);/**< runs on each worker before its first task */
  void (*on_thread_stop)(void *user); /**< runs on each worker after its last task */
  void *user;                         /**< passed to both hooks */
} rt_config_t;

/**
 * Fills `cfg` with the defaults: `size` = sizeof(rt_config_t), one worker
 * per online CPU, an unbounded queue, workers named "rt-worker-<index>",
 * no hooks.
 *
 * @param cfg the configuration to fill; NULL is a no-op.
 * @ownership The caller owns `cfg`; nothing is kept.
 * @threads Any thread.
 */
RT_EXPORT void rt_config_init(rt_config_t *cfg);

/**
 * Starts a runtime. When this returns, its worker threads are running and
 * each has run `on_thread_start`.
 *
 * @param cfg the configuration, or NULL for the defaults. It is read during
 *            the call only; `thread_name` is copied.
 * @return the runtime; NULL (nothing started) for a bad configuration: a
 *         `size` smaller than the `size` field or larger than this library
 *         knows, more than 1024 workers, a `queue_capacity` above SIZE_MAX/2;
 *         or when the system refused a thread (the workers already started
 *         are stopped and joined first).
 * @ownership The caller owns the runtime until it passes it to rt_shutdown()
 *            or rt_shutdown_timeout(), exactly once. Take handles to it with
 *            rt_handle().
 * @threads Any thread.
 * @callbacks `on_thread_start` runs on each new worker before this returns,
 *            `on_thread_stop` on each worker during the shutdown; in both
 *            rt_handle_current() is the new runtime.
 */
RT_EXPORT RT_NODISCARD rt_runtime_t *rt_new(const rt_config_t *cfg);

/**
 * A new reference to the runtime's handle. Every call returns the same
 * pointer with one more reference.
 *
 * @param rt the runtime.
 * @return the handle; NULL if `rt` is NULL.
 * @ownership The caller owns the new reference: release it with
 *            rt_handle_release(). It may outlive the runtime.
 * @threads Any thread, until `rt` was passed to rt_shutdown*.
 */
RT_EXPORT RT_NODISCARD rt_handle_t *rt_handle(rt_runtime_t *rt);

/**
 * Shuts the runtime down gracefully, in this order:
 *  1. From now on rt_spawn*, rt_block_on() and trampoline calls made from
 *     outside this runtime's workers return #RT_ESHUTDOWN. Tasks running on
 *     this runtime may still spawn onto it, so work in flight can finish.
 *  2. Every task accepted before runs to completion. Draining ends when no
 *     task is queued or running; timers still pending then are dropped
 *     (their drop runs, joins see #RT_ECANCELED). Timers that fall due while
 *     draining run.
 *  3. `on_thread_stop` runs on each worker; all workers are joined.
 *  4. Every drop has run and `rt` is freed. Handles stay valid until their
 *     last release; spawning or waiting through them returns
 *     #RT_ESHUTDOWN, and rt_stats_get() reports `shutdown`.
 *
 * Blocks until step 4, for as long as the accepted tasks take.
 *
 * @param rt the runtime, from rt_new().
 * @retval RT_OK        the runtime is shut down and `rt` is freed.
 * @retval RT_EINVAL    `rt` is NULL, or another rt_shutdown* of it is in
 *                      progress (calling it after one returned is a use
 *                      after free).
 * @retval RT_EDEADLK   called on a worker thread of this same runtime,
 *                      which would wait for itself; nothing changed and
 *                      `rt` is still the caller's: shut down from another
 *                      thread.
 * @retval RT_ESHUTDOWN the runtime was inherited by fork() (this is the
 *                      child of the process that runs it): nothing is shut
 *                      down or freed.
 * @ownership Consumes `rt` on #RT_OK: do not use it again. Handles are not
 *            released; release them as usual.
 * @threads Any thread but a worker of this runtime (see #RT_EDEADLK).
 *          Exactly one call per runtime.
 * @callbacks Pending timers' `drop` run on the calling thread;
 *            `on_thread_stop` runs on each worker.
 */
RT_EXPORT RT_NODISCARD int rt_shutdown(rt_runtime_t *rt);

/**
 * rt_shutdown() that gives up draining after `timeout_ns` nanoseconds:
 * tasks not yet started then are dropped (each `drop` exactly once), tasks
 * already running are waited for, and a rt_block_on() whose task is dropped
 * returns #RT_ECANCELED. From the timeout on, tasks still running can no
 * longer spawn (#RT_ESHUTDOWN).
 *
 * Blocks for at most `timeout_ns` plus the time the tasks already running
 * take to return.
 *
 * @param rt         the runtime, from rt_new().
 * @param timeout_ns how long to let queued tasks drain, in nanoseconds.
 * @retval RT_OK        every accepted task ran; `rt` is freed.
 * @retval RT_ETIMEDOUT the timeout dropped at least one task (pending timers
 *                      dropped as in rt_shutdown() step 2 do not count);
 *                      `rt` is freed.
 * @retval RT_EINVAL    as rt_shutdown().
 * @retval RT_EDEADLK   as rt_shutdown().
 * @retval RT_ESHUTDOWN as rt_shutdown().
 * @ownership Consumes `rt` on #RT_OK and #RT_ETIMEDOUT, as rt_shutdown().
 * @threads As rt_shutdown().
 * @callbacks Dropped tasks' `drop` run on the calling thread or on a worker
 *            (whichever took the task off its queue).
 */
RT_EXPORT RT_NODISCARD int rt_shutdown_timeout(rt_runtime_t *rt,
                                               uint64_t timeout_ns);

/* ------------------------------------------------------------------------ */
/* Handles and context                                                       */
/* ------------------------------------------------------------------------ */

/**
 * A new reference to the same handle.
 *
 * @param h a handle.
 * @return `h` itself, with one more reference; NULL if `h` is NULL.
 * @ownership The caller owns the new reference: release it with
 *            rt_handle_release(). Use it to keep a borrowed handle, such as
 *            the one rt_handle_current() returns.
 * @threads Any thread, also after the runtime shut down.
 */
RT_EXPORT RT_NODISCARD rt_handle_t *rt_handle_clone(rt_handle_t *h);

/**
 * Drops one reference to a handle. The last release frees it; the runtime
 * itself lives until its rt_shutdown().
 *
 * @param h a handle reference the caller owns; NULL is a no-op.
 * @ownership Consumes one reference to `h`.
 * @threads Any thread, also after the runtime shut down.
 */
RT_EXPORT void rt_handle_release(rt_handle_t *h);

/**
 * The handle current on this thread:
 *  - the innermost handle entered with rt_enter() and not yet exited; else
 *  - on a worker thread (in tasks, handlers and in
 *    `on_thread_start`/`on_thread_stop`), the worker's runtime; else
 *  - NULL.
 *
 * @return the current handle, or NULL outside any runtime.
 * @ownership BORROWED: do not release it. It stays valid until the running
 *            task returns or the matching rt_exit(); clone it with
 *            rt_handle_clone() to keep it longer.
 * @threads Any thread; the answer is about the calling thread.
 */
RT_EXPORT rt_handle_t *rt_handle_current(void);

/**
 * Makes `h` current on the calling thread until the matching rt_exit(), so
 * that code far down the stack (a C library callback with no user-data
 * pointer, for instance) finds it with rt_handle_current(). Nests: the
 * innermost entered handle is current.
 *
 * @param h the handle to make current.
 * @return a guard for rt_exit(); NULL if `h` is NULL.
 * @ownership The guard keeps its own reference to `h` until rt_exit(),
 *            which frees the guard. The caller keeps its reference to `h`.
 * @threads Any thread; the guard belongs to the calling thread.
 */
RT_EXPORT RT_NODISCARD rt_guard_t *rt_enter(rt_handle_t *h);

/**
 * Undoes the matching rt_enter(): the handle current before it is current
 * again. Exits must be last-in-first-out and on the entering thread.
 *
 * @param g the guard rt_enter() returned.
 * @retval RT_OK     `g` is exited and freed.
 * @retval RT_EINVAL nothing changed: `g` is NULL, not the innermost guard
 *                   of this thread (exit the inner ones first), or was
 *                   entered on another thread (exit it there).
 * @ownership Consumes `g` on #RT_OK only.
 * @threads The thread that called rt_enter().
 */
RT_EXPORT RT_NODISCARD int rt_exit(rt_guard_t *g);

/* ------------------------------------------------------------------------ */
/* Spawning, waiting, joining                                                */
/* ------------------------------------------------------------------------ */

/**
 * Queues `fn(arg)` to run once on a worker thread and returns at once.
 *
 * @param h   the runtime to run on.
 * @param fn  the work.
 * @param arg passed to `fn`.
 * @retval RT_OK        queued; `fn` will run exactly once (or, after a
 *                      shutdown timeout dropped it, never).
 * @retval RT_EINVAL    `h` or `fn` is NULL.
 * @retval RT_EAGAIN    the bounded queue (`queue_capacity`) is full: retry
 *                      later, or raise the capacity.
 * @retval RT_ESHUTDOWN the runtime is shutting down and the caller is not
 *                      one of its tasks (after a shutdown timeout, even
 *                      they are refused), or it is gone, or it was
 *                      inherited by fork().
 * @ownership `arg` stays the caller's business: the library only passes it
 *            to `fn`. On an error nothing was queued. The caller keeps its
 *            reference to `h`.
 * @threads Any thread.
 * @callbacks `fn` runs on a worker thread of the runtime, where
 *            rt_handle_current() is that runtime.
 */
RT_EXPORT RT_NODISCARD int rt_spawn(rt_handle_t *h, rt_fn fn, void *arg);

/**
 * Queues `fn(arg)` with a drop callback and, optionally, a join handle, and
 * returns at once.
 *
 * @param h        the runtime to run on.
 * @param fn       the work; its result goes to rt_task_join().
 * @param arg      passed to `fn`, or to `drop` if the task never runs.
 * @param drop     called with `arg` instead of `fn` if the task never runs
 *                 (rt_task_cancel(), or dropped by a shutdown); may be NULL.
 * @param task_out if not NULL, receives a new join handle on #RT_OK and is
 *                 left untouched on failure.
 * @retval RT_OK        queued: exactly one of `fn` and `drop` will run,
 *                      once.
 * @retval RT_EINVAL    `h` or `fn` is NULL.
 * @retval RT_EAGAIN    the bounded queue is full (as rt_spawn()).
 * @retval RT_ESHUTDOWN as rt_spawn().
 * @ownership On #RT_OK `arg` passes to the task: `fn` or `drop` gets it. On
 *            an error the caller still owns it and neither is called. The
 *            caller owns `*task_out`: release it with rt_task_release().
 * @threads Any thread.
 * @callbacks `fn` runs on a worker thread; `drop` on the thread that drops
 *            the task (the caller of rt_task_cancel(), the thread in
 *            rt_shutdown*, or a worker during a shutdown timeout).
 */
RT_EXPORT RT_NODISCARD int rt_spawn_full(rt_handle_t *h, rt_call_fn fn,
                                         void *arg, rt_drop_fn drop,
                                         rt_task_t **task_out);

/**
 * Like rt_spawn_full(), but the task becomes runnable `delay_ns`
 * nanoseconds from now (monotonic clock), never earlier. Timers start in
 * the order they fall due. `delay_ns` 0 is rt_spawn_full(). Timers are not
 * refused for a full queue. A timer still pending when a shutdown has
 * drained is dropped.
 *
 * @param h        the runtime to run on.
 * @param delay_ns the delay in nanoseconds.
 * @param fn       the work.
 * @param arg      passed to `fn` or `drop`.
 * @param drop     called with `arg` if the task never runs; may be NULL.
 * @param task_out if not NULL, receives a new join handle on #RT_OK.
 * @retval RT_OK        the timer is set.
 * @retval RT_EINVAL    `h` or `fn` is NULL.
 * @retval RT_ESHUTDOWN as rt_spawn().
 * @ownership As rt_spawn_full().
 * @threads Any thread.
 * @callbacks As rt_spawn_full(); a timer dropped by a shutdown has its
 *            `drop` run on the thread in rt_shutdown*.
 */
RT_EXPORT RT_NODISCARD int rt_spawn_after(rt_handle_t *h, uint64_t delay_ns,
                                          rt_call_fn fn, void *arg,
                                          rt_drop_fn drop,
                                          rt_task_t **task_out);

/**
 * Runs `fn(arg)` on a worker and blocks the calling thread until it
 * returned: the bridge from synchronous code into the runtime. Not refused
 * for a full queue.
 *
 * On a worker thread of the same runtime `fn` runs inline instead (waiting
 * for a worker there could wait on itself); on a worker of another runtime
 * that worker simply blocks, as any thread would.
 *
 * @param h      the runtime to run on.
 * @param fn     the work.
 * @param arg    passed to `fn`.
 * @param result if not NULL, receives fn's return value on #RT_OK.
 * @retval RT_OK        `fn` ran; `*result` is set.
 * @retval RT_EINVAL    `h` or `fn` is NULL.
 * @retval RT_ESHUTDOWN as rt_spawn(); `fn` did not run.
 * @retval RT_ECANCELED a shutdown timeout dropped the task before it ran.
 * @ownership `arg` stays the caller's; it may point at the caller's stack,
 *            since the call waits.
 * @threads Any thread.
 * @callbacks `fn` runs on a worker thread of the runtime (or inline, as
 *            above); there rt_handle_current() is that runtime.
 */
RT_EXPORT RT_NODISCARD int rt_block_on(rt_handle_t *h, rt_call_fn fn, void *arg,
                                       void **result);

/**
 * Waits for a task to finish. Several threads may join the same task.
 * Called on a worker of the task's runtime for a task that has not
 * started, it runs the task inline rather than waiting on itself.
 *
 * @param t          a join handle from rt_spawn_full() or rt_spawn_after().
 * @param timeout_ns how long to wait in nanoseconds; <0 waits forever, 0
 *                   only polls.
 * @param result     if not NULL, receives the task's result on #RT_OK.
 * @retval RT_OK        the task ran; `*result` is set.
 * @retval RT_ECANCELED the task was dropped (cancelled or by a shutdown)
 *                      and never ran.
 * @retval RT_ETIMEDOUT the timeout elapsed first; the task goes on, join
 *                      again later.
 * @retval RT_ESHUTDOWN the task's runtime was inherited by fork() and the
 *                      task had not finished: it never runs in this process.
 * @retval RT_EINVAL    `t` is NULL.
 * @ownership Does not consume `t`: release it with rt_task_release().
 * @threads Any thread.
 */
RT_EXPORT RT_NODISCARD int rt_task_join(rt_task_t *t, int64_t timeout_ns,
                                        void **result);

/**
 * Cancels a task that has not started: it will never run.
 *
 * @param t a join handle.
 * @retval RT_OK        the task will never run, and its `drop` has run on
 *                      the calling thread.
 * @retval RT_EBUSY     too late: the task already started, finished, or
 *                      was cancelled before. Join it to wait for it.
 * @retval RT_ESHUTDOWN the task's runtime was inherited by fork(): nothing
 *                      changed (its `drop` does not run in this process).
 * @retval RT_EINVAL    `t` is NULL.
 * @ownership Does not consume `t`: release it with rt_task_release().
 * @threads Any thread.
 * @callbacks The task's `drop` runs on the calling thread, before this
 *            returns #RT_OK.
 */
RT_EXPORT int rt_task_cancel(rt_task_t *t);

/**
 * Whether a task is done: it ran to the end or was dropped.
 *
 * @param t a join handle.
 * @return true once the task ran to the end or was dropped; false while it
 *         is pending or running, and for NULL.
 * @threads Any thread.
 */
RT_EXPORT RT_BOOL rt_task_is_finished(rt_task_t *t);

/**
 * Drops the join handle. The task itself still runs (or is dropped) as if
 * it had never had one.
 *
 * @param t a join handle the caller owns; NULL is a no-op.
 * @ownership Consumes `t`.
 * @threads Any thread.
 */
RT_EXPORT void rt_task_release(rt_task_t *t);

/* ------------------------------------------------------------------------ */
/* Observability                                                             */
/* ------------------------------------------------------------------------ */

/**
 * Counters of one runtime. Versioned like rt_config_t: set `size` to
 * sizeof(rt_stats_t) before calling rt_stats_get(). Work run inline (a
 * rt_block_on(), WAIT trampoline or join on a worker of the same runtime)
 * is not counted. After a finished shutdown, spawned == completed + dropped.
 */
typedef struct rt_stats {
  size_t size;        /**< set by the caller to sizeof(rt_stats_t) */
  unsigned workers;   /**< configured worker count */
  uint64_t spawned;   /**< tasks accepted: spawns, timers, block_on, trampoline calls,
                           group jobs and notifications */
  uint64_t completed; /**< ran to the end */
  uint64_t dropped;   /**< never ran */
  uint64_t queued;    /**< accepted, not yet started, timers excluded (approximate while running) */
  uint64_t timers;    /**< timers not yet due */
  uint64_t rejected;  /**< spawns, block_on and trampoline calls refused (RT_ESHUTDOWN, RT_EAGAIN) */
  RT_BOOL shutdown;   /**< shutdown started */
} rt_stats_t;

/**
 * Reads the runtime's counters. Works after shutdown too (then `shutdown`
 * is true, `workers` keeps the configured count, `queued` and `timers` are
 * 0).
 *
 * @param h   the runtime to read.
 * @param out filled up to `out->size` bytes; set `out->size` first.
 * @retval RT_OK     `*out` is filled.
 * @retval RT_EINVAL `h` or `out` is NULL, or `out->size` is smaller than
 *                   the `size` field itself or larger than this library
 *                   knows (set it to sizeof(rt_stats_t)).
 * @threads Any thread. The counters are read without stopping the
 *          workers: while tasks run they are a recent, not an atomic,
 *          picture.
 */
RT_EXPORT RT_NODISCARD int rt_stats_get(rt_handle_t *h, rt_stats_t *out);

/* ------------------------------------------------------------------------ */
/* FFI callback trampolines (libffi)                                         */
/* ------------------------------------------------------------------------ */

/** Argument and return types a trampoline can carry. Values are ABI. */
typedef enum rt_type {
  RT_TYPE_VOID,    /**< `void`: return type only */
  RT_TYPE_INT,     /**< `int` */
  RT_TYPE_UINT,    /**< `unsigned int` */
  RT_TYPE_LONG,    /**< `long` */
  RT_TYPE_ULONG,   /**< `unsigned long` */
  RT_TYPE_INT8,    /**< `int8_t` */
  RT_TYPE_UINT8,   /**< `uint8_t` */
  RT_TYPE_INT16,   /**< `int16_t` */
  RT_TYPE_UINT16,  /**< `uint16_t` */
  RT_TYPE_INT32,   /**< `int32_t` */
  RT_TYPE_UINT32,  /**< `uint32_t` */
  RT_TYPE_INT64,   /**< `int64_t` */
  RT_TYPE_UINT64,  /**< `uint64_t` */
  RT_TYPE_SIZE,    /**< `size_t` */
  RT_TYPE_FLOAT,   /**< `float` */
  RT_TYPE_DOUBLE,  /**< `double` */
  RT_TYPE_POINTER  /**< any data pointer, `void *` */
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
 * A trampoline's handler. Runs on a worker thread (inline for WAIT calls
 * made on a worker of the trampoline's runtime), where rt_handle_current()
 * is that runtime.
 *
 * @param result points at zeroed storage for the declared return type (NULL
 *               for VOID): write exactly that C type, the library widens it
 *               as the ABI needs.
 * @param args   `args[i]` points at argument i, typed as declared (for a
 *               pointer argument, at the pointer). Valid during the handler
 *               only.
 * @param user   the `user` given to rt_callback_new().
 */
typedef void (*rt_callback_fn)(void *result, void **args, void *user);

/** A trampoline: a C function pointer bound to a handle and a handler. */
typedef struct rt_callback rt_callback_t;

/** The most arguments a trampoline takes. */
#define RT_CALLBACK_MAX_ARGS 32

/**
 * Creates a trampoline: a real C function pointer of the signature
 * `ret (*)(arg_types[0], ..., arg_types[nargs-1])` that forwards each call
 * to `handler(result, args, user)` on the runtime of `h`. It is for C APIs
 * whose callbacks take no user-data pointer (qsort, nftw, signal-style
 * APIs): `user` rides along with the function pointer instead.
 *
 * After the runtime shut down, POST calls are dropped and WAIT calls return
 * a zero-filled result, without running the handler; both count in
 * rt_stats_t.rejected. If a shutdown timeout drops a queued POST call, its
 * handler never runs.
 *
 * @param h         the runtime the handler runs on.
 * @param mode      #RT_CALLBACK_POST (then `ret` must be #RT_TYPE_VOID) or
 *                  #RT_CALLBACK_WAIT.
 * @param ret       the return type.
 * @param arg_types `nargs` argument types, copied; may be NULL if `nargs`
 *                  is 0. #RT_TYPE_VOID is not an argument type.
 * @param nargs     the number of arguments, 0 to #RT_CALLBACK_MAX_ARGS.
 * @param handler   runs once per call of the function pointer.
 * @param user      passed to `handler`.
 * @param code_out  receives the function pointer; cast it to the signature.
 *                  Left untouched on failure.
 * @return the trampoline, or NULL (nothing allocated) for a NULL handle,
 *         handler or code_out, an unknown mode or type, a VOID argument,
 *         POST with a non-void return, more than #RT_CALLBACK_MAX_ARGS
 *         arguments, arg_types NULL with nargs > 0, no memory for the
 *         closure, or a signature libffi refuses.
 * @ownership The caller owns the trampoline: free it with
 *            rt_callback_free(). It keeps its own reference to `h`, so the
 *            caller may release its own. `user` stays the caller's and must
 *            outlive the trampoline.
 * @threads Any thread may create it, and any thread may call the function
 *          pointer until rt_callback_free().
 * @callbacks `handler` runs on a worker thread of the runtime; a WAIT call
 *            made on a worker of that runtime runs it inline.
 */
RT_EXPORT RT_NODISCARD rt_callback_t *rt_callback_new(
    rt_handle_t *h, rt_callback_mode_t mode, rt_type_t ret,
    const rt_type_t *arg_types, size_t nargs, rt_callback_fn handler,
    void *user, void **code_out);

/**
 * Frees a trampoline once the foreign side stopped calling it: the function
 * pointer is invalid afterwards. Returns after the POST calls already
 * queued have run (or were dropped by a shutdown).
 *
 * Exception: called on a worker of the trampoline's runtime (for instance
 * from its own handler) it returns at once, since waiting there could wait
 * on itself; calls still queued then run later, and the trampoline's memory
 * is freed after the last of them.
 *
 * @param cb the trampoline; NULL is a no-op.
 * @ownership Consumes `cb` and its reference to the handle.
 * @threads Any thread, once no thread calls the function pointer any more.
 */
RT_EXPORT void rt_callback_free(rt_callback_t *cb);

/* ------------------------------------------------------------------------ */
/* Groups                                                                    */
/* ------------------------------------------------------------------------ */

/**
 * A group of jobs to wait for together: "until these 1,000 tasks are done"
 * without 1,000 join handles (libdispatch's `dispatch_group_t`).
 * Reference-counted like a handle: it may outlive its runtime, and then
 * refuses spawns with #RT_ESHUTDOWN; every job it accepted has then run or
 * been dropped, so it is empty.
 *
 * A group is empty when no job of it is pending: accepted by
 * rt_group_spawn() and not yet finished or dropped. It may empty and fill
 * again any number of times. A job must not wait for its own group: it
 * would wait for itself.
 *
 * @par Example
 * @code
 * rt_group_t *g = rt_group_new(h);
 * for (int i = 0; i < 1000; i++)
 *   if (rt_group_spawn(g, work, &items[i], NULL) != RT_OK) break;
 * if (rt_group_wait(g, -1) == RT_OK) puts("all done");
 * rt_group_release(g);
 * @endcode
 */
typedef struct rt_group rt_group_t;

/**
 * Creates an empty group of jobs on the runtime of `h`.
 *
 * @param h the runtime the group's jobs run on.
 * @return the group; NULL if `h` is NULL or its runtime refuses the caller
 *         work: shut down or shutting down (unless called from one of its
 *         tasks while it drains), or inherited by fork().
 * @ownership The caller owns the group: release it with rt_group_release().
 *            The group keeps its own reference to the runtime (as a handle
 *            does); the caller keeps its reference to `h`.
 * @threads Any thread.
 */
RT_EXPORT RT_NODISCARD rt_group_t *rt_group_new(rt_handle_t *h);

/**
 * Drops the caller's reference to a group. Jobs and notifications already
 * in it are not cancelled: they still run (or are dropped by a shutdown),
 * and the group's memory is freed after the last of them.
 *
 * @param g the group; NULL is a no-op.
 * @ownership Consumes `g`.
 * @threads Any thread, also after the runtime shut down.
 */
RT_EXPORT void rt_group_release(rt_group_t *g);

/**
 * Queues `fn(arg)` as a job of the group and returns at once: rt_spawn_full()
 * without a join handle. Bounded by `queue_capacity` like rt_spawn_full().
 *
 * @param g    the group.
 * @param fn   the work; its result is discarded.
 * @param arg  passed to `fn`, or to `drop` if the job never runs.
 * @param drop called with `arg` instead of `fn` if the job never runs
 *             (rt_group_cancel(), or dropped by a shutdown); may be NULL.
 * @retval RT_OK        queued, and pending in the group until exactly one
 *                      of `fn` and `drop` returned.
 * @retval RT_EINVAL    `g` or `fn` is NULL.
 * @retval RT_EAGAIN    the bounded queue is full (as rt_spawn()).
 * @retval RT_ESHUTDOWN as rt_spawn(): the runtime shuts down or is gone, or
 *                      was inherited by fork().
 * @ownership On #RT_OK `arg` passes to the job: `fn` or `drop` gets it. On
 *            an error the caller still owns it and neither is called; the
 *            group is as before.
 * @threads Any thread.
 * @callbacks `fn` runs on a worker thread of the runtime (or inline in a
 *            rt_group_wait() on one); `drop` on the thread that drops the
 *            job (the caller of rt_group_cancel(), the thread in
 *            rt_shutdown_timeout(), or a worker during a shutdown timeout).
 */
RT_EXPORT RT_NODISCARD int rt_group_spawn(rt_group_t *g, rt_call_fn fn,
                                          void *arg, rt_drop_fn drop);

/**
 * Waits until the group is empty. Returns #RT_OK once the group was empty
 * at some moment since the call began, even if jobs were added again
 * since; so a group that keeps filling does not starve its waiters.
 *
 * On a worker thread of the group's runtime, the call does not just
 * block the worker: it claims the group's jobs still queued and runs them
 * inline, one after another, and sleeps only while the rest run elsewhere
 * (jobs added meanwhile wake it to help again). So a task may wait for a
 * group it filled, even on a runtime with one worker. It helps only with
 * a timeout other than 0, and not after a shutdown timeout (the queued
 * jobs are being dropped then); a job run inline is run whole, so the call
 * may return later than its timeout by that job's length.
 *
 * @param g          the group.
 * @param timeout_ns how long to wait in nanoseconds; <0 waits forever, 0
 *                   only polls.
 * @retval RT_OK        the group is (or was, during the call) empty; at
 *                      once for an empty group, also after the runtime
 *                      shut down.
 * @retval RT_ETIMEDOUT the timeout elapsed first; the jobs go on.
 * @retval RT_ESHUTDOWN the group's runtime was inherited by fork() and the
 *                      group was not empty: its jobs never end in this
 *                      process.
 * @retval RT_EINVAL    `g` is NULL.
 * @ownership Does not consume `g`.
 * @threads Any thread. Every effect of the jobs is visible to the caller
 *          once it returns #RT_OK.
 * @callbacks On a worker of the group's runtime, queued jobs of the group
 *            run inline on the calling thread, as above.
 */
RT_EXPORT RT_NODISCARD int rt_group_wait(rt_group_t *g, int64_t timeout_ns);

/**
 * Queues `fn(arg)` to run once on a worker when the group next becomes
 * empty; at once (queued) if it is empty now. rt_group_notify_full() with
 * no drop callback.
 *
 * Each registered notification runs once, after the emptying that follows
 * its registration, and notifications of a group run one at a time, in
 * registration order (the next is queued when the previous returned).
 * Each counts in rt_stats_t as a task (one refused because the runtime
 * was sealed counts in `rejected`). The runtime owes an accepted
 * notification its run: it is queued even while the runtime drains, from
 * whatever thread emptied the group. Only when a shutdown timeout has
 * sealed the runtime can it not run; it is then dropped, on the thread
 * that emptied the group (for this function: simply not run). Accepted
 * notifications of a group that never empties again (its jobs never end)
 * never run: with rt_shutdown*(), every group empties.
 *
 * @param g   the group.
 * @param fn  the notification.
 * @param arg passed to `fn`.
 * @retval RT_OK        registered: `fn` runs once, or (after a shutdown
 *                      timeout) never.
 * @retval RT_EINVAL    `g` or `fn` is NULL.
 * @retval RT_ESHUTDOWN the runtime refuses the caller work, as rt_spawn()
 *                      (shutting down and the caller is not one of its
 *                      tasks, shut down, inherited by fork()): nothing was
 *                      registered.
 * @ownership `arg` stays the caller's business; on an error nothing is kept.
 * @threads Any thread.
 * @callbacks `fn` runs on a worker thread of the runtime.
 */
RT_EXPORT RT_NODISCARD int rt_group_notify(rt_group_t *g, rt_fn fn, void *arg);

/**
 * rt_group_notify() with a drop callback: exactly one of `fn` and `drop`
 * runs, once, for a notification registered with #RT_OK.
 *
 * @param g    the group.
 * @param fn   the notification.
 * @param arg  passed to `fn`, or to `drop`.
 * @param drop called with `arg` instead of `fn` if the runtime can no longer
 *             run it (sealed by a shutdown timeout when the group empties,
 *             or a queued notification dropped by it); may be NULL.
 * @retval RT_OK        registered.
 * @retval RT_EINVAL    `g` or `fn` is NULL.
 * @retval RT_ESHUTDOWN as rt_group_notify(); `drop` is not called.
 * @ownership On #RT_OK `arg` passes to the notification: `fn` or `drop`
 *            gets it. On an error the caller still owns it.
 * @threads Any thread.
 * @callbacks `fn` runs on a worker thread; `drop` on the thread that
 *            emptied the group, or that dropped the queued notification.
 */
RT_EXPORT RT_NODISCARD int rt_group_notify_full(rt_group_t *g, rt_fn fn,
                                                void *arg, rt_drop_fn drop);

/**
 * Cancels every job of the group that has not started: each will never
 * run, and its `drop` runs exactly once, on the calling thread, before this
 * returns. Jobs already running are not touched (wait for them with
 * rt_group_wait()); jobs added while it runs may or may not be cancelled.
 * Notifications stay registered: if this empties the group, they are due.
 *
 * @param g the group.
 * @return how many jobs were cancelled (>= 0); #RT_EINVAL if `g` is NULL;
 *         #RT_ESHUTDOWN if the group's runtime was inherited by fork()
 *         (nothing changed).
 * @ownership Does not consume `g`.
 * @threads Any thread.
 * @callbacks The cancelled jobs' `drop` run on the calling thread.
 */
RT_EXPORT int rt_group_cancel(rt_group_t *g);

/**
 * The jobs pending in the group: accepted by rt_group_spawn() and not yet
 * finished or dropped.
 *
 * @param g the group.
 * @return the count (a recent value while jobs run); 0 for NULL.
 * @threads Any thread.
 */
RT_EXPORT size_t rt_group_pending(rt_group_t *g);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* RTCTX_H */
