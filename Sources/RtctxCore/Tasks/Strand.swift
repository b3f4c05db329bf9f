import Synchronization

/// A strand: jobs that run one at a time, in the order they were accepted,
/// on whichever worker is free (asio's strand, a libdispatch serial queue
/// targeting a concurrent one). What a C library's callbacks for one
/// socket, device or session need: no lock, no thread of its own.
///
/// How it runs:
///
/// - Jobs wait in the strand's own queue, not in the run queues. The
///   strand itself is scheduled on the runtime by a *wake-up*: a
///   `Job.strand` entry in a run queue, one per turn, never one per job.
/// - The thread that holds the strand (state `running`) is its only
///   drainer: it takes the queued jobs in order and runs them one after the
///   other, so two never overlap, and each sees everything the one before
///   it did (within a turn, the same thread; between turns, the hand-over
///   goes through `shared`'s lock).
/// - After `batch` jobs the drainer yields if any other work is queued:
///   the strand goes to the back of the run queue with a new wake-up, so a
///   long backlog shares the workers with other strands and tasks instead
///   of holding one.
///
/// States, under `shared`'s lock:
///
///     idle ──post──► queued ──wake-up popped──► running ──► idle (nothing left)
///                      ▲                           │
///                      └───── batch done, more ────┘
///
/// In `queued` at least one wake-up sits in a run queue. A worker calling
/// `blockOn` may take an idle or queued strand over and drain it itself
/// (rather than wait for a wake-up that might sit behind it in its own
/// queue); the wake-up it leaves behind is then surplus, and a wake-up
/// popped while the strand is not `queued` does nothing.
///
/// Accounting: each strand job is a job of the runtime, admitted (and, for
/// spawns, bounded by `queue_capacity`) when posted and counted by the
/// ledger when it runs or is dropped, exactly as if it had been queued on
/// its own; the shutdown drain so waits for strand jobs like any other.
/// Wake-ups are not jobs: never admitted, never counted. A shutdown
/// timeout drops a strand's jobs in order through the same path as the
/// run queues' (`RuntimeCore.execute` and `dropQueuedJob`).
public final class StrandCore: @unchecked Sendable {
  /// Jobs a drainer runs before it yields the worker.
  public static let batch = 64

  private enum State { case idle, queued, running }

  private struct Shared {
    var state = State.idle
    /// Accepted jobs the drainer has not taken yet, oldest first.
    var incoming: [Job] = []
    /// Posts between their room in `incoming` and their append: `incoming`
    /// keeps capacity for each (`Array.makeRoom`), so that no append after
    /// acceptance allocates.
    var promised = 0
  }

  /// What the C API checks a strand against (see ObjectTag.swift).
  package let tag = ObjectTag(.strand)
  /// What the C release takes back, once (see ObjectTag.swift).
  package let callerReference = CallerReference()
  public let runtime: RuntimeCore
  private let shared = Lock(Shared())
  /// The drainer's jobs, taken from `incoming` in one swap; touched only by
  /// the thread holding the strand, so plain stored properties.
  private var taken: [Job] = []
  private var takenNext = 0

  public init(runtime: RuntimeCore) {
    self.runtime = runtime
    runtime.ledger.strandMade()
  }

  deinit {
    runtime.ledger.strandFreed()
    tag.clear()
  }

  /// The strand whose job runs on the calling thread, borrowed.
  public static var current: StrandCore? {
    ThreadSlots.strand.map { Unmanaged<StrandCore>.fromOpaque($0).takeUnretainedValue() }
  }

  /// `rt_strand_current()`: the address, without reference counting.
  public static var currentAddress: UnsafeMutableRawPointer? { ThreadSlots.strand }

  /// True while one of this strand's jobs runs on the calling thread.
  public var isCurrent: Bool { ThreadSlots.strand == Unmanaged.passUnretained(self).toOpaque() }

  // MARK: Accepting work

