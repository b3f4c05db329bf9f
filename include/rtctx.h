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
 *    `rtctx: rt_spawn: RT_EINVAL: fn is NULL`; so does #RT_ENOMEM. Codes of normal operation
 *    (#RT_EAGAIN, #RT_ETIMEDOUT, #RT_EBUSY, #RT_ECANCELED) print nothing.
 *    A pointer that is not a live object is named by an id, never by its
 *    address: `ptr#` and 16 hex digits, a keyed hash of the address under
 *    a key drawn per process, the same on every line for the same pointer
 *    (`rtctx: rt_task_join: RT_EINVAL: ptr#5c0ffee1d2e3a4b5 is not a live
 *    rt_task_t: ...`). A setuid or setgid program ignores the variable
 *    (it is read with secure_getenv()).
 *  - Handles, runtimes, join handles, groups and trampolines carry a tag
 *    word that the library checks on entry: a pointer already released for
 *    the last time gets #RT_EINVAL (or NULL, or a no-op release) as long as its
 *    memory was not reused for another object of the same kind. The caller's
 *    reference to a join handle, trampoline, strand or group is given back
 *    once: a second rt_task_release(), rt_callback_free(),
 *    rt_strand_release() or rt_group_release() of the same pointer is a
 *    no-op (a debug build stops with the reason), also while the library
 *    still holds the object for a task that runs or a call that is queued.
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
 * @par Out of memory
 * In the C library, out of memory is an error, never an abort. A call
 * whose allocations fail returns #RT_ENOMEM, or NULL from a function that
 * returns a pointer (with `RTCTX_LOG=debug`, a line saying so), having
 * queued nothing and taken nothing of the caller's: neither `fn` nor
 * `drop` is called for its `arg`. A task already accepted still runs or
 * drops exactly once, and no worker, blocking thread or monitor dies of
 * an allocation. How: every thread that calls into the library keeps a
 * reserve of 128 KiB (allocated on its first call, touched only when
 * used, freed when the thread exits; the process has one more). An
 * allocation the system refuses is served from it, and the call undoes
 * what it built and refuses at its commit point, before it queues
 * anything; one refused after that point (a queue growing as the task
 * goes in) is served from the reserve and the call succeeds. The thread
 * refills its reserve on its next call (a worker, before its next job); if
 * even that is refused, the call answers #RT_ENOMEM at once. The lists
 * that grow with the work queued get their room before a job is accepted,
 * doubling into a block the system gives first and that is kept for that
 * growth, so a refused growth is #RT_ENOMEM too: the timer heap, the
 * blocking pool's queue, a strand's and a group's lists of jobs (a
 * group's compaction copies into a spare list of the same room), the
 * signal slots' registry and the list a worker collects posted slots into.
 * The run queues grow by 64 KiB at a time, which the reserve holds. What
 * still aborts, and why: a thread that needs more than its reserve and the
 * process's (128 KiB each) between two refills after the system refused
 * it, which only these can: a loop's list of jobs (#rt_loop_t), a delayed
 * strand job joining its strand's list when due, rt_group_cancel()'s list
 * of the jobs it drops (each proportional to the jobs queued), and a
 * worker queueing more than about 8,000 jobs at once (the runs of that many
 * signal slots posted together). Its memory is then truly gone, and the
 * Swift code that asked for it has no way to give up half way. The Swift
 * product `Rtctx` (SwiftPM) runs on the Swift runtime, whose allocator
 * traps on failure: there, out of memory aborts.
 *
 * The API in topics (each is a page under "Modules", and a man page
 * lists each topic's functions in SEE ALSO; rtctx(3) lists them all):
 * @ref runtime, @ref handles, @ref tasks, @ref join, @ref timers,
 * @ref callbacks, @ref stats, @ref errors, @ref reptimers.
 *
 * Copyright the rtctx authors. Licensed under the Apache License 2.0.
 */

/**
 * @defgroup runtime Runtime
 * @brief Configure, start and shut down a runtime: rt_config_init(),
 *        rt_new(), rt_shutdown(), rt_shutdown_timeout().
 *
 * A runtime is a pool of worker threads. Its creator owns it
 * (#rt_runtime_t) and hands out handles to it (rt_handle()); it ends with
 * exactly one rt_shutdown() or rt_shutdown_timeout(), which runs or drops
 * every task it accepted.
 *
 * @defgroup handles Handles and context
 * @brief References to a runtime, and the runtime current on a thread:
 *        rt_handle(), rt_handle_clone(), rt_handle_release(),
 *        rt_handle_current(), rt_enter(), rt_exit().
 *
 * Everything that uses a runtime goes through a handle (#rt_handle_t), a
 * reference-counted pointer that may outlive the runtime. Code with no
 * way to receive one, such as a C library callback, finds the runtime
 * driving its thread with rt_handle_current(): on a worker, or inside
 * rt_enter() ... rt_exit() on any thread.
 *
 * @defgroup tasks Tasks
 * @brief Run work on the runtime: rt_spawn(), rt_spawn_full(),
 *        rt_block_on(), and the function types they take.
 *
 * rt_spawn() posts fire-and-forget work; rt_spawn_full() adds a drop
 * callback and a join handle (see @ref join); rt_block_on() runs work on a
 * worker and waits for its result. Every accepted task runs exactly once,
 * or is dropped exactly once.
 *
 * @defgroup join Join handles
 * @brief Wait for, cancel, poll and release a spawned task:
 *        rt_task_join(), rt_task_cancel(), rt_task_is_finished(),
 *        rt_task_release().
 *
 * rt_spawn_full() and rt_spawn_after() return a join handle
 * (#rt_task_t) on request. Releasing it does not affect the task.
 *
 * @defgroup timers Timers
 * @brief Run work later: rt_spawn_after().
 *
 * A timer is a task that becomes runnable after a delay; it has a join
 * handle and a drop callback like any rt_spawn_full() task, and it can be
 * cancelled until it starts.
 *
 * @defgroup blocking Blocking work
 * @brief Tasks that block without holding up the runtime:
 *        rt_spawn_blocking(), rt_blocking_begin(), rt_blocking_end().
 *
 * A C task is a plain function, and plain functions block: on a mutex, a
 * condition variable, `read()`, a join. rtctx keeps the rest of the
 * runtime going meanwhile, in four ways:
 *
 * - **No stranded work.** Jobs queued on a worker whose task has run for
 *   longer than `stranded_after_ns` (1 ms by default) are moved, by a
 *   monitor thread, to the queue every worker reads. A job queued behind a
 *   blocked task so starts within `stranded_after_ns` + 2 × its half plus
 *   one wake-up of a free worker, whatever the other workers' own load.
 * - **Joins that help.** rt_task_join() without a timeout, rt_block_on()
 *   onto another runtime and WAIT trampolines, called on a worker, run
 *   that worker's queued jobs while they wait (see rt_task_join()).
 * - **Blocking regions.** A task about to block calls rt_blocking_begin():
 *   its worker, queue and all, moves to a spare thread at once, and the
 *   task blocks on the thread it had (tokio's `block_in_place`).
 * - **A blocking pool.** rt_spawn_blocking() runs a task on a separate,
 *   bounded pool of threads that grows on demand and shrinks when idle
 *   (tokio's `spawn_blocking`).
 *
 * Regions and the pool share one cap, `max_blocking_threads` (512 by
 * default), on the threads beyond the workers.
 *
 * @defgroup callbacks Callbacks (trampolines)
 * @brief Real C function pointers that forward calls to the runtime:
 *        rt_callback_new(), rt_callback_free().
 *
 * For C APIs whose callbacks carry no user-data pointer (qsort, nftw,
 * signal-style registrations): libffi builds a function pointer of the
 * declared signature bound to a handler, a `user` pointer and a runtime.
 *
 * @defgroup stats Statistics
 * @brief A runtime's counters: rt_stats_get().
 *
 * @defgroup apply Parallel loops
 * @brief A parallel for over the workers, the caller taking part:
 *        rt_apply().
 *
 * @defgroup groups Groups
 * @brief Jobs to wait for together: rt_group_new(), rt_group_spawn(),
 *        rt_group_strand_spawn(), rt_group_wait(), rt_group_notify(), rt_group_notify_full(),
 *        rt_group_cancel(), rt_group_pending(), rt_group_release().
 *
 * A group (#rt_group_t) counts its pending jobs: wait until it is empty,
 * have a function run when it empties, or cancel every job of it that
 * has not started (libdispatch's dispatch_group).
 *
 * @defgroup strands Strands (ordered work)
 * @brief Jobs that run one at a time, in order, on any worker:
 *        rt_strand_new(), rt_strand_spawn(), rt_strand_spawn_full(),
 *        rt_strand_spawn_after(), rt_strand_block_on(),
 *        rt_strand_current(), rt_strand_release().
 *
 * A strand (#rt_strand_t) is a serial queue on the runtime's workers, what
 * libdispatch calls a serial queue and asio a strand: the events of one
 * socket, device or session handled in order and one at a time, without a
 * lock and without a thread of their own. Strands cost no thread; any
 * number run in parallel.
 *
 * @defgroup errors Errors and version
 * @brief Result codes, rt_strerror(), and the version of the header and
 *        of the library.
 *
 * Functions that can fail return #RT_OK or a negative `RT_E*` code;
 * rt_strerror() says what went wrong and what to do about it.
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

/** @addtogroup errors
 *  @{ */

/** Major version. A new major version may break the ABI; the shared
 *  library's soname is `librtctx.so.MAJOR`. */
#define RTCTX_VERSION_MAJOR 0
/** Minor version: new functions, same ABI (below 100). */
#define RTCTX_VERSION_MINOR 3
/** Patch version: fixes only (below 100). */
#define RTCTX_VERSION_PATCH 0

/** The header's version as one comparable number (200 for 0.2.0):
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

/** @} */

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

/** @addtogroup errors
 *  @{ */

/** Result codes. Every failing call returns one of these; the values are
 *  ABI (they match the Linux errno values of the same name, negated). */
enum {
  RT_OK = 0,           /**< success */
  RT_EINVAL = -22,     /**< bad argument: NULL fn or handle, bad config, misuse */
  RT_ENOMEM = -12,     /**< an allocation failed: nothing was queued or taken
                            (see "Out of memory" in the introduction) */
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
 *
 * @par Example
 * @code
 * static void work(void *arg) { (void)arg; }
 *
 * int submit(rt_handle_t *h) {
 *   int rc = rt_spawn(h, work, NULL);
 *   if (rc != RT_OK)
 *     fprintf(stderr, "rt_spawn: %s\n", rt_strerror(rc));
 *   return rc;
 * }
 * @endcode
 */
RT_EXPORT const char *rt_strerror(int code);

/**
 * The version of the library the program runs against, which may be newer
 * than the header it was compiled with (#RTCTX_VERSION).
 *
 * @return MAJOR * 10000 + MINOR * 100 + PATCH, as #RTCTX_VERSION computes it.
 * @threads Any thread.
 *
 * @par Example
 * @code
 * if (rt_version() < RTCTX_VERSION)
 *   fprintf(stderr, "built against rtctx %s, running with the older %s\n",
 *           RTCTX_VERSION_STRING, rt_version_string());
 * @endcode
 */
RT_EXPORT unsigned rt_version(void);

/**
 * The version of the library the program runs against, as text.
 *
 * @return the version as "MAJOR.MINOR.PATCH", never NULL.
 * @ownership The string is static: do not free it.
 * @threads Any thread.
 *
 * @par Example
 * @code
 * printf("rtctx %s (header %s)\n", rt_version_string(), RTCTX_VERSION_STRING);
 * @endcode
 */
RT_EXPORT const char *rt_version_string(void);

/** @} */

/* ------------------------------------------------------------------------ */
/* Types                                                                     */
/* ------------------------------------------------------------------------ */

/** @ingroup runtime
 *  A running runtime. Owned by its creator; rt_shutdown() or
 *  rt_shutdown_timeout() consumes it. */
typedef struct rt_runtime rt_runtime_t;
/** @ingroup handles
 *  A reference-counted reference to a runtime; cheap to clone; may outlive
 *  the runtime (calls through it then return #RT_ESHUTDOWN). Every runtime
 *  has one handle: rt_handle() and rt_handle_clone() return the same
 *  pointer with one more reference, rt_handle_release() drops one. */
typedef struct rt_handle rt_handle_t;
/** @ingroup join
 *  A join handle to one spawned task; reference-counted. rt_spawn_full()
 *  and rt_spawn_after() return one through `task_out`. */
typedef struct rt_task rt_task_t;
/** @ingroup handles
 *  An entered runtime context on one thread; see rt_enter(). */
typedef struct rt_guard rt_guard_t;

/** @ingroup tasks
 *  Fire-and-forget work: runs once on a worker thread, given the `arg` it
 *  was spawned with. */
typedef void (*rt_fn)(void *arg);
/** @ingroup tasks
 *  Work with a result: runs once on a worker thread, given its `arg`; the
 *  result is handed to joiners and to rt_block_on(). */
typedef void *(*rt_call_fn)(void *arg);
/** @ingroup tasks
 *  Called with `arg` instead of the task's function when the task will
 *  never run (cancelled, or dropped by a shutdown), typically to free
 *  `arg`. Runs on the thread that dropped the task. */
typedef void (*rt_drop_fn)(void *arg);

/* ------------------------------------------------------------------------ */
/* Runtime                                                                   */
/* ------------------------------------------------------------------------ */

/** @addtogroup runtime
 *  @{ */

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
                                           return RT_EAGAIN while this many tasks are queued;
                                           at most SIZE_MAX/2 (see rt_new()) */
  const char *thread_name;            /**< worker name prefix, copied; NULL = "rt-worker".
                                           Workers are named "<prefix>-<index>" in 15 bytes
                                           (Linux's limit): a long prefix is cut, never the index */
  void (*on_thread_start)(void *user);/**< runs on each thread the runtime starts (workers
                                           and blocking threads) before its first task */
  void (*on_thread_stop)(void *user); /**< runs on each such thread after its last task */
  void *user;                         /**< passed to both hooks */
  /* Since 0.3 (callers built against 0.2 pass a smaller size): */
  uint64_t stranded_after_ns;         /**< jobs queued behind a task that has run this long
                                           move to other workers (see @ref blocking);
                                           0 = 1 ms; UINT64_MAX = never (no monitor thread) */
  unsigned max_blocking_threads;      /**< most threads beyond the workers: rt_spawn_blocking()
                                           jobs and blocking regions; 0 = 512 */
  uint64_t blocking_keep_alive_ns;    /**< an idle blocking thread exits after this long;
                                           0 = 10 s. Blocking threads are named
                                           "<prefix>-b<n>", the monitor "<prefix>-m" */
} rt_config_t;

/**
 * Fills `cfg` with the defaults: `size` = sizeof(rt_config_t), one worker
 * per online CPU, an unbounded queue, workers named "rt-worker-<index>",
 * no hooks.
 *
 * @param cfg the configuration to fill; NULL is a no-op.
 * @ownership The caller owns `cfg`; nothing is kept.
 * @threads Any thread.
 *
 * @par Example
 * @code
 * static void on_start(void *user) {
 *   printf("%s worker up\n", (const char *)user);
 * }
 *
 * rt_runtime_t *start_io_runtime(void) {
 *   rt_config_t cfg;
 *   rt_config_init(&cfg);          // size and the defaults
 *   cfg.workers = 2;
 *   cfg.queue_capacity = 4096;     // beyond that, rt_spawn gives RT_EAGAIN
 *   cfg.thread_name = "io";        // workers "io-0" and "io-1"
 *   cfg.on_thread_start = on_start;
 *   cfg.user = "io";
 *   return rt_new(&cfg);
 * }
 * @endcode
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
 *         knows, more than 1024 workers, a `queue_capacity` above SIZE_MAX/2
 *         (the queue is counted in a signed word; no process could queue
 *         that many tasks, so SIZE_MAX/2 is as good as unbounded); or when
 *         the system refused a thread (the workers already started are
 *         stopped and joined first), or when memory ran out (nothing is
 *         left of the attempt).
 * @ownership The caller owns the runtime until it passes it to rt_shutdown()
 *            or rt_shutdown_timeout(), exactly once. Take handles to it with
 *            rt_handle().
 * @threads Any thread.
 * @callbacks `on_thread_start` runs on each new worker before this returns,
 *            `on_thread_stop` on each worker during the shutdown; in both
 *            rt_handle_current() is the new runtime.
 *
 * @par Example
 * @code
 * int main(void) {
 *   rt_runtime_t *rt = rt_new(NULL);   // one worker per online CPU
 *   if (rt == NULL)
 *     return 1;
 *   rt_handle_t *h = rt_handle(rt);
 *   // ... rt_spawn(h, ...), rt_block_on(h, ...) ...
 *   rt_handle_release(h);
 *   return rt_shutdown(rt) == RT_OK ? 0 : 1;
 * }
 * @endcode
 */
RT_EXPORT RT_NODISCARD rt_runtime_t *rt_new(const rt_config_t *cfg);

/** @} */

/**
 * @ingroup handles
 * A new reference to the runtime's handle. Every call returns the same
 * pointer with one more reference.
 *
 * @param rt the runtime.
 * @return the handle; NULL if `rt` is NULL.
 * @ownership The caller owns the new reference: release it with
 *            rt_handle_release(). It may outlive the runtime.
 * @threads Any thread, until `rt` was passed to rt_shutdown*.
 *
 * @par Example
 * @code
 * // A service keeps the runtime (to shut it down) and a handle (to use it).
 * struct service {
 *   rt_runtime_t *rt;
 *   rt_handle_t *h;
 * };
 *
 * int service_start(struct service *s) {
 *   s->rt = rt_new(NULL);
 *   if (s->rt == NULL)
 *     return RT_EINVAL;
 *   s->h = rt_handle(s->rt);           // released in service_stop()
 *   return RT_OK;
 * }
 *
 * int service_stop(struct service *s) {
 *   rt_handle_release(s->h);
 *   return rt_shutdown(s->rt);
 * }
 * @endcode
 */
RT_EXPORT RT_NODISCARD rt_handle_t *rt_handle(rt_runtime_t *rt);

/** @addtogroup runtime
 *  @{ */

/**
 * Shuts the runtime down gracefully, losing no task. In this order:
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
 *
 * @par Example
 * @code
 * static void hello(void *arg) { puts(arg); }
 *
 * int main(void) {
 *   rt_runtime_t *rt = rt_new(NULL);
 *   if (rt == NULL)
 *     return 1;
 *   rt_handle_t *h = rt_handle(rt);
 *   if (rt_spawn(h, hello, "hello from a worker") != RT_OK)
 *     fprintf(stderr, "not queued\n");
 *   rt_handle_release(h);
 *   int rc = rt_shutdown(rt);          // runs hello() first: nothing is lost
 *   if (rc != RT_OK)
 *     fprintf(stderr, "rt_shutdown: %s\n", rt_strerror(rc));
 *   return rc != RT_OK;
 * }
 * @endcode
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
 *
 * @par Example
 * @code
 * // Give the queued work one second, then drop what has not started.
 * int rc = rt_shutdown_timeout(rt, UINT64_C(1000000000));
 * if (rc == RT_ETIMEDOUT)
 *   fprintf(stderr, "shutdown: tasks that had not started were dropped\n");
 * else if (rc != RT_OK)
 *   fprintf(stderr, "rt_shutdown_timeout: %s\n", rt_strerror(rc));
 * @endcode
 */
RT_EXPORT RT_NODISCARD int rt_shutdown_timeout(rt_runtime_t *rt,
                                               uint64_t timeout_ns);

/** @} */

/* ------------------------------------------------------------------------ */
/* Handles and context                                                       */
/* ------------------------------------------------------------------------ */

/** @addtogroup handles
 *  @{ */

/**
 * A new reference to the same handle.
 *
 * @param h a handle.
 * @return `h` itself, with one more reference; NULL if `h` is NULL.
 * @ownership The caller owns the new reference: release it with
 *            rt_handle_release(). Use it to keep a borrowed handle, such as
 *            the one rt_handle_current() returns.
 * @threads Any thread, also after the runtime shut down.
 *
 * @par Example
 * @code
 * static rt_handle_t *saved;   // released by whoever uses it last
 *
 * static void remember_runtime(void *arg) {
 *   (void)arg;
 *   // rt_handle_current() is borrowed: clone it to keep it past this task.
 *   saved = rt_handle_clone(rt_handle_current());
 * }
 * @endcode
 */
RT_EXPORT RT_NODISCARD rt_handle_t *rt_handle_clone(rt_handle_t *h);

/**
 * Drops one reference to a handle. The last release frees it; the runtime
 * itself lives until its rt_shutdown().
 *
 * @param h a handle reference the caller owns; NULL is a no-op.
 * @ownership Consumes one reference to `h`.
 * @threads Any thread, also after the runtime shut down.
 *
 * @par Example
 * @code
 * rt_handle_t *mine = rt_handle_clone(h);   // a reference of our own
 * // ... hand `mine` to a thread of ours, which ends with:
 * rt_handle_release(mine);
 * @endcode
 */
RT_EXPORT void rt_handle_release(rt_handle_t *h);

/**
 * The handle current on this thread, borrowed. It is:
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
 *
 * @par Example
 * @code
 * static void write_line(void *msg) { fputs(msg, stderr); }
 *
 * // Deep in a library: log through the runtime driving this thread, if any.
 * void log_line(char *msg) {
 *   rt_handle_t *h = rt_handle_current();   // borrowed: do not release
 *   if (h == NULL || rt_spawn(h, write_line, msg) != RT_OK)
 *     write_line(msg);
 * }
 * @endcode
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
 *
 * @par Example
 * @code
 * // qsort's comparator has no user-data pointer; with the handle entered
 * // around the call, the comparator finds it with rt_handle_current().
 * static int by_value(const void *a, const void *b) {
 *   int x = *(const int *)a, y = *(const int *)b;
 *   if (rt_handle_current() == NULL)
 *     abort();                          // not reached: the handle is entered
 *   return (x > y) - (x < y);
 * }
 *
 * int sort_in_context(rt_handle_t *h, int *v, size_t n) {
 *   rt_guard_t *g = rt_enter(h);
 *   if (g == NULL)
 *     return RT_EINVAL;
 *   qsort(v, n, sizeof *v, by_value);
 *   return rt_exit(g);
 * }
 * @endcode
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
 *
 * @par Example
 * @code
 * rt_guard_t *outer = rt_enter(h);
 * rt_guard_t *inner = rt_enter(h);
 * // ... code that calls rt_handle_current() ...
 * // Last in, first out, on this thread:
 * if (rt_exit(inner) != RT_OK || rt_exit(outer) != RT_OK)
 *   fprintf(stderr, "rt_exit: not the innermost guard of this thread\n");
 * @endcode
 */
RT_EXPORT RT_NODISCARD int rt_exit(rt_guard_t *g);

/** @} */

/* ------------------------------------------------------------------------ */
/* Spawning, waiting, joining                                                */
/* ------------------------------------------------------------------------ */

/** @addtogroup tasks
 *  @{ */

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
 *
 * @par Example
 * @code
 * static void print_line(void *arg) { puts(arg); }
 *
 * int greet(rt_handle_t *h) {
 *   int rc = rt_spawn(h, print_line, "hello from a worker");
 *   if (rc == RT_EAGAIN)                // bounded queue full: retry later
 *     fprintf(stderr, "busy, try again\n");
 *   return rc;
 * }
 * @endcode
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
 *
 * @par Example
 * @code
 * struct job {
 *   int n;
 *   long square;
 * };
 *
 * static void *square(void *arg) {
 *   struct job *j = arg;
 *   j->square = (long)j->n * j->n;
 *   return j;                           // the joiner gets it, and frees it
 * }
 *
 * int start_square(rt_handle_t *h, int n, rt_task_t **task) {
 *   struct job *j = malloc(sizeof *j);
 *   if (j == NULL)
 *     return RT_ENOMEM;
 *   j->n = n;
 *   // free() is the drop: it gets j if the task never runs.
 *   int rc = rt_spawn_full(h, square, j, free, task);
 *   if (rc != RT_OK)
 *     free(j);                          // nothing was queued: j is still ours
 *   return rc;
 * }
 * @endcode
 */
RT_EXPORT RT_NODISCARD int rt_spawn_full(rt_handle_t *h, rt_call_fn fn,
                                         void *arg, rt_drop_fn drop,
                                         rt_task_t **task_out);

/** @} */
/** @addtogroup timers
 *  @{ */

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
 *
 * @par Example
 * @code
 * static void *ring(void *arg) {
 *   puts(arg);
 *   return NULL;
 * }
 *
 * // "wake up" in 250 ms; *alarm can cancel it until then.
 * int set_alarm(rt_handle_t *h, rt_task_t **alarm) {
 *   return rt_spawn_after(h, UINT64_C(250000000), ring, "wake up", NULL,
 *                         alarm);
 * }
 * @endcode
 */
RT_EXPORT RT_NODISCARD int rt_spawn_after(rt_handle_t *h, uint64_t delay_ns,
                                          rt_call_fn fn, void *arg,
                                          rt_drop_fn drop,
                                          rt_task_t **task_out);

/** @} */
/** @addtogroup tasks
 *  @{ */

/**
 * Runs `fn(arg)` on a worker and blocks the calling thread until it
 * returned: the bridge from synchronous code into the runtime. Not refused
 * for a full queue.
 *
 * On a thread of the same runtime (a worker or a blocking thread) `fn`
 * runs inline instead (waiting for a worker there could wait on itself);
 * on a worker of another runtime, the wait helps: that worker runs its own
 * runtime's queued jobs meanwhile, as rt_task_join() does.
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
 *
 * @par Example
 * @code
 * struct sum {
 *   const int *v;
 *   size_t n;
 *   long total;
 * };
 *
 * static void *add_up(void *arg) {
 *   struct sum *s = arg;
 *   for (size_t i = 0; i < s->n; i++)
 *     s->total += s->v[i];
 *   return NULL;
 * }
 *
 * long sum_on_runtime(rt_handle_t *h, const int *v, size_t n) {
 *   struct sum s = {v, n, 0};           // on our stack: rt_block_on waits
 *   if (rt_block_on(h, add_up, &s, NULL) != RT_OK)
 *     return -1;
 *   return s.total;
 * }
 * @endcode
 */
RT_EXPORT RT_NODISCARD int rt_block_on(rt_handle_t *h, rt_call_fn fn, void *arg,
                                       void **result);

/** @} */
/** @addtogroup join
 *  @{ */

/**
 * Waits for a task to finish. Several threads may join the same task.
 * Called on a thread of the task's runtime for a task that has not
 * started, it runs the task inline rather than waiting on itself (but not
 * an rt_spawn_blocking() job on a worker: that waits for the pool).
 *
 * **A join on a worker helps.** Without a timeout (`timeout_ns` < 0), on a
 * worker of any runtime, while the task runs elsewhere the join runs
 * other jobs queued for that worker's runtime (its own queue first, then
 * the shared one, then stolen ones), so that nothing it waits for can be
 * stuck behind it. Between jobs it checks the task, and when there is
 * nothing to run it sleeps until the task ends, looking at the queues
 * again every 50 µs to 1 ms. So a join may return later than its task
 * ended, by the length of the job it was running then. Up to 16 helping
 * joins nest on one thread; deeper ones, joins with a timeout, joins off
 * the workers and joins in a blocking region only wait. If the joining
 * task holds a lock that a queued job may take, join with a timeout, or
 * inside rt_blocking_begin() ... rt_blocking_end(), to wait without
 * running anything.
 *
 * A join that could never end is refused where it is cheap to see: the
 * task itself, or one that this thread is running further down its stack
 * (it joined or helped its way into the caller), gives #RT_EDEADLK. A
 * cycle through other threads (A joins B while B joins A) is not seen:
 * it waits forever, helping.
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
 * @retval RT_EDEADLK   the calling thread is running the task, further down
 *                      its stack (it joined itself, or a task that joined
 *                      or helped its way to the caller): it would wait forever.
 * @retval RT_EINVAL    `t` is NULL.
 * @ownership Does not consume `t`: release it with rt_task_release().
 * @threads Any thread.
 *
 * @par Example
 * @code
 * static void *compute(void *arg) {
 *   (void)arg;
 *   return "done";
 * }
 *
 * int run_and_wait(rt_handle_t *h) {
 *   rt_task_t *t;
 *   int rc = rt_spawn_full(h, compute, NULL, NULL, &t);
 *   if (rc != RT_OK)
 *     return rc;
 *   void *result;
 *   rc = rt_task_join(t, INT64_C(2000000000), &result);   // at most 2 s
 *   if (rc == RT_OK)
 *     printf("the task returned \"%s\"\n", (char *)result);
 *   else if (rc == RT_ETIMEDOUT)
 *     fprintf(stderr, "still running; join again later\n");
 *   rt_task_release(t);
 *   return rc;
 * }
 * @endcode
 */
RT_EXPORT RT_NODISCARD int rt_task_join(rt_task_t *t, int64_t timeout_ns,
                                        void **result);

/**
 * Cancels a task that has not started: it will never run.
 *
 * @param t a join handle.
 * @retval RT_OK        the task will never run, and its `drop` has run on
 *                      the calling thread. A pending timer (rt_spawn_after())
 *                      leaves the runtime's timers in the call, in
 *                      O(log timers): the runtime keeps nothing of it, and
 *                      rt_task_release() frees the rest.
 * @retval RT_EBUSY     too late: the task already started, finished, or
 *                      was cancelled before. Join it to wait for it.
 * @retval RT_ESHUTDOWN the task's runtime was inherited by fork(): nothing
 *                      changed (its `drop` does not run in this process).
 * @retval RT_EINVAL    `t` is NULL.
 * @ownership Does not consume `t`: release it with rt_task_release().
 * @threads Any thread.
 * @callbacks The task's `drop` runs on the calling thread, before this
 *            returns #RT_OK.
 *
 * @par Example
 * @code
 * // The alarm set with rt_spawn_after() is no longer needed.
 * int disarm(rt_task_t *alarm) {
 *   int rc = rt_task_cancel(alarm);     // RT_OK: never runs; its drop ran
 *   if (rc == RT_EBUSY)                 // too late: wait for it to finish
 *     rc = rt_task_join(alarm, -1, NULL);
 *   rt_task_release(alarm);
 *   return rc;
 * }
 * @endcode
 */
RT_EXPORT int rt_task_cancel(rt_task_t *t);

/**
 * Whether a task is done: it ran to the end or was dropped.
 *
 * @param t a join handle.
 * @return true once the task ran to the end or was dropped; false while it
 *         is pending or running, and for NULL.
 * @threads Any thread.
 *
 * @par Example
 * @code
 * // Called on each tick of an event loop: collect the result when it is there.
 * void poll_task(rt_task_t **t) {
 *   if (*t == NULL || !rt_task_is_finished(*t))
 *     return;                           // pending or running
 *   void *result;
 *   if (rt_task_join(*t, 0, &result) == RT_OK)
 *     printf("result %p\n", result);
 *   rt_task_release(*t);
 *   *t = NULL;
 * }
 * @endcode
 */
RT_EXPORT RT_BOOL rt_task_is_finished(rt_task_t *t);

/**
 * Drops the join handle. The task itself still runs (or is dropped) as if
 * it had never had one.
 *
 * @param t a join handle the caller owns; NULL is a no-op, and so is a second
 *          release of the same handle, even while the task still runs.
 * @ownership Consumes `t`.
 * @threads Any thread.
 *
 * @par Example
 * @code
 * static void *refresh(void *arg) { return arg; }
 *
 * // Start a refresh, keeping its join handle to check it later if needed...
 * void start_refresh(rt_handle_t *h, rt_task_t **pending) {
 *   if (rt_spawn_full(h, refresh, NULL, NULL, pending) != RT_OK)
 *     *pending = NULL;
 * }
 *
 * // ...or lose interest: the task runs all the same.
 * void forget_refresh(rt_task_t **pending) {
 *   rt_task_release(*pending);          // NULL is a no-op
 *   *pending = NULL;
 * }
 * @endcode
 */
RT_EXPORT void rt_task_release(rt_task_t *t);

/** @} */

/** @addtogroup blocking
 *  @{ */

/**
 * Runs `fn(arg)` on the runtime's blocking pool: a separate set of
 * threads for work that blocks (file and socket reads, a database client,
 * a long system call), so that it never occupies a worker.
 *
 * The pool grows by one thread whenever a job arrives and no thread is
 * idle, up to `max_blocking_threads` (rt_config_t); beyond that, jobs wait
 * in order for the next free thread. Idle threads exit after
 * `blocking_keep_alive_ns`. A blocking job is a task like any
 * rt_spawn_full() one: it runs exactly once or is dropped exactly once,
 * can be joined, cancelled before it starts, counts against
 * `queue_capacity`, and a shutdown waits for it (or, after
 * rt_shutdown_timeout()'s timeout, drops those not started). On its
 * thread, rt_handle_current() returns its runtime, and rt_spawn() from it
 * goes to the workers' shared queue.
 *
 * @param h        the runtime to run on.
 * @param fn       the job; its return value is the join result. Not NULL.
 * @param arg      passed to `fn` or `drop`.
 * @param drop     if not NULL, called with `arg` if the job never runs.
 * @param task_out if not NULL, receives a join handle to release with
 *                 rt_task_release().
 * @retval RT_OK        accepted.
 * @retval RT_EAGAIN    `queue_capacity` tasks are queued already.
 * @retval RT_ESHUTDOWN the runtime is shutting down (and the caller is not
 *                      one of its tasks), gone, or inherited by fork().
 * @retval RT_ENOMEM    the pool had no thread and the system refused to
 *                      start one.
 * @retval RT_EINVAL    `h` or `fn` is NULL.
 * @ownership On success the runtime owns `arg` until `fn` or `drop` ran;
 *            on failure nothing was queued and `arg` is still the caller's
 *            (`drop` is not called).
 * @threads Any thread; `fn` and `drop` run on a blocking thread (or, for a
 *          drop, on the thread that cancelled or shut down).
 *
 * @par Example
 * @code
 * #include <fcntl.h>
 * #include <unistd.h>
 *
 * // Reads a file on a blocking thread; the result is the byte count.
 * static void *count_bytes(void *path) {
 *   int fd = open(path, O_RDONLY);
 *   if (fd < 0)
 *     return NULL;
 *   char buf[4096];
 *   intptr_t total = 0;
 *   ssize_t n;
 *   while ((n = read(fd, buf, sizeof buf)) > 0)
 *     total += n;
 *   close(fd);
 *   return (void *)total;
 * }
 *
 * intptr_t file_size(rt_handle_t *h, const char *path) {
 *   rt_task_t *t;
 *   if (rt_spawn_blocking(h, count_bytes, (void *)path, NULL, &t) != RT_OK)
 *     return -1;
 *   void *result = NULL;
 *   int rc = rt_task_join(t, -1, &result);
 *   rt_task_release(t);
 *   return rc == RT_OK ? (intptr_t)result : -1;
 * }
 * @endcode
 */
RT_EXPORT RT_NODISCARD int rt_spawn_blocking(rt_handle_t *h, rt_call_fn fn,
                                             void *arg, rt_drop_fn drop,
                                             rt_task_t **task_out);

/**
 * Says that the calling task is about to block: its worker's queue must
 * not wait for it. Pair it with rt_blocking_end().
 *
 * On a worker, the worker itself (its queue, and the loop that runs it)
 * moves at once to a spare thread: an idle blocking thread, or a new one
 * within `max_blocking_threads`. The calling thread then belongs to the
 * blocking pool: the task goes on there, blocks as long as it likes, and
 * its spawns go to the shared queue; when the task returns, the thread
 * serves the pool. It does not take the worker back, not even at
 * rt_blocking_end(). A region is cheap (no thread is started while one
 * idles) but not free: a hand-off is a few microseconds; for waits of
 * microseconds, just wait.
 *
 * Regions nest: an inner rt_blocking_begin() only counts.
 *
 * @retval RT_OK     in a region: on a worker, the worker moved to another
 *                   thread; on a blocking thread (rt_spawn_blocking(), or
 *                   after an earlier region), or in a region already,
 *                   nothing needed to move.
 * @retval RT_EAGAIN in a region, but the worker stayed: no thread was free
 *                   within `max_blocking_threads`, the runtime is
 *                   shutting down past its timeout, or this is a forked
 *                   child's copy of it. Its queued jobs still move to
 *                   other workers after `stranded_after_ns`.
 * @retval RT_EINVAL not on a thread of any runtime (nor in a region): there
 *                   is nothing to protect; no region was opened.
 * @threads The calling thread, inside a task, a drop callback or a thread
 *          hook of a runtime.
 *
 * @par Example
 * @code
 * #include <pthread.h>
 *
 * typedef struct mailbox {
 *   pthread_mutex_t mu;
 *   pthread_cond_t ready;
 *   int has_mail;
 * } mailbox_t;
 *
 * // A task that waits on a condition variable another thread signals.
 * static void wait_for_mail(void *arg) {
 *   mailbox_t *m = arg;
 *   int rc = rt_blocking_begin();     // RT_OK or RT_EAGAIN: a region either way
 *   pthread_mutex_lock(&m->mu);
 *   while (!m->has_mail)
 *     pthread_cond_wait(&m->ready, &m->mu);
 *   pthread_mutex_unlock(&m->mu);
 *   if (rc != RT_EINVAL)
 *     (void)rt_blocking_end();
 * }
 * @endcode
 */
RT_EXPORT int rt_blocking_begin(void);

/**
 * Ends the innermost blocking region of the calling thread.
 *
 * @retval RT_OK     the region ended.
 * @retval RT_EINVAL the thread is in no region (rt_blocking_begin() was not
 *                   called, or returned #RT_EINVAL).
 * @threads The thread that called rt_blocking_begin().
 *
 * @par Example
 * @code
 * int in_region = rt_blocking_begin() != RT_EINVAL;
 * int c = getchar();                  // blocks until there is input
 * if (in_region)
 *   (void)rt_blocking_end();
 * if (c != EOF)
 *   rt_spawn(h, free, malloc(16));    // back to short work
 * @endcode
 */
RT_EXPORT int rt_blocking_end(void);

/** @} */

/* ------------------------------------------------------------------------ */
/* Observability                                                             */
/* ------------------------------------------------------------------------ */

/** @addtogroup stats
 *  @{ */

/**
 * Counters of one runtime. Versioned like rt_config_t: set `size` to
 * sizeof(rt_stats_t) before calling rt_stats_get(). Work run inline (a
 * rt_block_on(), WAIT trampoline or join on a worker of the same runtime)
 * is not counted.
 *
 * Two kinds of field:
 * - cumulative: `spawned`, `completed`, `dropped`, `rejected`,
 *   `strand_turns`, `blocking_threads_peak`, `blocking_spawned`,
 *   `blocking_regions`, `handoffs`, `stranded_moved`, `joins_helped` (and
 *   `shutdown`, which only goes from false to true). Each is its own
 *   counter that only grows: two calls made one after the other on one
 *   thread never see one go down, even while tasks run, so a monitoring
 *   system may treat them as monotonic counters.
 * - gauges: `queued`, `timers`, `strands`, `groups`, `blocking_threads`:
 *   how many there are now. Never negative; while tasks run, a recent
 *   value, not an exact one.
 *
 * While tasks run the fields are not read at one instant, so identities
 * between them may be off by the work in flight. After a finished
 * shutdown (rt_shutdown() or rt_shutdown_timeout() returned) they are
 * exact: spawned == completed + dropped, queued == 0, timers == 0; and
 * strands == 0, groups == 0 once every strand and group was released.
 */
typedef struct rt_stats {
  size_t size;        /**< set by the caller to sizeof(rt_stats_t) */
  unsigned workers;   /**< configured worker count */
  uint64_t spawned;   /**< tasks accepted: spawns, timers, block_on, trampoline calls,
                           group jobs and notifications */
  uint64_t completed; /**< ran to the end */
  uint64_t dropped;   /**< never ran: cancelled, or dropped by a shutdown (drop callback run) */
  uint64_t queued;    /**< gauge: accepted, not yet started, timers excluded */
  uint64_t timers;    /**< gauge: timers not yet due, nor cancelled (a cancel removes one at once) */
  uint64_t rejected;  /**< spawns, block_on and trampoline calls refused (RT_ESHUTDOWN, RT_EAGAIN) */
  RT_BOOL shutdown;   /**< shutdown started */
  /* Since 0.2 (callers built against 0.1 pass a smaller size): */
  uint64_t strands;      /**< strands alive: made by rt_strand_new() and not yet freed (the last
                              release, and the last of its queued jobs, free one) */
  uint64_t strand_turns; /**< times a strand got a worker; a turn runs its queued jobs in order,
                              up to 64 while other work waits */
  uint64_t groups;       /**< groups alive: made by rt_group_new() and not yet freed */
  /* Since 0.3: blocking work (see @ref blocking). */
  uint64_t blocking_threads;      /**< threads beyond the workers now: running blocking jobs,
                                       in (or after) a blocking region, or idle */
  uint64_t blocking_threads_peak; /**< the most there ever were at once */
  uint64_t blocking_spawned;      /**< rt_spawn_blocking() tasks accepted (in `spawned` too) */
  uint64_t blocking_regions;      /**< regions opened by rt_blocking_begin() on this runtime's
                                       threads (nested ones not counted) */
  uint64_t handoffs;              /**< regions whose worker moved to a spare thread */
  uint64_t stranded_moved;        /**< jobs the monitor moved off a worker stuck in one task */
  uint64_t joins_helped;          /**< jobs run by joins while they waited */
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
 *          picture; still, no cumulative field is ever smaller than the
 *          same thread's previous call saw (see rt_stats_t).
 *
 * @par Example
 * @code
 * void print_stats(rt_handle_t *h) {
 *   rt_stats_t s;
 *   s.size = sizeof s;                  // set before the call
 *   if (rt_stats_get(h, &s) != RT_OK)
 *     return;
 *   printf("%u workers: %llu spawned, %llu completed, %llu queued%s\n",
 *          s.workers, (unsigned long long)s.spawned,
 *          (unsigned long long)s.completed, (unsigned long long)s.queued,
 *          s.shutdown ? " (shut down)" : "");
 * }
 * @endcode
 */
RT_EXPORT RT_NODISCARD int rt_stats_get(rt_handle_t *h, rt_stats_t *out);

/** @} */

/* ------------------------------------------------------------------------ */
/* FFI callback trampolines (libffi)                                         */
/* ------------------------------------------------------------------------ */

/** @addtogroup callbacks
 *  @{ */

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
 * The function pointer's code is in a memory page of its own, written once
 * and then made read-only and executable: no memory is ever writable and
 * executable at once. So each trampoline costs a page, and a few system
 * calls to create and free: make one per binding, not one per call.
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
 *
 * @par Example
 * @code
 * // qsort's comparator takes no user pointer: a WAIT trampoline binds one.
 * static void compare_handler(void *result, void **args, void *user) {
 *   int x = **(const int *const *)args[0];   // args[i] points at argument i
 *   int y = **(const int *const *)args[1];
 *   int direction = *(const int *)user;
 *   *(int *)result = direction * ((x > y) - (x < y));
 * }
 *
 * typedef int (*comparator)(const void *, const void *);
 *
 * int sort_ints(rt_handle_t *h, int *v, size_t n, int direction) {
 *   static const rt_type_t args[2] = {RT_TYPE_POINTER, RT_TYPE_POINTER};
 *   void *code;
 *   rt_callback_t *cb = rt_callback_new(h, RT_CALLBACK_WAIT, RT_TYPE_INT, args,
 *                                       2, compare_handler, &direction, &code);
 *   if (cb == NULL)
 *     return RT_EINVAL;
 *   qsort(v, n, sizeof *v, (comparator)code);
 *   rt_callback_free(cb);
 *   return RT_OK;
 * }
 * @endcode
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
 * @param cb the trampoline; NULL is a no-op, and so is a second free of the
 *           same trampoline, concurrent or later, even while calls are
 *           still queued (they keep what they use until they ran).
 * @ownership Consumes `cb` and its reference to the handle.
 * @threads Any thread, once no thread calls the function pointer any more.
 *
 * @par Example
 * @code
 * static void on_tick(void *result, void **args, void *user) {
 *   (void)result;
 *   (void)user;
 *   printf("tick %d\n", *(const int *)args[0]);
 * }
 *
 * // A library that takes a plain `void (*)(int)` listener.
 * void watch(rt_handle_t *h, void (*subscribe)(void (*)(int)),
 *            void (*unsubscribe)(void (*)(int))) {
 *   static const rt_type_t arg = RT_TYPE_INT;
 *   void *code;
 *   rt_callback_t *cb = rt_callback_new(h, RT_CALLBACK_POST, RT_TYPE_VOID, &arg,
 *                                       1, on_tick, NULL, &code);
 *   if (cb == NULL)
 *     return;
 *   void (*listener)(int) = (void (*)(int))code;
 *   subscribe(listener);
 *   // ... later ...
 *   unsubscribe(listener);              // the library calls it no more
 *   rt_callback_free(cb);               // after the queued calls have run
 * }
 * @endcode
 */
RT_EXPORT void rt_callback_free(rt_callback_t *cb);

/** @} */

/* ------------------------------------------------------------------------ */
/* Strands: ordered work                                                      */
/* ------------------------------------------------------------------------ */

/** @addtogroup strands
 *  @{ */

/** A strand: a serial queue of jobs on the runtime's workers. */
typedef struct rt_strand rt_strand_t;

/**
 * Makes a strand on the runtime: its jobs run one at a time, in the order
 * the strand accepted them, on whichever worker is free, each seeing
 * everything the one before it did (happens-before). Different strands
 * run in parallel. What one socket, device or session of a callback-driven
 * C library needs: its events handled in order, without a lock and
 * without a thread of its own.
 *
 * A strand costs no thread and about 100 bytes while idle. After 64 jobs
 * in a row it yields its worker if other work is waiting (the strand goes
 * to the back of the run queue), so a long backlog does not starve other
 * strands and tasks.
 *
 * @param h the runtime the strand's jobs run on.
 * @return the strand; NULL if `h` is NULL or not a live handle, or if the
 *         runtime refuses work from the caller (shutting down, gone,
 *         inherited by fork()), as rt_spawn() would with #RT_ESHUTDOWN.
 * @ownership The caller owns the strand: release it with
 *            rt_strand_release(). It holds a reference to the runtime, and
 *            like a handle may outlive rt_shutdown(): then it refuses work
 *            with #RT_ESHUTDOWN.
 * @threads Any thread.
 *
 * @par Example
 * @code
 * static void on_event(void *ev) { printf("event %d\n", *(int *)ev); }
 * static int events[3] = {1, 2, 3};
 *
 * void post_in_order(rt_handle_t *h) {
 *   rt_strand_t *s = rt_strand_new(h);
 *   for (int i = 0; s != NULL && i < 3; i++)
 *     if (rt_strand_spawn(s, on_event, &events[i]) != RT_OK) break;
 *   rt_strand_release(s);  // the queued jobs still run: 1, 2, 3
 * }
 * @endcode
 */
RT_EXPORT RT_NODISCARD rt_strand_t *rt_strand_new(rt_handle_t *h);

/**
 * Drops the caller's reference to a strand. Jobs already accepted still
 * run (or are dropped by a shutdown timeout), in order.
 *
 * @param s a strand the caller owns; NULL is a no-op, and so is a second
 *          release of the same strand, even while its jobs still run.
 * @ownership Consumes `s`.
 * @threads Any thread, including the strand's own jobs.
 *
 * @par Example
 * @code
 * rt_strand_t *s = rt_strand_new(h);
 * if (s != NULL) {
 *   (void)rt_strand_spawn(s, free, malloc(16));  // runs even after the release
 *   rt_strand_release(s);
 * }
 * @endcode
 */
RT_EXPORT void rt_strand_release(rt_strand_t *s);

/**
 * The strand whose job is running on the calling thread, or NULL.
 *
 * @return the strand, borrowed: valid while the job runs; NULL outside a
 *         strand job.
 * @threads Any thread.
 *
 * @par Example
 * @code
 * // A long job in steps, each re-queued on its own strand: behind whatever
 * // was posted to the strand meanwhile.
 * void step(void *arg) {
 *   int *left = arg;
 *   if (--*left > 0 && rt_strand_spawn(rt_strand_current(), step, left) != RT_OK)
 *     fprintf(stderr, "refused\n");
 * }
 * @endcode
 */
RT_EXPORT rt_strand_t *rt_strand_current(void);

/**
 * Queues `fn(arg)` on the strand: it runs after every job the strand
 * accepted before, and before every job it accepts after. As rt_spawn()
 * otherwise, bounded by `queue_capacity` like rt_spawn().
 *
 * @param s   the strand.
 * @param fn  the work.
 * @param arg passed to `fn`.
 * @retval RT_OK        queued; `fn` will run exactly once (or, after a
 *                      shutdown timeout dropped it, never).
 * @retval RT_EINVAL    `s` or `fn` is NULL.
 * @retval RT_EAGAIN    the bounded queue is full (as rt_spawn()).
 * @retval RT_ESHUTDOWN as rt_spawn().
 * @ownership As rt_spawn(); the caller keeps its reference to `s`.
 * @threads Any thread.
 * @callbacks `fn` runs on a worker of the strand's runtime, where
 *            rt_strand_current() is `s` and rt_handle_current() the runtime.
 *
 * @par Example
 * @code
 * struct conn { rt_strand_t *strand; int fd; };
 *
 * static void handle_input(void *conn) { (void)conn; }  // in order, one at a time
 *
 * // A C library's callback for one connection: it only posts.
 * void on_readable(struct conn *c) {
 *   if (rt_strand_spawn(c->strand, handle_input, c) != RT_OK)
 *     fprintf(stderr, "connection %d: event refused\n", c->fd);
 * }
 * @endcode
 */
RT_EXPORT RT_NODISCARD int rt_strand_spawn(rt_strand_t *s, rt_fn fn, void *arg);

/**
 * rt_spawn_full() on a strand: in the strand's order, with a drop callback
 * and optionally a join handle. Joining a strand job never runs it inline
 * (that would break the order): the joiner waits.
 *
 * @param s        the strand.
 * @param fn       the work; its result goes to rt_task_join().
 * @param arg      passed to `fn`, or to `drop` if the job never runs.
 * @param drop     called with `arg` if the job never runs; may be NULL.
 * @param task_out if not NULL, receives a new join handle on #RT_OK.
 * @retval RT_OK        queued: exactly one of `fn` and `drop` will run, once.
 * @retval RT_EINVAL    `s` or `fn` is NULL.
 * @retval RT_EAGAIN    the bounded queue is full.
 * @retval RT_ESHUTDOWN as rt_spawn().
 * @ownership As rt_spawn_full().
 * @threads Any thread.
 * @callbacks As rt_strand_spawn(); `drop` as rt_spawn_full(). A job
 *            cancelled with rt_task_cancel() is skipped in the strand's
 *            order.
 *
 * @par Example
 * @code
 * static void *parse(void *buf) { return buf; }
 *
 * void parse_in_order(rt_strand_t *s) {
 *   rt_task_t *t;
 *   void *buf = malloc(64), *parsed;
 *   if (rt_strand_spawn_full(s, parse, buf, free, &t) != RT_OK) {
 *     free(buf);  // refused: still ours
 *     return;
 *   }
 *   if (rt_task_join(t, -1, &parsed) == RT_OK)  // RT_ECANCELED: free() got it
 *     free(parsed);
 *   rt_task_release(t);
 * }
 * @endcode
 */
RT_EXPORT RT_NODISCARD int rt_strand_spawn_full(rt_strand_t *s, rt_call_fn fn,
                                                void *arg, rt_drop_fn drop,
                                                rt_task_t **task_out);

/**
 * rt_spawn_after() on a strand: when the delay has passed, the job joins
 * the strand's queue, behind the jobs it accepted until then.
 *
 * @param s        the strand.
 * @param delay_ns the delay in nanoseconds; 0 is rt_strand_spawn_full().
 * @param fn       the work.
 * @param arg      passed to `fn` or `drop`.
 * @param drop     called with `arg` if the job never runs; may be NULL.
 * @param task_out if not NULL, receives a new join handle on #RT_OK.
 * @retval RT_OK        the timer is set.
 * @retval RT_EINVAL    `s` or `fn` is NULL.
 * @retval RT_ESHUTDOWN as rt_spawn().
 * @ownership As rt_spawn_full().
 * @threads Any thread.
 * @callbacks As rt_spawn_after().
 *
 * @par Example
 * @code
 * // A session's idle timeout, in order with the session's other events.
 * static void *expire(void *session) { return session; }
 *
 * rt_task_t *arm_idle_timeout(rt_strand_t *session_strand, void *session) {
 *   rt_task_t *t = NULL;
 *   if (rt_strand_spawn_after(session_strand, 30 * 1000000000ull, expire, session, NULL, &t) != RT_OK)
 *     return NULL;
 *   return t;  // on activity: rt_task_cancel(t), then rt_task_release(t)
 * }
 * @endcode
 */
RT_EXPORT RT_NODISCARD int rt_strand_spawn_after(rt_strand_t *s, uint64_t delay_ns,
                                                 rt_call_fn fn, void *arg,
                                                 rt_drop_fn drop,
                                                 rt_task_t **task_out);

/**
 * Runs `fn(arg)` on the strand, after the jobs it accepted before, and
 * blocks until it returned. Not refused for a full queue.
 *
 * On a worker of the strand's runtime, if no other worker is running the
 * strand's jobs at that moment, the calling worker runs them itself, in
 * order, up to and including `fn` (waiting could wait for work queued
 * behind the caller); otherwise it waits for the worker that is.
 *
 * @param s      the strand.
 * @param fn     the work.
 * @param arg    passed to `fn`.
 * @param result if not NULL, receives fn's return value on #RT_OK.
 * @retval RT_OK        `fn` ran; `*result` is set.
 * @retval RT_EINVAL    `s` or `fn` is NULL.
 * @retval RT_EDEADLK   called from a job of the same strand, which would
 *                      wait for itself; nothing was queued.
 * @retval RT_ESHUTDOWN as rt_spawn(); `fn` did not run.
 * @retval RT_ECANCELED a shutdown timeout dropped it before it ran.
 * @ownership `arg` stays the caller's; it may point at the caller's stack.
 * @threads Any thread.
 * @callbacks `fn` runs on a worker of the runtime, in the strand's order,
 *            where rt_strand_current() is `s`.
 *
 * @par Example
 * @code
 * struct conn { rt_strand_t *strand; long count; };  // count: the strand's jobs only
 *
 * static void *read_count(void *c) { return (void *)(intptr_t)((struct conn *)c)->count; }
 *
 * long events_so_far(struct conn *c) {
 *   void *n;
 *   return rt_strand_block_on(c->strand, read_count, c, &n) == RT_OK ? (long)(intptr_t)n : -1;
 * }
 * @endcode
 */
RT_EXPORT RT_NODISCARD int rt_strand_block_on(rt_strand_t *s, rt_call_fn fn,
                                              void *arg, void **result);

/** @} */

/* ------------------------------------------------------------------------ */
/* Parallel loops                                                            */
/* ------------------------------------------------------------------------ */

/** @addtogroup apply
 *  @{ */

/** The function rt_apply() calls: `fn(ctx, i)` for one index i. */
typedef void (*rt_apply_fn)(void *ctx, size_t index);

/**
 * Calls `fn(ctx, i)` exactly once for every `i` in `[0, n)`, spread over
 * the runtime's workers with the calling thread taking part, and returns
 * once every call returned: libdispatch's dispatch_apply_f(). Everything
 * the calls did is visible to the caller when it returns (they happen
 * before the return). The calls run in no particular order, several at a
 * time.
 *
 * Indices are handed out in chunks of consecutive indices, so a trivial
 * `fn` costs about what a plain loop split over the workers costs. The
 * apply keeps at most as many threads busy as the runtime has workers
 * (the caller counts as one): on a runtime of one worker, or when `n` is
 * one chunk, every call runs on the calling thread.
 *
 * It never waits on itself: the calling thread runs indices until none is
 * left, then waits only for those that workers already started. So it may
 * be called from one of the runtime's own tasks, even with one worker, and
 * from inside an apply's `fn` (a nested apply).
 *
 * @param h   the runtime whose workers help.
 * @param n   the number of indices; 0 returns #RT_OK at once, without
 *            calling `fn` (even on a runtime that is shut down).
 * @param fn  called once per index.
 * @param ctx passed to every call of `fn`.
 * @retval RT_OK        every `fn(ctx, i)` ran and returned.
 * @retval RT_EINVAL    `h` or `fn` is NULL; `fn` was not called.
 * @retval RT_ESHUTDOWN as rt_spawn(), checked once when the call begins:
 *                      `fn` was not called. Once begun, a shutdown (even
 *                      one whose timeout drops the helper jobs) changes
 *                      nothing: every index still runs exactly once, the
 *                      calling thread running what the workers could not.
 * @ownership `ctx` stays the caller's; it may point at the caller's stack,
 *            since the call waits, and it is never used after the call
 *            returned. The caller keeps its reference to `h`.
 * @threads Any thread. Not refused for a full queue: the helper jobs it
 *          posts (at most one fewer than the workers) are not bounded by
 *          `queue_capacity`, and count in rt_stats_t like tasks.
 * @callbacks `fn` runs on the calling thread and on worker threads of the
 *            runtime (there rt_handle_current() is that runtime), several
 *            calls at once: what it touches must be safe to share. `fn`
 *            must not wait for another index's call (they may run one
 *            after the other on one thread).
 *
 * @par Example
 * Squares a million numbers on every worker:
 * @code
 * static void square(void *ctx, size_t i) {
 *   double *v = ctx;
 *   v[i] = v[i] * v[i];
 * }
 *
 * int square_all(rt_handle_t *h, double *values, size_t n) {
 *   int rc = rt_apply(h, n, square, values);
 *   if (rc != RT_OK)
 *     fprintf(stderr, "rt_apply: %s\n", rt_strerror(rc));
 *   return rc;
 * }
 * @endcode
 */
RT_EXPORT RT_NODISCARD int rt_apply(rt_handle_t *h, size_t n, rt_apply_fn fn,
                                    void *ctx);

/** @} */

/* ------------------------------------------------------------------------ */
/* Groups                                                                    */
/* ------------------------------------------------------------------------ */

/** @addtogroup groups
 *  @{ */

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
 * static void *work(void *item) { return item; }
 * static int items[1000];
 *
 * int run_batch(rt_handle_t *h) {
 *   rt_group_t *g = rt_group_new(h);
 *   if (g == NULL)
 *     return RT_ESHUTDOWN;
 *   for (int i = 0; i < 1000; i++)
 *     if (rt_group_spawn(g, work, &items[i], NULL) != RT_OK)
 *       break;
 *   int rc = rt_group_wait(g, -1);  // every job ran (or was dropped)
 *   rt_group_release(g);
 *   return rc;
 * }
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
 *
 * @par Example
 * @code
 * static void *work(void *item) { return item; }
 * static int items[1000];
 *
 * int run_batch(rt_handle_t *h) {
 *   rt_group_t *g = rt_group_new(h);
 *   if (g == NULL)
 *     return RT_ESHUTDOWN;
 *   for (int i = 0; i < 1000; i++)
 *     if (rt_group_spawn(g, work, &items[i], NULL) != RT_OK)
 *       break;
 *   int rc = rt_group_wait(g, -1);  // every job ran (or was dropped)
 *   rt_group_release(g);
 *   return rc;
 * }
 * @endcode
 */
RT_EXPORT RT_NODISCARD rt_group_t *rt_group_new(rt_handle_t *h);

/**
 * Drops the caller's reference to a group. Jobs and notifications already
 * in it are not cancelled: they still run (or are dropped by a shutdown),
 * and the group's memory is freed after the last of them.
 *
 * @param g the group; NULL is a no-op, and so is a second release of the
 *          same group, even while its jobs still run.
 * @ownership Consumes `g`.
 * @threads Any thread, also after the runtime shut down.
 *
 * @par Example
 * @code
 * static void *work(void *arg) { return arg; }
 *
 * void fire_and_forget(rt_handle_t *h, void *arg) {
 *   rt_group_t *g = rt_group_new(h);
 *   if (g != NULL && rt_group_spawn(g, work, arg, NULL) != RT_OK)
 *     fprintf(stderr, "refused\n");
 *   rt_group_release(g);  // NULL is fine; a spawned job still runs
 * }
 * @endcode
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
 *
 * @par Example
 * @code
 * static void *compress(void *file) { return file; }
 *
 * int compress_all(rt_group_t *g, char **files, int n) {
 *   for (int i = 0; i < n; i++) {
 *     int rc = rt_group_spawn(g, compress, files[i], NULL);
 *     if (rc != RT_OK)
 *       return rc;  // files[i] is still ours
 *   }
 *   return rt_group_wait(g, -1);
 * }
 * @endcode
 */
RT_EXPORT RT_NODISCARD int rt_group_spawn(rt_group_t *g, rt_call_fn fn,
                                          void *arg, rt_drop_fn drop);

/**
 * rt_group_spawn() onto a strand: the job belongs to the group (it counts
 * in rt_group_pending(), rt_group_wait() waits for it, rt_group_cancel()
 * drops it if it has not started) and runs on the strand, in the strand's
 * order. A wait on a worker never runs it out of that order: it drains the
 * strand itself if no other thread is running the strand's jobs.
 *
 * @param g    the group.
 * @param s    a strand of the group's runtime.
 * @param fn   the work.
 * @param arg  passed to `fn`, or to `drop` if the job never runs.
 * @param drop called with `arg` if the job never runs; may be NULL.
 * @retval RT_OK        accepted: exactly one of `fn` and `drop` will run, once.
 * @retval RT_EINVAL    `g`, `s` or `fn` is NULL, or `s` is a strand of
 *                      another runtime.
 * @retval RT_EAGAIN    the bounded queue is full.
 * @retval RT_ESHUTDOWN as rt_group_spawn().
 * @ownership As rt_group_spawn().
 * @threads Any thread.
 * @callbacks `fn` runs on a worker, in the strand's order, where
 *            rt_strand_current() is `s`; `drop` as rt_group_spawn().
 *
 * @par Example
 * @code
 * static void *apply_update(void *update) { return update; }
 *
 * // Updates of one account in order, all of them waited for together.
 * int apply_all(rt_group_t *g, rt_strand_t *account, void **updates, int n) {
 *   for (int i = 0; i < n; i++)
 *     if (rt_group_strand_spawn(g, account, apply_update, updates[i], NULL) != RT_OK)
 *       break;
 *   return rt_group_wait(g, -1);
 * }
 * @endcode
 */
RT_EXPORT RT_NODISCARD int rt_group_strand_spawn(rt_group_t *g, rt_strand_t *s,
                                                 rt_call_fn fn, void *arg,
                                                 rt_drop_fn drop);

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
 *
 * @par Example
 * @code
 * int wait_a_second(rt_group_t *g) {
 *   int rc = rt_group_wait(g, 1000000000);  // 1 s
 *   if (rc == RT_ETIMEDOUT)
 *     fprintf(stderr, "%zu jobs still pending\n", rt_group_pending(g));
 *   return rc;
 * }
 * @endcode
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
 *
 * @par Example
 * @code
 * static void all_done(void *name) { printf("%s: done\n", (const char *)name); }
 *
 * int report_when_done(rt_group_t *g) {
 *   static char name[] = "batch";
 *   return rt_group_notify(g, all_done, name);  // runs once, when g empties
 * }
 * @endcode
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
 *
 * @par Example
 * @code
 * static void report(void *msg) {
 *   puts(msg);
 *   free(msg);
 * }
 *
 * int report_when_done(rt_group_t *g) {
 *   char *msg = malloc(16);
 *   if (msg == NULL)
 *     return RT_ENOMEM;
 *   memcpy(msg, "batch done", 11);
 *   int rc = rt_group_notify_full(g, report, msg, free);  // report or free, once
 *   if (rc != RT_OK)
 *     free(msg);  // refused: still ours
 *   return rc;
 * }
 * @endcode
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
 *
 * @par Example
 * @code
 * void abandon(rt_group_t *g) {
 *   int dropped = rt_group_cancel(g);  // each one's drop ran here
 *   if (dropped > 0)
 *     printf("%d jobs dropped\n", dropped);
 *   (void)rt_group_wait(g, -1);  // the ones already running finish
 * }
 * @endcode
 */
RT_EXPORT int rt_group_cancel(rt_group_t *g);

/**
 * The jobs pending in the group: accepted by rt_group_spawn() and not yet
 * finished or dropped.
 *
 * @param g the group.
 * @return the count (a recent value while jobs run); 0 for NULL.
 * @threads Any thread.
 *
 * @par Example
 * @code
 * void show_progress(rt_group_t *g, size_t total) {
 *   printf("%zu of %zu done\n", total - rt_group_pending(g), total);
 * }
 * @endcode
 */
RT_EXPORT size_t rt_group_pending(rt_group_t *g);

/** @} */

/* ------------------------------------------------------------------------ */
/* Signal handlers                                                           */
/* ------------------------------------------------------------------------ */

/**
 * @defgroup signals Signal handlers
 * @brief Work posted from a signal handler: rt_signal_slot_new(),
 *        rt_signal_slot_post(), rt_signal_slot_free().
 *
 * rt_signal_slot_post() is the one rtctx function a signal handler may
 * call: no other is async-signal-safe (they take locks and allocate, and a
 * handler may have interrupted the thread holding the lock). It works like
 * libuv's uv_async_send(): a slot made beforehand, outside the handler,
 * binds a function to a runtime; a post only marks the slot and wakes a
 * worker, and the function runs later on a worker, where anything goes.
 */

/** @addtogroup signals
 *  @{ */

/** A slot that a signal handler posts to; see rt_signal_slot_new(). */
typedef struct rt_signal_slot rt_signal_slot_t;

/**
 * Makes a slot that signal handlers may post to with rt_signal_slot_post():
 * each post asks for one run of `fn(arg)` on a worker of the runtime of `h`.
 *
 * Posts coalesce, like uv_async_send(): however many posts come before a
 * run starts, they are answered by that one run, so a slot runs at least
 * once after its last post and never more often than it was posted. Runs
 * of one slot never overlap. Each run is a task of the runtime (counted in
 * rt_stats_t).
 *
 * @param h    the runtime the runs go to.
 * @param fn   the run; it runs on a worker thread, not in the handler, so
 *             it may call any rtctx function.
 * @param arg  passed to `fn` and `drop`.
 * @param drop if not NULL, receives `arg` exactly once, after the slot was
 *             freed and its last run returned (never while `fn` runs).
 * @return the slot, or NULL (nothing allocated, `arg` still the caller's,
 *         `drop` never called) for a NULL handle or `fn`, or a runtime shut
 *         down, shutting down or inherited by fork().
 * @ownership The caller owns the slot: free it with rt_signal_slot_free().
 *            It keeps its own reference to `h`.
 * @threads Any thread, but not a signal handler.
 * @callbacks `fn` runs on a worker thread of the runtime; `drop` runs on
 *            the thread of rt_signal_slot_free(), or on the worker that
 *            ran the last run if that returned later.
 *
 * @par Example
 * @code
 * #include <signal.h>
 *
 * static rt_signal_slot_t *stop_slot;     // made before the handler is installed
 *
 * static void stop_gracefully(void *arg) {   // on a worker: anything goes here
 *   (void)arg;
 *   fprintf(stderr, "interrupted: finishing the work in hand\n");
 * }
 *
 * static void on_sigint(int sig) {
 *   (void)sig;
 *   (void)rt_signal_slot_post(stop_slot);   // the one call a handler may make
 * }
 *
 * int watch_sigint(rt_handle_t *h) {
 *   stop_slot = rt_signal_slot_new(h, stop_gracefully, NULL, NULL);
 *   if (stop_slot == NULL)
 *     return RT_ESHUTDOWN;
 *   return signal(SIGINT, on_sigint) == SIG_ERR ? RT_EINVAL : RT_OK;
 * }
 * @endcode
 */
RT_EXPORT RT_NODISCARD rt_signal_slot_t *rt_signal_slot_new(rt_handle_t *h,
                                                            rt_fn fn, void *arg,
                                                            rt_drop_fn drop);

/**
 * Asks for a run of the slot's function: the one rtctx call allowed in a
 * signal handler. Async-signal-safe: it uses only atomic operations and a
 * futex wake (a raw system call), and leaves errno as it found it; it
 * takes no lock, allocates nothing and never writes to the debug log.
 *
 * A post that returns #RT_OK is never lost: a run of the slot starts after
 * it, on a worker (before rt_shutdown() returns, if the shutdown began
 * later). Posts that come before that run starts are answered by it. The
 * one exception is a shutdown that drops work: rt_shutdown_timeout() past
 * its timeout, or rt_shutdown_background(), may drop the run owed, and
 * rt_shutdown_timeout() then returns #RT_ETIMEDOUT, never #RT_OK.
 *
 * @param slot a slot from rt_signal_slot_new(), not yet freed.
 * @retval RT_OK        a run starts after this post.
 * @retval RT_ESHUTDOWN the runtime is shut down or shutting down, or was
 *                      inherited by fork(): no run is owed for this post
 *                      (if the shutdown began during the call, a run may
 *                      still have started).
 * @retval RT_EINVAL    `slot` is NULL (or not a live slot, as far as its
 *                      tag word tells).
 * @threads Any thread, and signal handlers on any thread, until
 *          rt_signal_slot_free() (block the signal or uninstall the
 *          handler first).
 *
 * @par Example
 * @code
 * static rt_signal_slot_t *term_slot;     // its function runs on a worker
 *
 * static void on_sigterm(int sig) {
 *   (void)sig;
 *   (void)rt_signal_slot_post(term_slot);   // many signals: one run or more
 * }
 * @endcode
 */
RT_EXPORT int rt_signal_slot_post(rt_signal_slot_t *slot);

/**
 * Frees a slot: no run is queued for it afterwards. A run already queued
 * or running still finishes; `drop(arg)` runs once, after it. Does not
 * wait for that run.
 *
 * In a child forked without exec, the slot of an inherited runtime is not
 * freed and its `drop` does not run (no callback runs in the child).
 *
 * @param slot the slot; NULL is a no-op, and so is a second free of the
 *             same slot.
 * @ownership Consumes `slot` and its reference to the handle.
 * @threads Any thread but a signal handler, once no handler posts to the
 *          slot any more.
 *
 * @par Example
 * @code
 * #include <signal.h>
 *
 * static rt_signal_slot_t *stop_slot;     // posted to by a SIGINT handler
 *
 * void unwatch_sigint(void) {
 *   signal(SIGINT, SIG_DFL);               // no handler posts any more
 *   rt_signal_slot_free(stop_slot);
 *   stop_slot = NULL;
 * }
 * @endcode
 */
RT_EXPORT void rt_signal_slot_free(rt_signal_slot_t *slot);

/** @} */

/* ------------------------------------------------------------------------ */
/* Loops: jobs for a thread the caller owns; completion callbacks             */
/* ------------------------------------------------------------------------ */

/**
 * @defgroup loops Loops (a thread you own) and completions
 * @brief Jobs that any thread posts and one thread runs, inside its own
 *        event loop: rt_loop_new(), rt_loop_spawn(), rt_loop_spawn_full(),
 *        rt_loop_spawn_after(), rt_loop_block_on(), rt_loop_run_pending(),
 *        rt_loop_run(), rt_loop_stop(), rt_loop_fd(), rt_loop_current(),
 *        rt_loop_free(); and results sent where the caller wants them:
 *        rt_spawn_then().
 *
 * A loop (#rt_loop_t) belongs to the thread that made it, its *owner*: a
 * GUI thread, the thread holding an interpreter's lock, any code that must
 * only be called from one thread (the dispatch main queue, GLib's
 * `g_main_context_invoke`, tokio's `LocalSet`). Workers and other threads
 * post jobs to it; only the owner runs them, when it calls
 * rt_loop_run_pending() or rt_loop_run(). The loop has no thread of its
 * own: rt_loop_fd() is an eventfd that becomes readable when jobs are
 * pending, for the owner's epoll, `poll`, libuv `uv_poll_t` or GLib
 * `g_unix_fd_add`.
 *
 * Loop jobs are jobs of the runtime: admitted, bounded by
 * `queue_capacity` (rt_loop_spawn(), rt_loop_spawn_full()), counted in
 * #rt_stats_t, run exactly once or dropped exactly once. Jobs posted by
 * one thread run in the order it posted them.
 *
 * **Shutdown.** A graceful rt_shutdown() waits for loop jobs like any
 * other: the owners must keep running their loops (or free them) until it
 * returns. Called on a loop's owner, rt_shutdown() and
 * rt_shutdown_timeout() run that thread's loops' jobs themselves while
 * they wait. After the timeout of rt_shutdown_timeout(), the jobs still
 * pending on any loop are dropped, exactly once (their `drop` runs on the
 * shutdown thread, or on the owner for jobs it had already taken).
 * rt_shutdown() from one of the runtime's loop jobs would wait for that
 * job: it returns #RT_EDEADLK, as on a worker.
 */

/** @addtogroup loops
 *  @{ */

/** A loop: jobs for one thread, its owner (the thread that made it). */
typedef struct rt_loop rt_loop_t;

/**
 * Makes a loop on the runtime, owned by the calling thread.
 *
 * @param h the runtime the loop's jobs belong to.
 * @return the loop; NULL if `h` is NULL or not a live handle, if the
 *         runtime refuses work from the caller (as rt_spawn() would with
 *         #RT_ESHUTDOWN), or if the system refused an eventfd.
 * @ownership The caller owns the loop and frees it with rt_loop_free() on
 *            the same thread. It holds a reference to the runtime. If the
 *            owner thread ends without rt_loop_free() (a thread that
 *            returns or calls pthread_exit(), not the main thread's
 *            exit()), its exit frees the loop as rt_loop_free() would:
 *            the pending jobs are dropped, later posts answer
 *            #RT_ESHUTDOWN, and a graceful shutdown does not wait for
 *            jobs that nobody may run.
 * @threads Any thread; that thread becomes the owner.
 *
 * @par Example
 * @code
 * static void apply(void *v) { printf("on the owner: %d\n", *(int *)v); }
 * static int value = 42;
 *
 * int main(void) {
 *   rt_runtime_t *rt = rt_new(NULL);
 *   rt_handle_t *h = rt_handle(rt);
 *   rt_loop_t *main_loop = rt_loop_new(h);   // main() owns it
 *   if (main_loop == NULL) return 1;
 *   if (rt_loop_spawn(main_loop, apply, &value) == RT_OK)  // any thread may post
 *     (void)rt_loop_run(main_loop, -1);       // runs apply() here
 *   (void)rt_loop_free(main_loop);
 *   int rc = rt_shutdown(rt);
 *   rt_handle_release(h);
 *   return rc == RT_OK ? 0 : 1;
 * }
 * @endcode
 */
RT_EXPORT RT_NODISCARD rt_loop_t *rt_loop_new(rt_handle_t *h);

/**
 * Frees a loop: every later post to it is refused with #RT_ESHUTDOWN, and
 * the jobs still pending are dropped here, in order, exactly once (their
 * `drop`, if any, gets `arg`; plain rt_loop_spawn() jobs just vanish). A
 * delayed job whose timer has not fallen due yet is dropped when it does
 * (or by the runtime's shutdown). The descriptor is closed here.
 *
 * Posts racing the free: a post on another thread is either accepted
 * before the free (then dropped here) or refused with #RT_ESHUTDOWN. The
 * loop's memory (about 200 bytes, no descriptor) is kept until the
 * runtime's shutdown returns, so until then a post to a freed loop is
 * refused with #RT_ESHUTDOWN, never a crash. A loop freed after that is
 * released at once (the free waits for the posts under way), and a post
 * to it afterwards uses a freed pointer, which is undefined (the tag
 * check gives #RT_EINVAL while the memory was not reused).
 *
 * In a child forked without exec, nothing is dropped (no callback runs in
 * the child) and nothing is freed but the caller's reference.
 *
 * @param l the loop.
 * @retval RT_OK     freed.
 * @retval RT_EINVAL `l` is NULL, not a live loop, or the caller is not its
 *                   owner (nothing changed).
 * @retval RT_EBUSY  called from one of the loop's own jobs (nothing
 *                   changed): free it after rt_loop_run*() returns.
 * @ownership Consumes `l` on #RT_OK.
 * @threads The owner only.
 *
 * @par Example
 * @code
 * rt_loop_t *l = rt_loop_new(h);
 * if (l != NULL) {
 *   (void)rt_loop_spawn_full(l, NULL, NULL, NULL, NULL);  // RT_EINVAL: fn is NULL
 *   if (rt_loop_free(l) != RT_OK) fprintf(stderr, "not the owner\n");
 * }
 * @endcode
 */
RT_EXPORT int rt_loop_free(rt_loop_t *l);

/**
 * The loop's readiness descriptor: an eventfd, non-blocking and
 * close-on-exec, that is readable while jobs are pending. Watch it for
 * reading (epoll, `poll`, `uv_poll_t`, `g_unix_fd_add`) and call
 * rt_loop_run_pending() when it is; only that call clears it.
 *
 * Spurious wake-ups happen (readable, nothing to run: the previous call
 * already ran those jobs), lost ones never: after a post, the descriptor
 * is readable from some moment after the previous rt_loop_run_pending()
 * took its jobs, until the next one. Many posts coalesce into one wake-up.
 * rt_loop_run_pending() that leaves jobs behind (`max`) leaves it readable.
 *
 * @param l the loop.
 * @return the descriptor (owned by the loop: do not read, write or close
 *         it); #RT_EINVAL if `l` is NULL or not a live loop.
 * @threads Any thread.
 *
 * @par Example
 * @code
 * #include <poll.h>
 *
 * // One turn of an owner's own poll() loop, with the rtctx loop in it.
 * void turn(rt_loop_t *l, int socket_fd) {
 *   struct pollfd fds[2] = {{socket_fd, POLLIN, 0}, {rt_loop_fd(l), POLLIN, 0}};
 *   if (poll(fds, 2, -1) > 0 && (fds[1].revents & POLLIN))
 *     (void)rt_loop_run_pending(l, SIZE_MAX);
 * }
 * @endcode
 */
RT_EXPORT int rt_loop_fd(rt_loop_t *l);

/**
 * The loop whose job is running on the calling thread, or NULL.
 *
 * @return the loop, borrowed: valid while the job runs; NULL outside a
 *         loop job. Inside one, rt_handle_current() is the loop's runtime.
 * @threads Any thread.
 *
 * @par Example
 * @code
 * // A job that re-queues itself behind what was posted meanwhile.
 * void again(void *arg) {
 *   int *left = arg;
 *   if (--*left > 0 && rt_loop_spawn(rt_loop_current(), again, left) != RT_OK)
 *     fprintf(stderr, "refused\n");
 * }
 * @endcode
 */
RT_EXPORT rt_loop_t *rt_loop_current(void);

/**
 * Posts `fn(arg)` to the loop: the owner runs it in a later
 * rt_loop_run_pending() or rt_loop_run(), after the jobs this thread
 * posted before. Bounded by `queue_capacity` like rt_spawn().
 *
 * @param l   the loop.
 * @param fn  the work.
 * @param arg passed to `fn`.
 * @retval RT_OK        queued: `fn` runs once on the owner (or never, if
 *                      the loop is freed or a shutdown timeout drops it).
 * @retval RT_EINVAL    `l` or `fn` is NULL, or `l` is not a live loop.
 * @retval RT_EAGAIN    the bounded queue is full.
 * @retval RT_ESHUTDOWN the loop was freed, or as rt_spawn().
 * @ownership As rt_spawn().
 * @threads Any thread, the owner and the loop's jobs included.
 * @callbacks `fn` runs on the owner, where rt_loop_current() is `l` and
 *            rt_handle_current() the loop's runtime.
 *
 * @par Example
 * @code
 * struct result { int id; double value; };
 * static void show(void *r) { free(r); }   // e.g. update a widget, then free
 *
 * // On a worker: the computation is done, the GUI thread shows it.
 * void computed(rt_loop_t *gui, int id, double value) {
 *   struct result *r = malloc(sizeof *r);
 *   if (r == NULL) return;
 *   r->id = id;
 *   r->value = value;
 *   if (rt_loop_spawn(gui, show, r) != RT_OK) free(r);
 * }
 * @endcode
 */
RT_EXPORT RT_NODISCARD int rt_loop_spawn(rt_loop_t *l, rt_fn fn, void *arg);

/**
 * rt_spawn_full() onto the loop: with a drop callback and optionally a
 * join handle. Joining never runs a loop job elsewhere: the joiner waits
 * for the owner. A join without a timeout on the owner itself, of a job
 * not yet done, returns #RT_EDEADLK.
 *
 * @param l        the loop.
 * @param fn       the work; its result goes to rt_task_join().
 * @param arg      passed to `fn`, or to `drop` if the job never runs.
 * @param drop     called with `arg` if the job never runs; may be NULL.
 * @param task_out if not NULL, receives a new join handle on #RT_OK.
 * @retval RT_OK        queued: exactly one of `fn` and `drop` will run, once.
 * @retval RT_EINVAL    `l` or `fn` is NULL, or `l` is not a live loop.
 * @retval RT_EAGAIN    the bounded queue is full.
 * @retval RT_ESHUTDOWN the loop was freed, or as rt_spawn().
 * @ownership As rt_spawn_full().
 * @threads Any thread.
 * @callbacks `fn` as rt_loop_spawn(); `drop` on the owner (in
 *            rt_loop_free()), on the canceller, or on the shutdown thread.
 *
 * @par Example
 * @code
 * static void *render(void *frame) { return frame; }
 *
 * rt_task_t *render_on(rt_loop_t *gui, void *frame) {
 *   rt_task_t *t = NULL;
 *   if (rt_loop_spawn_full(gui, render, frame, free, &t) != RT_OK) {
 *     free(frame);  // refused: still ours
 *     return NULL;
 *   }
 *   return t;  // rt_task_join() from any thread but the GUI's
 * }
 * @endcode
 */
RT_EXPORT RT_NODISCARD int rt_loop_spawn_full(rt_loop_t *l, rt_call_fn fn,
                                              void *arg, rt_drop_fn drop,
                                              rt_task_t **task_out);

/**
 * rt_spawn_after() onto the loop: when the delay has passed, the job joins
 * the loop's queue (and rt_loop_fd() becomes readable). Never refused for
 * a full queue. If the loop was freed by then, the job is dropped then.
 *
 * @param l        the loop.
 * @param delay_ns the delay in nanoseconds; 0 is rt_loop_spawn_full().
 * @param fn       the work.
 * @param arg      passed to `fn` or `drop`.
 * @param drop     called with `arg` if the job never runs; may be NULL.
 * @param task_out if not NULL, receives a new join handle on #RT_OK.
 * @retval RT_OK        the timer is set.
 * @retval RT_EINVAL    `l` or `fn` is NULL, or `l` is not a live loop.
 * @retval RT_ESHUTDOWN the loop was freed, or as rt_spawn_after().
 * @ownership As rt_spawn_full().
 * @threads Any thread.
 * @callbacks As rt_loop_spawn_full().
 *
 * @par Example
 * @code
 * static void *blink(void *cursor) { return cursor; }
 *
 * // Half a second from now, on the GUI thread.
 * int blink_later(rt_loop_t *gui, void *cursor) {
 *   return rt_loop_spawn_after(gui, 500 * 1000000ull, blink, cursor, NULL, NULL);
 * }
 * @endcode
 */
RT_EXPORT RT_NODISCARD int rt_loop_spawn_after(rt_loop_t *l, uint64_t delay_ns,
                                               rt_call_fn fn, void *arg,
                                               rt_drop_fn drop,
                                               rt_task_t **task_out);

/**
 * Runs `fn(arg)` on the loop's owner and waits for its result. On the
 * owner itself it runs inline at once (before the pending jobs), as
 * rt_block_on() does on a worker. On a worker, the wait helps: the
 * worker's queued jobs run meanwhile, so a runtime of one worker can wait
 * for a loop whose job spawns onto it.
 *
 * @param l      the loop.
 * @param fn     the work.
 * @param arg    passed to `fn`.
 * @param result if not NULL, receives what `fn` returned, on #RT_OK only.
 * @retval RT_OK        `fn` ran.
 * @retval RT_EINVAL    `l` or `fn` is NULL, or `l` is not a live loop.
 * @retval RT_ESHUTDOWN the loop was freed, or as rt_block_on().
 * @retval RT_ECANCELED `fn` never ran: the loop was freed, or a shutdown
 *                      timeout dropped it, before the owner ran it.
 * @ownership The caller keeps `arg`.
 * @threads Any thread; waits unless on the owner.
 *
 * @par Example
 * @code
 * static void *read_setting(void *name) { (void)name; return NULL; }  // GUI-only API
 *
 * // On a worker: ask the GUI thread, wait for the answer.
 * void *setting(rt_loop_t *gui, const char *name) {
 *   void *value = NULL;
 *   if (rt_loop_block_on(gui, read_setting, (void *)name, &value) != RT_OK) return NULL;
 *   return value;
 * }
 * @endcode
 */
RT_EXPORT RT_NODISCARD int rt_loop_block_on(rt_loop_t *l, rt_call_fn fn,
                                            void *arg, void **result);

/**
 * Runs at most `max` of the jobs pending now, on the calling thread (the
 * owner), without waiting, and clears rt_loop_fd() unless it leaves jobs
 * behind. Jobs posted meanwhile (by these jobs too) wait for the next call.
 *
 * @param l   the loop.
 * @param max the most jobs to run; `SIZE_MAX` for all; 0 runs none.
 * @return the number of jobs run or dropped (≥ 0; a job dropped is one a
 *         shutdown timeout dropped as the owner took it);
 * @retval RT_EINVAL    `l` is NULL or not a live loop, or the caller is not
 *                      its owner (nothing ran).
 * @retval RT_ESHUTDOWN in a child forked without exec: nothing runs there.
 * @threads The owner only.
 * @callbacks The jobs run here, in order per posting thread.
 *
 * @par Example
 * @code
 * // A GUI toolkit's idle callback: at most 16 jobs per frame.
 * int on_idle(void *loop) {
 *   int ran = rt_loop_run_pending(loop, 16);
 *   return ran < 0 ? 0 : 1;  // keep the idle callback while the loop lives
 * }
 * @endcode
 */
RT_EXPORT int rt_loop_run_pending(rt_loop_t *l, size_t max);

/**
 * Runs the pending jobs, waiting until there is at least one, the timeout
 * elapses, or rt_loop_stop() is called.
 *
 * @param l          the loop.
 * @param timeout_ns how long to wait for a job; negative: no limit; 0: do
 *                   not wait (rt_loop_run_pending() with `SIZE_MAX`, but
 *                   #RT_ETIMEDOUT for none).
 * @return the number of jobs run (≥ 1); 0 if rt_loop_stop() was called
 *         (before anything ran: the stop is consumed, one rt_loop_run()
 *         returns for each);
 * @retval RT_ETIMEDOUT the timeout elapsed and no job ran.
 * @retval RT_EINVAL    `l` is NULL or not a live loop, or the caller is not
 *                      its owner.
 * @retval RT_ESHUTDOWN in a child forked without exec.
 * @threads The owner only.
 * @callbacks As rt_loop_run_pending().
 *
 * @par Example
 * @code
 * // A thread that is nothing but its loop, until rt_loop_stop().
 * void serve(rt_loop_t *l) {
 *   int rc;
 *   while ((rc = rt_loop_run(l, -1)) > 0) {}
 *   if (rc < 0) fprintf(stderr, "rt_loop_run: %s\n", rt_strerror(rc));
 * }
 * @endcode
 */
RT_EXPORT int rt_loop_run(rt_loop_t *l, int64_t timeout_ns);

/**
 * Makes the owner's current or next rt_loop_run() return 0. Jobs still
 * pending stay queued.
 *
 * @param l the loop.
 * @retval RT_OK     the stop is requested.
 * @retval RT_EINVAL `l` is NULL or not a live loop.
 * @threads Any thread.
 *
 * @par Example
 * @code
 * static void quit(void *loop) { (void)rt_loop_stop(loop); }
 *
 * // From a worker: the owner's rt_loop_run() returns 0 after quit() ran.
 * int ask_to_quit(rt_loop_t *l) {
 *   return rt_loop_spawn(l, quit, l);
 * }
 * @endcode
 */
RT_EXPORT int rt_loop_stop(rt_loop_t *l);

/**
 * Where a task's result goes (rt_spawn_then()): `fn(arg, status, result)`
 * runs once the task ran or was dropped, on the loop `loop`, on the strand
 * `strand`, or (both NULL) on any worker.
 *
 * Versioned by `size`: set it to `sizeof(rt_completion_t)`; fields may be
 * appended in later versions, never reordered.
 */
typedef struct rt_completion {
  size_t size;                                     /**< sizeof(rt_completion_t) */
  void (*fn)(void *arg, int status, void *result); /**< the completion; not NULL */
  void *arg;                                       /**< passed to `fn` or `drop` */
  rt_loop_t *loop;     /**< run `fn` on this loop's owner; or NULL */
  rt_strand_t *strand; /**< run `fn` on this strand; or NULL (not both set) */
  rt_drop_fn drop;     /**< called with `arg` instead of `fn` if `fn` cannot be delivered; may be NULL */
} rt_completion_t;

/**
 * rt_spawn_full() with a completion callback: learn that work finished
 * without blocking (libuv's `after_work_cb`, `dispatch_group_notify`).
 * When the task ran, `c->fn(c->arg, RT_OK, its result)` is posted to the
 * target; when it never ran (cancelled, or dropped by a shutdown timeout),
 * its `drop` runs first, then `c->fn(c->arg, RT_ECANCELED, NULL)`.
 *
 * Exactly one of `c->fn` and `c->drop` runs, once, for an accepted task.
 * The completion is a job of the runtime like any other (never refused
 * for a full queue). If its target can no longer take it, because the
 * loop was freed, or the runtime is sealed (after a shutdown timeout), or
 * a graceful shutdown is under way and the task ended off the runtime's
 * threads (a cancel from outside): a completion for any worker runs at
 * once on the thread that ended the task, and one for a loop or strand
 * is dropped: `c->drop(c->arg)` runs there instead.
 *
 * @param h        the runtime.
 * @param fn       the work; its result goes to `c->fn` and rt_task_join().
 * @param arg      passed to `fn`, or to `drop` if the task never runs.
 * @param drop     called with `arg` if the task never runs; may be NULL.
 * @param c        where the result goes; copied, so it may live on the
 *                 caller's stack.
 * @param task_out if not NULL, receives a new join handle on #RT_OK.
 * @retval RT_OK        queued.
 * @retval RT_EINVAL    `h`, `fn`, `c` or `c->fn` is NULL, `c->size` is too
 *                      small, `c->loop` and `c->strand` are both set, or
 *                      either is not live or belongs to another runtime.
 * @retval RT_EAGAIN    the bounded queue is full.
 * @retval RT_ESHUTDOWN as rt_spawn().
 * @ownership As rt_spawn_full(); the completion holds references to its
 *            loop or strand until it ran or was dropped.
 * @threads Any thread.
 * @callbacks `c->fn` on its target; `c->drop` where the task ended.
 *
 * @par Example
 * @code
 * static void *compress(void *buf) { return buf; }
 * static void done(void *name, int status, void *out) {
 *   printf("%s: %s\n", (const char *)name, status == RT_OK ? "done" : rt_strerror(status));
 *   free(out);
 * }
 *
 * // The GUI thread learns that the work finished, without a join.
 * int compress_then_show(rt_handle_t *h, rt_loop_t *gui, void *buf) {
 *   rt_completion_t c = {sizeof c, done, "compress", gui, NULL, NULL};
 *   return rt_spawn_then(h, compress, buf, free, &c, NULL);
 * }
 * @endcode
 */
RT_EXPORT RT_NODISCARD int rt_spawn_then(rt_handle_t *h, rt_call_fn fn, void *arg,
                                         rt_drop_fn drop, const rt_completion_t *c,
                                         rt_task_t **task_out);

/** @} */

/* ------------------------------------------------------------------------ */
/* Trampolines whose calls complete somewhere                                 */
/* ------------------------------------------------------------------------ */

/** @addtogroup callbacks
 *  @{ */

/**
 * A POST trampoline (rt_callback_new() with #RT_CALLBACK_POST and
 * #RT_TYPE_VOID) whose every call also delivers the handler's result to a
 * completion, as rt_spawn_then() does for a task: a foreign library's
 * callback is handled on a worker, and what the handler made goes back to
 * the thread that wants it (a loop's owner, a strand) without a wait.
 *
 * The handler gets, as `result`, a pointer to a `void *` set to NULL;
 * what it stores there is the completion's `result`. For each call the
 * trampoline queued, exactly one of these runs, once: `c->fn(c->arg,
 * RT_OK, result)` after the handler ran; `c->fn(c->arg, RT_ECANCELED,
 * NULL)` if the call never ran (the runtime was shut down when the
 * foreign code called, or a shutdown timeout dropped the call); or
 * `c->drop(c->arg)` if the completion's target can no longer take it, as
 * rt_spawn_then() describes (a completion for any worker runs at once
 * instead, on the thread that ended the call).
 *
 * A separate function rather than an option of rt_callback_new(), which
 * has no options structure to grow: this one names the mode and return
 * type that completions need, and takes the same size-versioned
 * #rt_completion_t as rt_spawn_then().
 *
 * @param h         the runtime the calls run on.
 * @param arg_types the argument types, `nargs` of them; copied.
 * @param nargs     at most #RT_CALLBACK_MAX_ARGS.
 * @param handler   runs once per call, on a worker.
 * @param user      passed to `handler`.
 * @param c         where each call's result goes; copied, so it may live
 *                  on the caller's stack. `c->arg` is shared by every call.
 * @param code_out  receives the C function pointer to hand out.
 * @return the trampoline, or NULL (see the debug log) if `h`, `handler`,
 *         `c`, `c->fn` or `code_out` is NULL, `c->size` is too small,
 *         `c->loop` and `c->strand` are both set or either is not live or
 *         belongs to another runtime, a type is not an #rt_type_t or an
 *         argument is #RT_TYPE_VOID, `nargs` is too large, `h`'s runtime
 *         is shut down, or memory ran out.
 * @ownership As rt_callback_new(): free it with rt_callback_free(), which
 *            waits until every queued call ran or was dropped and its
 *            completion was posted. The completion holds references to
 *            its loop or strand until the trampoline is freed.
 * @threads Any thread; the function pointer may be called from any thread.
 * @callbacks `handler` on a worker; `c->fn` on its target; `c->drop`
 *            where the call ended.
 *
 * @par Example
 * @code
 * static void on_line(void *result, void **args, void *user) {
 *   (void)user;
 *   const char *line = *(const char **)args[0];   // valid during the call only
 *   size_t n = strlen(line) + 1;
 *   char *copy = malloc(n);                        // copied on a worker
 *   if (copy != NULL) memcpy(copy, line, n);
 *   *(void **)result = copy;
 * }
 * static void show(void *label, int status, void *line) {
 *   if (status == RT_OK) printf("%s: %s\n", (const char *)label, (char *)line);
 *   free(line);
 * }
 *
 * // Lines a library reports on its own threads end up on the GUI loop.
 * rt_callback_t *lines_to_gui(rt_handle_t *h, rt_loop_t *gui, void **code) {
 *   static const rt_type_t arg = RT_TYPE_POINTER;
 *   rt_completion_t c = {sizeof c, show, "line", gui, NULL, NULL};
 *   return rt_callback_new_then(h, &arg, 1, on_line, NULL, &c, code);
 * }
 * @endcode
 */
RT_EXPORT RT_NODISCARD rt_callback_t *rt_callback_new_then(rt_handle_t *h, const rt_type_t *arg_types,
                                                           size_t nargs, rt_callback_fn handler, void *user,
                                                           const rt_completion_t *c, void **code_out);

/** @} */

/* ------------------------------------------------------------------------ */
/* Repeating timers and a shutdown that does not wait                        */
/* ------------------------------------------------------------------------ */

/**
 * @defgroup reptimers Repeating timers
 * @brief Timers that fire again and again, re-armable and stoppable from
 *        any thread: rt_timer_new(), rt_timer_start(), rt_timer_again(),
 *        rt_timer_stop(), rt_timer_due_in(), rt_timer_get_info(),
 *        rt_timer_free().
 *
 * A repeating timer (#rt_timer_t) is libuv's `uv_timer_t` with a repeat,
 * or a dispatch timer source: made once, started with a first delay and a
 * period, re-armed or stopped from any thread, its own callback included.
 *
 * - **No drift.** Firing k is due at start + k × period on the monotonic
 *   clock, never earlier, however late the callback or the machine was
 *   for the firings before.
 * - **Late firings are not made up twice.** The next firing is scheduled
 *   when the callback returns. If its time has passed by then, the latest
 *   firing whose time has passed runs at once, and those before it are
 *   skipped and counted (`skipped` of rt_timer_get_info()); the one after is
 *   on the grid again (tokio's `MissedTickBehavior::Skip`).
 * - **Never concurrent with itself.** A firing due while the callback
 *   still runs waits for it (and is skipped if a later one is due too).
 * - **Each firing is a task** of the runtime: counted in rt_stats_t
 *   (`spawned`, `completed`, and `timers` while it is pending), run on a
 *   worker, dropped by a shutdown like any rt_spawn_after() task.
 * - **Shutdown** stops the timer: a firing that falls due while
 *   rt_shutdown() drains still runs, but no firing is scheduled after it
 *   and the shutdown does not wait for future ones.
 *
 * @addtogroup reptimers
 * @{
 */

/** A repeating timer; see rt_timer_new(). Owned by its creator. */
typedef struct rt_timer rt_timer_t;

/**
 * What rt_timer_get_info() tells of a timer. Versioned like rt_stats_t: set
 * `size` to sizeof(rt_timer_info_t) first.
 */
typedef struct rt_timer_info {
  size_t size;           /**< sizeof(rt_timer_info_t), set by the caller */
  uint64_t start_ns;     /**< when firing 0 of the current arming is due (monotonic clock, ns) */
  uint64_t period_ns;    /**< the period; 0 for a one-shot arming */
  uint64_t fired;        /**< callbacks started, over the timer's life */
  uint64_t skipped;      /**< firings skipped because a later one was due too */
  uint64_t last_due_ns;  /**< when the firing that runs now, or ran last, was due */
  RT_BOOL armed;          /**< a firing is pending (or follows the running callback) */
  RT_BOOL running;        /**< the callback runs now, on some thread */
} rt_timer_info_t;

/**
 * Makes a stopped repeating timer that runs `fn(arg)` on a worker of the
 * runtime of `h` at each firing. Start it with rt_timer_start().
 *
 * @param h    the runtime the firings run on.
 * @param fn   the callback; it runs on a worker thread and may call any
 *             rtctx function, rt_timer_start(), rt_timer_stop() and
 *             rt_timer_free() of its own timer included.
 * @param arg  passed to `fn` and `drop`.
 * @param drop if not NULL, receives `arg` exactly once, after
 *             rt_timer_free() and after the last callback returned.
 * @return the timer, or NULL (nothing allocated, `arg` still the caller's,
 *         `drop` never called) for a NULL handle or `fn`, or a runtime shut
 *         down, shutting down or inherited by fork().
 * @ownership The caller owns the timer: free it with rt_timer_free(). It
 *            keeps its own reference to the runtime.
 * @threads Any thread.
 * @callbacks `fn` runs on a worker; `drop` on the thread of
 *            rt_timer_free(), or on the worker whose callback returned
 *            after it.
 *
 * @par Example
 * @code
 * static void tick(void *arg) {
 *   ++*(unsigned *)arg;     // firings of one timer never overlap
 * }
 *
 * rt_timer_t *start_ticking(rt_handle_t *h, unsigned *ticks) {
 *   rt_timer_t *t = rt_timer_new(h, tick, ticks, NULL);
 *   if (t != NULL && rt_timer_start(t, 0, UINT64_C(10000000)) != RT_OK) {  // now, then every 10 ms
 *     rt_timer_free(t);
 *     t = NULL;
 *   }
 *   return t;
 * }
 * @endcode
 */
RT_EXPORT RT_NODISCARD rt_timer_t *rt_timer_new(rt_handle_t *h, rt_fn fn,
                                                void *arg, rt_drop_fn drop);

/**
 * Arms the timer: firing 0 is due in `first_ns`, firing k at that time
 * plus k × `period_ns`. Replaces any earlier arming at once (a pending
 * firing of it never runs), like uv_timer_start() on an active timer.
 * Called from the timer's own callback, the new arming's first firing is
 * scheduled when the callback returns.
 *
 * @param t         the timer.
 * @param first_ns  delay of the first firing, in ns from now; 0 = at once.
 * @param period_ns the period in ns; 0 = fire once.
 * @retval RT_OK        armed.
 * @retval RT_ESHUTDOWN the runtime is shut down or shutting down (and the
 *                      caller is not one of its tasks), or was inherited by
 *                      fork(): the timer is stopped.
 * @retval RT_EINVAL    `t` is NULL.
 * @threads Any thread, the timer's own callback included.
 *
 * @par Example
 * @code
 * // A heartbeat every second, the first one second from now.
 * void start_heartbeat(rt_timer_t *t) {
 *   int rc = rt_timer_start(t, UINT64_C(1000000000), UINT64_C(1000000000));
 *   if (rc != RT_OK)
 *     fprintf(stderr, "rt_timer_start: %s\n", rt_strerror(rc));
 * }
 * @endcode
 */
RT_EXPORT RT_NODISCARD int rt_timer_start(rt_timer_t *t, uint64_t first_ns,
                                          uint64_t period_ns);

/**
 * Re-arms the timer with its period as the first delay: firing 0 in
 * `period_ns`, then every `period_ns` (uv_timer_again()). A watchdog
 * that is fed by calling this never fires while it is fed often enough.
 *
 * @param t the timer.
 * @retval RT_OK        armed again.
 * @retval RT_EINVAL    `t` is NULL, or the timer was never started with a
 *                      period above 0.
 * @retval RT_ESHUTDOWN as rt_timer_start().
 * @threads Any thread, the timer's own callback included.
 *
 * @par Example
 * @code
 * // Each message feeds the watchdog; silence for a period fires it.
 * void on_message(rt_timer_t *watchdog) {
 *   if (rt_timer_again(watchdog) != RT_OK)
 *     fprintf(stderr, "watchdog not re-armed\n");
 * }
 * @endcode
 */
RT_EXPORT RT_NODISCARD int rt_timer_again(rt_timer_t *t);

/**
 * Stops the timer: after this returns no callback of it starts, until it
 * is started again. A pending firing is taken out of the runtime's timers
 * at once (counted as dropped in rt_stats_t). A callback already running
 * on another thread is not waited for; #RT_EBUSY says there is one.
 * Called from the timer's own callback, no firing follows it.
 *
 * @param t the timer.
 * @retval RT_OK     stopped, and no callback of it runs on another thread.
 * @retval RT_EBUSY  stopped, but a callback that started before runs on
 *                   another thread still (it finishes; nothing follows).
 * @retval RT_EINVAL `t` is NULL.
 * @threads Any thread, the timer's own callback included.
 *
 * @par Example
 * @code
 * void pause_heartbeat(rt_timer_t *t) {
 *   if (rt_timer_stop(t) == RT_EBUSY)
 *     fprintf(stderr, "a last heartbeat is still being sent\n");
 * }
 * @endcode
 */
RT_EXPORT int rt_timer_stop(rt_timer_t *t);

/**
 * How long until the timer's next firing (uv_timer_get_due_in()).
 * Inside the callback, the next firing is the one after the running one.
 *
 * @param t      the timer.
 * @param ns_out receives the nanoseconds until the next firing, 0 if it
 *               is due or overdue; 0 when the timer is not armed.
 * @retval RT_OK        the timer is armed.
 * @retval RT_ECANCELED the timer is not armed: never started, stopped, a
 *                      one-shot arming that fired, or stopped by its
 *                      runtime's shutdown.
 * @retval RT_EINVAL    `t` or `ns_out` is NULL.
 * @threads Any thread.
 *
 * @par Example
 * @code
 * void print_next_beat(rt_timer_t *t) {
 *   uint64_t ns;
 *   if (rt_timer_due_in(t, &ns) == RT_OK)
 *     printf("next heartbeat in %llu us\n", (unsigned long long)(ns / 1000));
 * }
 * @endcode
 */
RT_EXPORT int rt_timer_due_in(rt_timer_t *t, uint64_t *ns_out);

/**
 * What the timer did so far and what it will do: see #rt_timer_info_t.
 * Inside the callback, `last_due_ns` is when the running firing was due,
 * which is `start_ns` + k × `period_ns` for firing k = `fired` +
 * `skipped` - 1 (of this arming, if it was never re-armed).
 *
 * @param t   the timer.
 * @param out receives the info; its `size` must be set.
 * @retval RT_OK     `*out` is filled (as far as its `size` goes).
 * @retval RT_EINVAL `t` or `out` is NULL, or `out->size` is smaller than
 *                   the `size` field or larger than this library knows.
 * @threads Any thread.
 *
 * @par Example
 * @code
 * void report_skipped(rt_timer_t *t) {
 *   rt_timer_info_t info;
 *   info.size = sizeof info;
 *   if (rt_timer_get_info(t, &info) == RT_OK && info.skipped > 0)
 *     fprintf(stderr, "%llu heartbeats skipped: the machine is overloaded\n",
 *             (unsigned long long)info.skipped);
 * }
 * @endcode
 */
RT_EXPORT int rt_timer_get_info(rt_timer_t *t, rt_timer_info_t *out);

/**
 * Stops the timer and frees it; `drop(arg)` runs exactly once: here, or,
 * if a callback of the timer is running, on its thread right after it
 * returns. Does not wait for that callback.
 *
 * @param t the timer; NULL is a no-op, and so is a second free of the
 *          same timer.
 * @ownership Consumes `t` and its reference to the runtime.
 * @threads Any thread, the timer's own callback included.
 *
 * @par Example
 * @code
 * static void free_state(void *arg) { free(arg); }   // the drop
 *
 * void stop_heartbeat(rt_timer_t *t) {
 *   rt_timer_free(t);     // free_state runs once the last beat is done
 * }
 * @endcode
 */
RT_EXPORT void rt_timer_free(rt_timer_t *t);

/** @} */

/**
 * @ingroup runtime
 * Shuts the runtime down without waiting (tokio's `shutdown_background`,
 * `g_thread_pool_free(pool, FALSE, FALSE)`): admission closes for every
 * caller (tasks running on the runtime may no longer spawn either), every
 * task and timer that has not started is dropped (each `drop` exactly
 * once, as after the timeout of rt_shutdown_timeout()), and this returns.
 * Tasks already running finish on their threads, which then run
 * `on_thread_stop` and exit; nobody waits for them. The runtime's memory
 * is reclaimed when the last of them ends (a thread of the runtime, named
 * "<prefix>-r", waits for them and frees it), or at the last handle's
 * release if that comes later. A task that never returns keeps its
 * thread, and the runtime's memory, until the process exits.
 *
 * @param rt the runtime, from rt_new().
 * @retval RT_OK        admission is closed and what had not started was
 *                      dropped; `rt` is consumed.
 * @retval RT_EINVAL    as rt_shutdown().
 * @retval RT_ENOMEM    the system refused the thread that waits for the
 *                      running tasks: nothing changed, `rt` is still the
 *                      caller's.
 * @retval RT_ESHUTDOWN as rt_shutdown().
 * @ownership Consumes `rt` on #RT_OK. Handles stay valid until their last
 *            release: calls through them return #RT_ESHUTDOWN.
 * @threads Any thread, a worker of this runtime included (its own task is
 *          then one of the running ones). Exactly one rt_shutdown* per
 *          runtime.
 * @callbacks The `drop` of what had not started runs on the calling thread
 *            or on a worker (whichever took it off its queue), before or
 *            shortly after this returns.
 *
 * @par Example
 * @code
 * // Leave now: a task stuck in read() must not hold up the exit.
 * if (rt_shutdown_background(rt) != RT_OK)
 *   fprintf(stderr, "could not shut down in the background\n");
 * @endcode
 */
RT_EXPORT RT_NODISCARD int rt_shutdown_background(rt_runtime_t *rt);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* RTCTX_H */
