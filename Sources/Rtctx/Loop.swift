import RtctxCore
import Synchronization

/// Jobs that any thread posts and one thread runs: the thread that made
/// the loop, its owner (the Swift face of `rt_loop_t`). The owner runs them
/// with ``runPending(max:)`` or ``run(timeout:)``, or when ``fd`` becomes
/// readable inside its own event loop.
///
/// A loop is also a `SerialExecutor`: an actor on it is an `@MainActor`
/// for a C program's own thread, whatever that thread is.
///
///     actor Interpreter {
///       let loop: Loop
///       nonisolated var unownedExecutor: UnownedSerialExecutor { loop.asUnownedSerialExecutor() }
///     }
///
/// The actor's jobs run on the owner, when it runs the loop; they are never
/// refused for a full queue and are accepted while the runtime drains.
/// Once the loop is closed (or a shutdown timeout sealed the runtime), a
/// job it can no longer take, or one the timeout dropped, still runs: on
/// Swift's global executor, in order and one at a time.
public final class Loop: SerialExecutor, FallingBackExecutor, @unchecked Sendable {
  let core: LoopCore
  private let fallback = SerialFallbackQueue()
  private let closed = Atomic<Bool>(false)

  /// A new loop on `handle`'s runtime, owned by the calling thread
  /// (`rt_loop_new`).
  ///
  /// - Throws: `RuntimeError.shutDown` if the runtime refuses work from the
  ///   caller; `.outOfMemory` if the system refused an eventfd.
  public init(on handle: Handle) throws(RuntimeError) {
    if handle.core.refusesCaller { throw .shutDown }
    guard let core = LoopCore.make(runtime: handle.core) else { throw .outOfMemory }
    self.core = core
  }

  deinit { close() }

  /// The readiness descriptor (`rt_loop_fd`): readable while jobs are pending.
  public var fd: Int32 { core.fd }

  /// Whether the calling thread is the owner.
  public var isOwnedByCurrentThread: Bool { core.isOwnedByCaller }

  /// Queues `body` (`rt_loop_spawn`).
  ///
  /// - Throws: `RuntimeError.shutDown` (closed, or as `Handle.spawn`) or `.queueFull`.
  public func spawn(_ body: @escaping @Sendable () -> Void) throws(RuntimeError) {
    if let error = core.spawn(body) { throw error }
  }

  /// Runs `body` on the owner and waits (`rt_loop_block_on`); inline on the owner.
  public func blockOn<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
    try JoinHandle.blocking(body) { core.blockOn($0) }
  }

  /// Runs at most `max` pending jobs, on the owner (`rt_loop_run_pending`).
  ///
  /// - Throws: `RuntimeError.invalidArgument` off the owner.
  @discardableResult
  public func runPending(max: Int = .max) throws(RuntimeError) -> Int {
    guard core.isOwnedByCaller else { throw .invalidArgument }
    if core.runtime.isInheritedByFork { throw .shutDown }
    return core.runPending(max: max)
  }

  /// What ``run(timeout:)`` ended with.
  public enum RunResult: Equatable, Sendable {
    case ran(Int)
    case stopped
    case timedOut
  }

  /// Runs what is pending, waiting up to `timeout` nanoseconds (nil: no
  /// limit) for something, unless ``stop()`` was called (`rt_loop_run`).
  public func run(timeout: UInt64? = nil) throws(RuntimeError) -> RunResult {
    guard core.isOwnedByCaller else { throw .invalidArgument }
    if core.runtime.isInheritedByFork { throw .shutDown }
    switch core.run(timeout: timeout) {
    case .ran(let n): return .ran(n)
    case .stopped: return .stopped
    case .timedOut: return .timedOut
    }
  }

  /// Makes the owner's current or next ``run(timeout:)`` return `.stopped`.
  public func stop() { core.stop() }

  /// Refuses every later post and drops what is pending, here
  /// (`rt_loop_free`); at deinit if not called. Once only.
  public func close() {
    if closed.exchange(true, ordering: .acquiringAndReleasing) { return }
    core.close()
  }

  // MARK: SerialExecutor

  public func enqueue(_ job: consuming ExecutorJob) {
    let job = UnownedJob(job)
    if core.post(FallibleExecutorJob(job, on: self), owed: true) != nil { runOnFallback(job) }
  }

  public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
    UnownedSerialExecutor(ordinary: self)
  }

  public func checkIsolated() {
    precondition(core.isOwnedByCaller || fallback.isDraining, "rtctx: not on this loop's owner")
  }

  func runOnFallback(_ job: UnownedJob) {
    core.runtime.countExecutorFallback()
    fallback.run(job, on: asUnownedSerialExecutor())
  }
}