  /// Queues `job`, admitted like `RuntimeCore.submit` (a refused job is
  /// consumed, never run).
  func submit(_ job: Job, bounded: Bool, asOwnWork: Bool = false) -> RuntimeError? {
    let worker = runtime.currentWorkerUnretained
    // Not in a forked child: a parent thread may have held this strand's
    // lock at the fork, and admission refuses the child anyway. Without
    // room, the flag is set and admission refuses the job.
    let promised = !runtime.isInheritedByFork && shared.withLock { shared -> Bool in
      guard shared.incoming.makeRoom(for: shared.promised + 1) else { return false }
      shared.promised += 1
      return true
    }
    if let error = runtime.admit(job, bounded: bounded, fromWorker: worker != nil || asOwnWork) {
      if promised { shared.withLock { $0.promised -= 1 } }
      return error
    }
    if append(job, promised: true) { runtime.enqueue(.strand(self), worker: worker) }
    return nil
  }

  /// A job the runtime already admitted (a strand timer falling due, under
  /// the timer lock): joins the queue. The caller wakes a worker.
  func enqueueAdmitted(_ job: Job) {
    if append(job, promised: false) { runtime.inject.push(.strand(self)) }
  }

  /// Appends an admitted job; true if the strand was idle and now needs a
  /// wake-up.
  private func append(_ job: Job, promised: Bool) -> Bool {
    shared.withLock { shared -> Bool in
      if promised {
        shared.promised -= 1
      } else {
        // Accepted when its timer was set, without room: ask the system
        // before growing, so that the promised room of others stays whole
        // (if refused, this one append is served from the reserve).
        _ = shared.incoming.makeRoom(for: shared.promised + 1)
      }
      shared.incoming.append(job)
      guard shared.state == .idle else { return false }
      shared.state = .queued
      return true
    }
  }

  /// `rt_strand_spawn`: bounded like `rt_spawn`.
  public func spawn(_ fn: @escaping CTaskFn, _ arg: UnsafeMutableRawPointer?) -> RuntimeError? {
    submit(.fn(fn, arg), bounded: true)
  }

  /// A Swift closure, fire and forget, bounded like `rt_spawn`.
  public func spawn(_ body: @escaping @Sendable () -> Void) -> RuntimeError? {
    submit(.posted(PostedClosure(body)), bounded: true)
  }

  /// An executor job of an actor on this strand: never refused for a full
  /// queue, and accepted while the runtime drains from any thread, as the
  /// runtime's own tasks are (the actor's work is work in flight). Refused
  /// only once a shutdown timeout sealed the runtime.
  public func postExecutorJob(_ work: PostedWork) -> RuntimeError? {
    submit(.posted(work), bounded: false, asOwnWork: true)
  }

  /// `rt_strand_spawn_full` (`delay` nil) and `rt_strand_spawn_after`:
  /// the cell, for a join handle, when `joinable`. A delayed job joins the
  /// strand's queue when its timer falls due, so it runs after the jobs
  /// accepted before that moment.
  public func spawn(
    _ body: TaskBody, after delay: UInt64? = nil, joinable: Bool
  ) -> Result<TaskCell?, RuntimeError> {
    guard let delay, delay > 0 else {
      let cell = TaskCell(body, runtime: runtime, state: .queued, strand: self)
      if let error = submit(.task(cell), bounded: delay == nil) { return .failure(error) }
      return .success(joinable ? cell : nil)
    }
    // The timer holds a task whose body posts the real job to the strand
    // when it falls due; cancelling the join handle before then drops it.
    let cell = TaskCell(body, runtime: runtime, state: .timer, strand: self)
    return runtime.schedule(cell, after: delay).map { joinable ? cell : nil }
  }

  /// `rt_strand_block_on`: runs `body` on the strand, after the jobs
  /// accepted before it, and waits for it.
  ///
  /// From inside one of this strand's own jobs it would wait for itself:
  /// `.wouldDeadlock`. On a worker of the strand's runtime, if no other worker
  /// is draining the strand, the calling worker drains it itself, up to and
  /// including `body`: waiting there could wait for a wake-up queued behind
  /// the caller on its own worker.
  public func blockOn(_ body: TaskBody) -> Result<UnsafeMutableRawPointer?, RuntimeError> {
    if runtime.isInheritedByFork { return .failure(.shutDown) }
    if isCurrent { return .failure(.wouldDeadlock) }
    let cell = TaskCell(body, runtime: runtime, state: .queued, strand: self)
    if let error = submit(.task(cell), bounded: false) { return .failure(error) }
    if let worker = runtime.currentQueueOwner {
      worker._withUnsafeGuaranteedRef { _ = helpDrain(on: $0, until: cell) }
    }
    return cell.join(deadline: nil)
  }

