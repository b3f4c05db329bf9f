import RtctxCore

/// Jobs on one runtime to wait for together, or to be told about when all
/// are done: the Swift face of `rt_group_t` (libdispatch's
/// `DispatchGroup`). Make one with ``Handle/makeGroup()``.
///
/// A group is empty when none of its jobs is pending (spawned and not yet
/// run or dropped); it may empty and fill again any number of times. It may
/// outlive its runtime: spawning then throws `RuntimeError.shutDown`, and
/// waiting returns at once, since every job it accepted ran or was dropped.
/// A job must not wait for its own group: it would wait for itself.
public final class Group: Sendable {
  let core: GroupCore

  init(_ core: GroupCore) { self.core = core }

  /// Jobs spawned and not yet run or dropped (a recent value while they run).
  public var pending: Int { core.pending }

  /// Queues `body` as a job of the group (`rt_group_spawn`). If it never
  /// runs (``cancel()``, or a shutdown timeout), `onDrop` runs instead.
  ///
  /// - Throws: `RuntimeError.shutDown` once the runtime's shutdown began
  ///   (unless called from one of its tasks), `RuntimeError.queueFull`
  ///   when its `queueCapacity` is reached. On a throw neither closure runs.
  public func spawn(
    _ body: @escaping @Sendable () -> Void, onDrop: (@Sendable () -> Void)? = nil
  ) throws(RuntimeError) {
    if let error = core.spawn(.swift(run: { body(); return nil }, drop: onDrop)) { throw error }
  }

  /// Blocks until the group is empty (`rt_group_wait`): returns once it was
  /// empty at some moment since the call began.
  ///
  /// On a worker of the group's runtime, the group's jobs still queued run
  /// here, inline, rather than being waited for.
  ///
  /// - Throws: `RuntimeError.shutDown` only in a forked child, where the
  ///   jobs never end.
  public func wait() throws(RuntimeError) {
    try core.wait(deadline: nil).get()
  }

  /// As ``wait()``, for at most `timeout`.
  ///
  /// - Throws: `RuntimeError.timedOut` if the group was not empty in time
  ///   (its jobs go on); as ``wait()``.
  public func wait(timeout: Duration) throws(RuntimeError) {
    try core.wait(deadline: Deadline.after(nanoseconds: timeout.saturatingNanoseconds)).get()
  }

  /// Suspends until the group is empty, without blocking a thread: the
  /// task resumes from a notification (see ``notify(_:onDrop:)``), on a
  /// worker of the runtime. Unlike the blocking ``wait()``, it does not run
  /// jobs inline. Not cancellable: a cancelled task still waits for the
  /// group to empty. Works during and after a shutdown too (every group
  /// empties then).
  ///
  /// - Throws: `RuntimeError.shutDown` only in a forked child.
  public func wait() async throws(RuntimeError) {
    if core.pending == 0 { return }
    let outcome: Result<Void, RuntimeError> = await withCheckedContinuation { continuation in
      // Run or dropped (a shutdown timeout sealed the runtime), the group
      // emptied: either way the wait is over.
      let resume: () -> Void = { continuation.resume(returning: .success(())) }
      if let error = core.notify(.swift(run: { resume(); return nil }, drop: resume), force: true) {
        continuation.resume(returning: .failure(error))
      }
    }
    try outcome.get()
  }

  /// Runs `body` once on a worker when the group next becomes empty; at
  /// once (queued) if it is empty now (`rt_group_notify_full`).
  /// Notifications of a group run one at a time, in registration order.
  /// If the runtime can no longer run it (a shutdown timeout sealed it by
  /// then), `onDrop` runs instead, on the thread that emptied the group.
  ///
  /// - Throws: `RuntimeError.shutDown` if the runtime refuses the caller
  ///   work, as ``spawn(_:onDrop:)`` would; neither closure then runs.
  public func notify(
    _ body: @escaping @Sendable () -> Void, onDrop: (@Sendable () -> Void)? = nil
  ) throws(RuntimeError) {
    if let error = core.notify(.swift(run: { body(); return nil }, drop: onDrop)) { throw error }
  }

  /// Cancels every job of the group that has not started (`rt_group_cancel`):
  /// each job's `onDrop` runs here, once, before this returns.
  ///
  /// - Returns: how many jobs were cancelled (0 in a forked child).
  @discardableResult
  public func cancel() -> Int {
    (try? core.cancel().get()) ?? 0
  }
}

extension Handle {
  /// A new, empty group of jobs on this runtime (`rt_group_new`).
  ///
  /// - Throws: `RuntimeError.shutDown` once the runtime's shutdown began
  ///   (unless called from one of its tasks while it drains).
  public func makeGroup() throws(RuntimeError) -> Group {
    guard let core = core.makeGroup() else { throw .shutDown }
    return Group(core)
  }
}
