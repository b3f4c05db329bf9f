import RtctxCore

/// Async Swift on the runtime: a handle is a `TaskExecutor`.
///
///     Task(executorPreference: handle) { ... }          // runs on the workers
///     await withTaskExecutorPreference(handle) { ... }  // so does this scope
///     let x = try handle.blockOn { try await work() }   // from sync code
///
/// Each job the Swift runtime enqueues is posted to the run queue like a
/// C task (counted in `spawned`, never refused for a full queue) and run on
/// a worker. A job the runtime refuses (it shut down: the task was
/// suspended across the shutdown and resumes after it), or drops (a
/// shutdown timeout), is not lost: it runs on the global concurrent
/// executor instead, and is counted in `RuntimeStats.executorFallbacks`.
/// The task then goes on there, each later job falling back the same way.
extension Handle: TaskExecutor {
  public func enqueue(_ job: consuming ExecutorJob) {
    let job = UnownedJob(job)
    // The queued object is the job itself: one allocation, no join cell.
    if core.post(QueuedJob(job, on: self)) != nil {
      Handle.runOnFallback(job, refusedBy: core)
    }
  }

  fileprivate static func runOnFallback(_ job: UnownedJob, refusedBy core: RuntimeCore) {
    core.countExecutorFallback()
    globalConcurrentExecutor.enqueue(ExecutorJob(job))
  }

  /// Runs async `body` on this runtime's workers and blocks the calling
  /// thread until it finished: the bridge from synchronous code (a `main`,
  /// a C callback, a thread of another runtime) into async work.
  ///
  /// The body runs in a new task with this handle as its executor
  /// preference and as ``current``; its child tasks run here too.
  ///
  /// Called on a worker of this runtime it throws
  /// `RuntimeError.wouldDeadlock` instead of waiting: the async work might
  /// need the very worker that waits (with one worker, always). On one of
  /// its blocking threads (`spawnBlocking`, a blocking region) it waits
  /// like any other thread. Synchronous
  /// work can be run inline there with the synchronous ``blockOn(_:)``;
  /// async code on a worker should `await` instead.
  ///
  /// - Warning: It blocks the calling thread. Do not call it where the body
  ///   needs that thread to make progress, e.g. on the main actor with a
  ///   body that awaits the main actor, or on every thread of Swift's
  ///   cooperative pool with a body that needs that pool.
  /// - Throws: what `body` throws; `RuntimeError.shutDown` once shutdown
  ///   began (nothing ran); `RuntimeError.cancelled` if a shutdown timeout
  ///   dropped it before it started; `RuntimeError.wouldDeadlock` as above.
  public func blockOn<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    if core.isCurrentWorkerLoop { throw RuntimeError.wouldDeadlock }
    let slot = ResultSlot<T>()
    let finished = OneShotEvent()
    // The task is started from a queued job rather than from here, so that
    // a runtime that shut down refuses the whole call (`.shutDown`, counted
    // in `rejected`) instead of its first job falling back; a task started
    // on a worker may still enqueue while the runtime drains.
    let refused = core.post(
      .swift(
        run: { [self] in
          Task(executorPreference: self) {
            do {
              let value = try await CurrentHandle.$bound.withValue(self) { try await body() }
              slot.store(.success(value))
            } catch {
              slot.store(.failure(error))
            }
            finished.signal()
          }
          return nil
        },
        drop: {
          slot.store(.failure(RuntimeError.cancelled))
          finished.signal()
        }))
    if let refused { throw refused }
    // Acquiring (the event's wait): the slot was written before the signal.
    finished.wait()
    return try slot.take().get()
  }
}

/// An executor job in the run queue, with the handle it was enqueued on:
/// the job runs with that handle as its task executor, so that awaits
/// inside come back to it without a hop, and the object keeps the handle
/// alive until then.
private final class QueuedJob: PostedWork, @unchecked Sendable {
  let job: UnownedJob
  let handle: Handle

  init(_ job: UnownedJob, on handle: Handle) {
    self.job = job
    self.handle = handle
  }

  override func run() {
    job.runSynchronously(on: handle.asUnownedTaskExecutor())
  }

  /// Dropped by a shutdown timeout: the job still runs, elsewhere.
  override func drop() {
    Handle.runOnFallback(job, refusedBy: handle.core)
  }
}
