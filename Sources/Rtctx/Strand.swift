import RtctxCore
import Synchronization

/// Jobs that run one at a time, in the order they were accepted, on any of
/// the runtime's workers (the Swift face of `rt_strand_t`).
///
/// A strand is also a `SerialExecutor`, so an actor can run on one:
///
///     actor Session {
///       let strand: Strand
///       nonisolated var unownedExecutor: UnownedSerialExecutor { strand.asUnownedSerialExecutor() }
///     }
///
/// The actor's jobs then run on the runtime's workers, in the strand's
/// order with its C jobs and closures. They are never refused for a full
/// queue, and are accepted while the runtime drains. After a shutdown
/// timeout sealed the runtime, a job the strand can no longer take, or one
/// the timeout dropped, still runs: on Swift's global executor, in order
/// and one at a time (counted in `RuntimeStats.executorFallbacks`).
public final class Strand: SerialExecutor, FallingBackExecutor, Sendable {
  let core: StrandCore
  private let fallback = SerialFallbackQueue()

  /// A new strand on `handle`'s runtime (`rt_strand_new`).
  ///
  /// - Throws: `RuntimeError.shutDown` if the runtime refuses work from the
  ///   caller (shutdown began, and it is not one of the runtime's tasks).
  public init(on handle: Handle) throws(RuntimeError) {
    if handle.core.refusesCaller { throw .shutDown }
    core = StrandCore(runtime: handle.core)
  }

  /// The strand whose job runs on the calling thread, if any.
  public static var current: Strand.ID? { StrandCore.current.map { ID(core: $0) } }

  /// Identifies a strand (what ``current`` returns).
  public struct ID: Hashable, Sendable {
    let core: StrandCore
    public static func == (a: ID, b: ID) -> Bool { a.core === b.core }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(core)) }
  }

  public var id: ID { ID(core: core) }

  /// Queues `body` on the strand (`rt_strand_spawn`).
  ///
  /// - Throws: `RuntimeError.shutDown` or `.queueFull`, as `Handle.spawn`.
  public func spawn(_ body: @escaping @Sendable () -> Void) throws(RuntimeError) {
    if let error = core.spawn(body) { throw error }
  }

  /// Queues `body` on the strand with a join handle (`rt_strand_spawn_full`).
  public func task<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws(RuntimeError) -> JoinHandle<T> {
    try JoinHandle.spawning(body) { core.spawn($0, joinable: true) }
  }

  /// Runs `body` on the strand after what it accepted before, and waits
  /// for it (`rt_strand_block_on`).
  ///
  /// - Throws: what `body` throws; `RuntimeError.wouldDeadlock` from a job
  ///   of this strand; `.shutDown`; `.cancelled` if a shutdown timeout
  ///   dropped it.
  public func blockOn<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
    try JoinHandle.blocking(body) { core.blockOn($0) }
  }

  // MARK: SerialExecutor

  public func enqueue(_ job: consuming ExecutorJob) {
    let job = UnownedJob(job)
    if core.postExecutorJob(FallibleExecutorJob(job, on: self)) != nil { runOnFallback(job) }
  }

  public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
    UnownedSerialExecutor(ordinary: self)
  }

  public func checkIsolated() {
    precondition(core.isCurrent || fallback.isDraining, "rtctx: not on this strand")
  }

  func runOnFallback(_ job: UnownedJob) {
    core.runtime.countExecutorFallback()
    fallback.run(job, on: asUnownedSerialExecutor())
  }
}
