import RtctxCore

/// A running rtctx runtime: its worker threads, run queue and timers.
///
/// The Swift face of `rt_runtime_t`. Create one, share its ``handle``, and
/// shut it down when done:
///
///     let runtime = try Runtime(workers: 4)
///     try runtime.handle.spawn { print("on a worker") }
///     runtime.shutdown()          // drains every accepted task
///
/// The runtime also shuts down (gracefully, without a timeout) when the
/// last reference to this object goes away. Handles do not keep it
/// running: once it is shut down, spawning through them throws
/// `RuntimeError.shutDown`.
public final class Runtime: Sendable {
  /// A handle to this runtime, to share with any thread or task.
  public let handle: Handle

  /// Starts a runtime and returns once every worker ran `onThreadStart`.
  ///
  /// - Parameters:
  ///   - workers: worker threads, 0 (the default) for one per online CPU;
  ///     at most 1024.
  ///   - threadName: workers are named "`threadName`-*index*" (cut to the
  ///     15 bytes Linux keeps).
  ///   - queueCapacity: 0 (the default) for an unbounded queue; else
  ///     `Handle.spawn` and `Handle.task` throw `RuntimeError.queueFull`
  ///     when this many tasks are queued. Timers, `blockOn` and async jobs
  ///     are never refused for a full queue.
  ///   - strandedAfter: jobs queued on a worker whose task has run this
  ///     long move to the queue every worker reads, so that a task that
  ///     blocks strands nothing behind it (1 ms by default); nil for never
  ///     (the runtime then starts no monitor thread).
  ///   - maxBlockingThreads: the most threads beyond the workers, shared by
  ///     ``Handle/spawnBlocking(_:)`` jobs and ``withBlockingRegion(_:)``;
  ///     0 (the default) for 512.
  ///   - blockingKeepAlive: an idle blocking thread exits after this long
  ///     (10 s by default; zero: as soon as it runs out of work). Blocking
  ///     threads are named "`threadName`-b*n*", the monitor "`threadName`-m".
  ///   - onThreadStart: runs on each thread the runtime starts (workers and
  ///     blocking threads) before its first task.
  ///   - onThreadStop: runs on each such thread after its last task.
  /// - Throws: `RuntimeError.invalidArgument` for an out-of-range argument
  ///   (a negative count or duration), `RuntimeError.outOfMemory` if the
  ///   system refused a thread.
  public init(
    workers: Int = 0,
    threadName: String = "rt-worker",
    queueCapacity: Int = 0,
    strandedAfter: Duration? = .milliseconds(1),
    maxBlockingThreads: Int = 0,
    blockingKeepAlive: Duration = .seconds(10),
    onThreadStart: (@Sendable () -> Void)? = nil,
    onThreadStop: (@Sendable () -> Void)? = nil
  ) throws(RuntimeError) {
    guard (0...RuntimeConfig.maxWorkers).contains(workers), queueCapacity >= 0, maxBlockingThreads >= 0,
      (strandedAfter ?? .zero) >= .zero, blockingKeepAlive >= .zero
    else {
      throw .invalidArgument
    }
    var config = RuntimeConfig()
    config.workers = workers
    config.threadName = threadName
    config.queueCapacity = queueCapacity
    // `.max` is the core's "never"; a duration too long to count saturates to it.
    config.strandedAfter = strandedAfter?.saturatingNanoseconds ?? .max
    config.maxBlockingThreads = maxBlockingThreads
    config.blockingKeepAlive = blockingKeepAlive.saturatingNanoseconds
    config.onThreadStart = onThreadStart
    config.onThreadStop = onThreadStop
    // The configuration was checked above, so only a refused thread is left.
    guard let core = RuntimeCore.start(config) else { throw .outOfMemory }
    handle = Handle(core)
  }

  deinit {
    stop(timeout: nil)
  }

  /// Shuts the runtime down gracefully, in the steps of `rt_shutdown`:
  ///
  /// 1. From now on, spawning from outside this runtime's workers throws
  ///    `RuntimeError.shutDown`; its own tasks may still spawn, so that
  ///    work in flight can finish.
  /// 2. Every task accepted before runs to completion, and so does every
  ///    async job enqueued on the ``Handle`` as a `TaskExecutor` before.
  ///    Timers still pending when nothing else is left are dropped.
  /// 3. `onThreadStop` runs on each worker; all workers are joined.
  ///
  /// An async job enqueued after that (a task that was suspended across the
  /// shutdown and resumes) runs on the global concurrent executor instead,
  /// and is counted in `RuntimeStats.executorFallbacks`.
  ///
  /// Calling it again, or while another thread shuts down, returns at once.
  ///
  /// - Precondition: not called on a worker of this runtime (the worker
  ///   would wait for itself; C's `rt_shutdown` returns `RT_EDEADLK`).
  public func shutdown() {
    stop(timeout: nil)
  }

  /// Like ``shutdown()``, but stops draining after `timeout`: tasks not yet
  /// started are dropped (a dropped async job runs on the fallback
  /// executor), running tasks are waited for.
  ///
  /// - Returns: false if the timeout dropped any task, true if everything
  ///   accepted ran (also when the runtime was already shut down).
  @discardableResult
  public func shutdown(timeout: Duration) -> Bool {
    stop(timeout: timeout.saturatingNanoseconds)
  }

  /// Shuts the runtime down without waiting (`rt_shutdown_background`,
  /// tokio's `shutdown_background`): admission closes for every caller,
  /// every task and timer not yet started is dropped, and this returns.
  /// Tasks already running finish on their threads, which then exit; the
  /// runtime's memory goes when the last of them ends. A task that never
  /// returns keeps its thread until the process exits.
  ///
  /// May be called anywhere, one of the runtime's own tasks included.
  /// Calling it again, or after ``shutdown()``, does nothing.
  ///
  /// - Throws: `RuntimeError.outOfMemory` if the system refused the thread
  ///   that waits for the running tasks; nothing changed then.
  public func shutdownBackground() throws(RuntimeError) {
    switch handle.core.shutdownBackground() {
    case .started, .alreadyShutDown, .inheritedByFork:
      return
    case .noThread:
      throw .outOfMemory
    }
  }

  @discardableResult
  private func stop(timeout: UInt64?) -> Bool {
    switch handle.core.shutdown(timeout: timeout) {
    case .completed, .alreadyShutDown, .inheritedByFork:
      return true
    case .timedOut:
      return false
    case .onOwnWorker:
      preconditionFailure(
        "Runtime shut down (or its last reference released) on one of its own workers")
    }
  }
}
