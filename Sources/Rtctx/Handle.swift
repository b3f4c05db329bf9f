import RtctxCore

/// A reference to a runtime, to spawn work on it from any thread or task.
///
/// The Swift face of `rt_handle_t`. Handles are cheap, `Sendable`, and
/// compare equal when they refer to the same runtime (use `==`, not `===`:
/// ``current`` may return a new object for the same runtime). A handle
/// stays a valid object after its runtime shut down; spawning or waiting
/// through it then throws `RuntimeError.shutDown`.
///
/// A handle is also a `TaskExecutor` (see `Handle+Executor.swift`), so async
/// code can run on the runtime's workers.
public final class Handle: Sendable {
  let core: RuntimeCore

  init(_ core: RuntimeCore) {
    self.core = core
  }

  // MARK: Spawning

  /// Queues `body` to run once on a worker (`rt_spawn`).
  ///
  /// - Throws: `RuntimeError.shutDown` once shutdown began (unless called
  ///   from this runtime's own tasks), `RuntimeError.queueFull` when the
  ///   runtime's `queueCapacity` is reached. On a throw, `body` never runs.
  public func spawn(_ body: @escaping @Sendable () -> Void) throws(RuntimeError) {
    if let error = core.spawn(body) { throw error }
  }

  /// Runs `body` once on a worker, no sooner than `delay` from now
  /// (`rt_spawn_after`; monotonic clock). Timers start in the order they
  /// fall due, and are not refused for a full queue. A timer still pending
  /// when the runtime has drained everything else is dropped.
  ///
  /// - Throws: `RuntimeError.shutDown` once shutdown began.
  public func spawn(after delay: Duration, _ body: @escaping @Sendable () -> Void) throws(RuntimeError) {
    _ = try core.spawn(
      .swift(run: { body(); return nil }, drop: nil), after: delay.saturatingNanoseconds,
      joinable: false
    ).get()
  }

  /// Queues `body` to run once on a worker and returns a join handle for
  /// its result (`rt_spawn_full`). Errors `body` throws come out of
  /// `JoinHandle.value`.
  ///
  /// - Throws: as ``spawn(_:)``.
  public func task<T: Sendable>(
    _ body: @escaping @Sendable () throws -> T
  ) throws(RuntimeError) -> JoinHandle<T> {
    try makeTask(after: nil, body)
  }

  /// Like ``task(_:)``, but starts no sooner than `delay` from now
  /// (`rt_spawn_after`), as ``spawn(after:_:)``.
  public func task<T: Sendable>(
    after delay: Duration, _ body: @escaping @Sendable () throws -> T
  ) throws(RuntimeError) -> JoinHandle<T> {
    try makeTask(after: delay.saturatingNanoseconds, body)
  }

  private func makeTask<T: Sendable>(
    after delay: UInt64?, _ body: @escaping @Sendable () throws -> T
  ) throws(RuntimeError) -> JoinHandle<T> {
    try JoinHandle.spawning(body) { core.spawn($0, after: delay, joinable: true) }
  }

  // MARK: Waiting

  /// Runs `body` on a worker and waits here for its result (`rt_block_on`).
  ///
  /// Called on a worker of this runtime, it runs `body` inline instead of
  /// waiting on itself. On a worker of another runtime, it blocks that
  /// worker like any other thread. Not refused for a full queue.
  ///
  /// - Throws: what `body` throws; `RuntimeError.shutDown` once shutdown
  ///   began; `RuntimeError.cancelled` if a shutdown timeout dropped it.
  public func blockOn<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
    try JoinHandle.blocking(body) { core.blockOn($0) }
  }

  // MARK: Observing

  /// The runtime's counters (`rt_stats_get`), approximate while it runs and
  /// exact once it shut down.
  public var stats: RuntimeStats {
    RuntimeStats(core.stats, executorFallbacks: core.executorFallbacks)
  }
}

extension Handle: Hashable {
  public static func == (lhs: Handle, rhs: Handle) -> Bool {
    lhs.core === rhs.core
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(ObjectIdentifier(core))
  }
}

extension Handle: CustomStringConvertible {
  public var description: String {
    "Handle(\(core.config.threadName), \(core.workerCount) workers)"
  }
}

/// Where a task leaves its result for the joiner: written once on the
/// worker before the task's cell publishes `finished` (a releasing store),
/// read after a join saw it (an acquiring load). The cell orders the two.
final class ResultSlot<T: Sendable>: @unchecked Sendable {
  private var result: Result<T, any Error>?

  func store(_ result: Result<T, any Error>) {
    self.result = result
  }

  func take() -> Result<T, any Error> {
    guard let result else { preconditionFailure("task result read before the task finished") }
    return result
  }
}
