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
public final class Strand: SerialExecutor, Sendable {
  let core: StrandCore
  private let fallback = FallbackQueue()

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
    if core.postExecutorJob(StrandJob(job, on: self)) != nil { runOnFallback(job) }
  }

  public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
    UnownedSerialExecutor(ordinary: self)
  }

  public func checkIsolated() {
    precondition(core.isCurrent || fallback.isDraining, "rtctx: not on this strand")
  }

  fileprivate func runOnFallback(_ job: UnownedJob) {
    core.runtime.countExecutorFallback()
    fallback.run(job, on: self)
  }
}

/// An actor's job in the strand's queue. Dropped by a shutdown timeout, it
/// still runs, on the fallback queue.
private final class StrandJob: PostedWork, @unchecked Sendable {
  let job: UnownedJob
  let strand: Strand

  init(_ job: UnownedJob, on strand: Strand) {
    self.job = job
    self.strand = strand
  }

  override func run() { job.runSynchronously(on: strand.asUnownedSerialExecutor()) }
  override func drop() { strand.runOnFallback(job) }
}

/// A serial queue over Swift's global executor, for the jobs of a sealed
/// runtime's strand: one drainer at a time, in arrival order.
private final class FallbackQueue: @unchecked Sendable {
  private struct State {
    var jobs: [UnownedJob] = []
    var draining = false
  }
  private let state = Mutex(State())

  /// Whether a drainer runs: what `checkIsolated` can know of it.
  var isDraining: Bool { state.withLock { $0.draining } }

  func run(_ job: UnownedJob, on strand: Strand) {
    let start = state.withLock { state -> Bool in
      state.jobs.append(job)
      if state.draining { return false }
      state.draining = true
      return true
    }
    guard start else { return }
    Task.detached { [self] in
      while let next = state.withLock({ state -> UnownedJob? in
        if state.jobs.isEmpty {
          state.draining = false
          return nil
        }
        return state.jobs.removeFirst()
      }) {
        next.runSynchronously(on: strand.asUnownedSerialExecutor())
      }
    }
  }
}
