import RtctxCore

/// The result of a task spawned with `Handle.task`, to wait for or cancel
/// (the Swift face of `rt_task_t`). Copies refer to the same task, and any
/// number of threads may wait on it.
public struct JoinHandle<T: Sendable>: Sendable {
  let cell: TaskCell
  let slot: ResultSlot<T>

  /// Waits for the task and returns its result.
  ///
  /// On a worker of the task's runtime, a task that has not started yet is
  /// run inline here rather than waited for.
  ///
  /// - Throws: what the task's body threw, or `RuntimeError.cancelled` if
  ///   the task was cancelled or dropped by a shutdown and never ran.
  public var value: T {
    get throws { try wait(deadline: nil) }
  }

  /// Waits at most `timeout` for the task and returns its result.
  ///
  /// - Throws: as ``value``, and `RuntimeError.timedOut` if the task had not
  ///   finished in time (it still runs; ask again later).
  public func value(timeout: Duration) throws -> T {
    try wait(deadline: Deadline.after(nanoseconds: timeout.saturatingNanoseconds))
  }

  private func wait(deadline: UInt64?) throws -> T {
    _ = try cell.join(deadline: deadline).get()
    return try slot.take().get()
  }

  /// Cancels the task if it has not started (`rt_task_cancel`).
  ///
  /// - Returns: true if the task will never run (waiting for it then throws
  ///   `RuntimeError.cancelled`); false if it already started, finished, or
  ///   was cancelled before.
  @discardableResult
  public func cancel() -> Bool {
    (try? cell.cancel().get()) != nil
  }

  /// True once the task ran or was dropped: ``value`` would not wait.
  public var isFinished: Bool { cell.isDone }

  /// A task whose `body` result the join handle gives back: `spawn`
  /// queues the body (on a runtime, a strand) as a joinable task.
  static func spawning(
    _ body: @escaping @Sendable () throws -> T,
    _ spawn: (TaskBody) -> Result<TaskCell?, RuntimeError>
  ) throws(RuntimeError) -> JoinHandle<T> {
    let slot = ResultSlot<T>()
    let cell = try spawn(.swift(run: { slot.store(Result { try body() }); return nil }, drop: nil)).get()
    // A joinable spawn always returns its cell.
    return JoinHandle(cell: cell!, slot: slot)
  }

  /// Runs `body` through `run` (a block-on) and gives back its result or
  /// what it threw.
  static func blocking(
    _ body: @escaping @Sendable () throws -> T,
    _ run: (TaskBody) -> Result<UnsafeMutableRawPointer?, RuntimeError>
  ) throws -> T {
    let slot = ResultSlot<T>()
    _ = try run(.swift(run: { slot.store(Result { try body() }); return nil }, drop: nil)).get()
    return try slot.take().get()
  }
}