  // MARK: Draining

  /// A wake-up popped on `worker`: one turn, if the strand is owed one.
  func wokenUp(on worker: WorkerState) {
    let mine = shared.withLock { shared -> Bool in
      guard shared.state == .queued else { return false }  // surplus
      shared.state = .running
      return true
    }
    if mine {
      runtime.ledger.strandTurn()
      runTurn(on: worker, limit: Self.batch, until: nil)
    }
  }

  /// A worker waiting for `cell` (`blockOn`, a group's wait): takes the
  /// strand over unless another thread is draining it, and drains until
  /// `cell` is done. False if another thread holds the strand.
  func helpDrain(on worker: WorkerState, until cell: TaskCell) -> Bool {
    let mine = shared.withLock { shared -> Bool in
      guard shared.state != .running else { return false }
      shared.state = .running
      return true
    }
    if mine {
      runtime.ledger.strandTurn()
      runTurn(on: worker, limit: .max, until: cell)
    }
    return mine
  }

  /// Runs jobs in order, or drops them once a shutdown timeout says so,
  /// then hands the strand on.
  private func runTurn(on worker: WorkerState, limit: Int, until cell: TaskCell?) {
    let previous = ThreadSlots.strand
    ThreadSlots.strand = Unmanaged.passUnretained(self).toOpaque()
    var ran = 0
    var stillOwner = true
    while let job = nextJob() {
      // A job that handed the worker away (a blocking region) ends the
      // turn on this thread: the strand is queued again, for any worker.
      stillOwner = runtime.execute(job, on: worker)
      if !stillOwner { break }
      ran += 1
      if let cell, cell.isDone { break }
      if ran == limit {
        // Yield only to someone: with no other work queued, going to the
        // back of an empty queue would cost a wake-up for nothing.
        if runtime.mayHaveWork() { break }
        ran = 0
      }
    }
    ThreadSlots.strand = previous
    handOn(worker: stillOwner ? Unmanaged.passUnretained(worker) : nil)
  }

  /// The shutdown thread popped a wake-up after a timeout: it drops the
  /// strand's jobs in order (`drop` counts each), unless a worker holds
  /// the strand, which then drops them itself.
  func dropAll(_ drop: (Job) -> Void) {
    let mine = shared.withLock { shared -> Bool in
      guard shared.state == .queued else { return false }
      shared.state = .running
      return true
    }
    guard mine else { return }
    while let job = nextJob() { drop(job) }
    handOn(worker: nil)
  }

  /// The holder's next job in order; nil when none is left.
  private func nextJob() -> Job? {
    if takenNext == taken.count {
      taken.removeAll(keepingCapacity: true)
      takenNext = 0
      // One lock per batch of posts: the drainer takes them all, and the
      // posters get the emptied buffer back, capacity and all.
      shared.withLock { shared in
        swap(&shared.incoming, &taken)
        // The buffer handed back may be smaller than the room promised:
        // at most one element per thread in `submit`, served by the
        // reserve if refused.
        _ = shared.incoming.makeRoom(for: shared.promised)
      }
      if taken.isEmpty { return nil }
    }
    let job = taken[takenNext]
    takenNext += 1
    return job
  }

  /// Lets go of the strand: idle if nothing is left, else queued again
  /// behind what the run queues already hold.
  private func handOn(worker: Unmanaged<WorkerState>?) {
    let wake = shared.withLock { shared -> Bool in
      if takenNext < taken.count || !shared.incoming.isEmpty {
        shared.state = .queued
        return true
      }
      shared.state = .idle
      return false
    }
    if wake { runtime.enqueue(.strand(self), worker: worker) }
  }
}
