import Synchronization

/// A loop: jobs that any thread posts and one thread, its owner, runs
/// (the dispatch main queue, GLib's `g_main_context_invoke`, tokio's
/// `LocalSet`): for state that only one thread may touch, a GUI toolkit,
/// an interpreter's lock, a library that is not thread-safe.
///
/// The loop has no thread of its own. Its owner drains it when it likes
/// (`runPending`, `run`), typically when `event` becomes readable inside
/// its own event loop (epoll, libuv, GLib).
///
/// Readiness: `event` is signalled when a post finds `signalled` false,
/// under the lock. The owner clears the descriptor *before* it takes the
/// jobs under the lock, and sets `signalled` again (and signals) if it
/// leaves jobs behind: a post after the take signals afresh, a post
/// between the clear and the take has its job taken. So spurious wake-ups
/// happen (a signal whose jobs the previous drain already took) and lost
/// ones never.
///
/// Accounting: each job is a job of the runtime, admitted (spawns bounded
/// by `queue_capacity`) when posted and counted by the ledger when the
/// owner runs it or it is dropped, as if it had been queued on its own; the
/// shutdown drain so waits for loop jobs. Nothing but the owner runs them,
/// so a graceful shutdown waits for the owner to run them (a shutdown
/// called on the owner runs them itself while it waits), and a shutdown
/// timeout drops them (`sweepForShutdown`, and the owner drops what it
/// took once the runtime drops).
///
/// Free: `close` marks the loop closed under the lock, so every post after
/// it is refused, closes the descriptor, and drops what is pending, on the
/// owner. The object itself stays in the runtime's registry until the
/// runtime's shutdown ends (`LoopRegistry.retire`), so that a post racing
/// the free, or coming after it, is refused instead of touching freed
/// memory; after that, a free releases it at once, and a post already
/// holding the loop's lock when the loop closes is waited for (the lock).
public final class LoopCore: @unchecked Sendable {
  private struct Shared {
    /// Accepted jobs not yet taken, from `head` on.
    var incoming: [Job] = []
    var head = 0
    var signalled = false
    var closed = false
    /// A shutdown timeout swept the loop: later arrivals are dropped.
    var dropping = false
    var stopRequested = false
    var fdOpen = true
  }

  /// What the C API checks a loop against (see ObjectTag.swift).
  package let tag = ObjectTag(.loop)
  /// What the C free takes back, once (see ObjectTag.swift).
  package let callerReference = CallerReference()
  public let runtime: RuntimeCore
  private let owner = ThreadIdentity()
  private let shared = SpinLock(Shared())
  private let event: EventFD
  /// Set by the first `close`: by `rt_loop_free`, or by the owner's exit.
  private let closing = Atomic<Bool>(false)
  /// The owner's emptied batch, swapped in for `incoming` at the next
  /// drain: a steady stream of posts then appends into capacity the loop
  /// already has instead of growing a fresh array every drain. Touched
  /// only by `runPending`, on the owner.
  private var spare: [Job] = []

  /// Nil if the system refused an eventfd, or the runtime takes no more
  /// loops (its shutdown ended).
  public static func make(runtime: RuntimeCore) -> LoopCore? {
    guard let event = EventFD() else { return nil }
    let loop = LoopCore(runtime: runtime, event: event)
    // Refused before the runtime knows of it: the deinit closes the
    // descriptor (`Allocation`).
    guard !Allocation.failed, runtime.loops.add(loop) else { return nil }
    LoopOwnership.adopt(loop)
    return loop
  }

  private init(runtime: RuntimeCore, event: EventFD) {
    self.runtime = runtime
    self.event = event
  }

  deinit {
    if shared.withLock({ $0.fdOpen }) { event.close() }
    tag.clear()
  }

  public var fd: Int32 { event.fd }

  /// True once freed.
  var isClosed: Bool { shared.withLock { $0.closed } }

  /// True on the thread that made the loop.
  public var isOwnedByCaller: Bool { owner.isCurrentThread }

  /// The loop whose job runs on the calling thread, borrowed.
  public static var currentAddress: UnsafeMutableRawPointer? { ThreadSlots.loop }

  /// True while one of this loop's jobs runs on the calling thread.
  public var isCurrent: Bool { ThreadSlots.loop == Unmanaged.passUnretained(self).toOpaque() }

  // MARK: Accepting work

  /// Queues `job`, admitted like `RuntimeCore.submit`; `owed` admits it
  /// while the runtime drains whoever calls (a completion of a task still
  /// in flight). A refused job is consumed, never run.
  func submit(_ job: Job, bounded: Bool, owed: Bool = false) -> RuntimeError? {
    // First: a parent thread may have held the lock at the fork.
    if runtime.isInheritedByFork { return refuse(job) }
    let fromWorker = owed || runtime.isCurrentWorker
    let queued = shared.withLock { s -> RuntimeError? in
      // Admitted under the lock, so that a close cannot come between the
      // admission and the append, which would leave an admitted job nobody
      // drops.
      if s.closed { return refuse(job) }
      if let error = runtime.admit(job, bounded: bounded, fromWorker: fromWorker) { return error }
      append(job, &s)
      return nil
    }
    // A shutdown running on the owner waits on the drain event.
    if queued == nil && !runtime.inPhase(.running) { runtime.drainProgressed() }
    return queued
  }

  private func refuse(_ job: Job) -> RuntimeError {
    _ = job.take()
    runtime.ledger.refused()
    return .shutDown
  }

  /// Only the post that finds `signalled` false writes the descriptor: a
  /// stream of posts between two drains costs one write, not one each.
  /// The write is under the lock, so that the lock alone is what a free
  /// waits for (no counter of posts under way, which cost two more atomic
  /// adds per post) and the descriptor is never closed under a poster; it
  /// comes once per drain, so the spin lock seldom waits on a system call.
  private func append(_ job: Job, _ s: inout Shared) {
    s.incoming.append(job)
    if s.signalled { return }
    s.signalled = true
    event.signal()
  }

  /// A delayed job whose timer fell due (already counted in flight),
  /// outside the timer lock: queued, or dropped if the loop closed or the
  /// runtime drops.
  func enqueueFired(_ job: Job) {
    let queued = shared.withLock { s -> Bool in
      guard !s.closed, !s.dropping else { return false }
      append(job, &s)
      return true
    }
    if !queued { dropUnrun(job) }
    if !runtime.inPhase(.running) { runtime.drainProgressed() }
  }

  /// `rt_loop_spawn`: bounded like `rt_spawn`.
  public func spawn(_ fn: @escaping CTaskFn, _ arg: UnsafeMutableRawPointer?) -> RuntimeError? {
    submit(.fn(fn, arg), bounded: true)
  }

  /// A Swift closure, fire and forget, bounded like `rt_spawn`.
  public func spawn(_ body: @escaping @Sendable () -> Void) -> RuntimeError? {
    submit(.posted(PostedClosure(body)), bounded: true)
  }

  /// Executor jobs (the Swift `Loop` executor): never refused for a full
  /// queue.
  public func post(_ work: PostedWork, owed: Bool = false) -> RuntimeError? {
    submit(.posted(work), bounded: false, owed: owed)
  }

  /// `rt_loop_spawn_full` (`delay` nil) and `rt_loop_spawn_after`. A
  /// delayed job joins the loop's queue when its timer falls due.
  public func spawn(
    _ body: TaskBody, after delay: UInt64? = nil, joinable: Bool
  ) -> Result<TaskCell?, RuntimeError> {
    guard let delay, delay > 0 else {
      let cell = TaskCell(body, runtime: runtime, state: .queued, loop: self)
      if let error = submit(.task(cell), bounded: delay == nil) { return .failure(error) }
      return .success(joinable ? cell : nil)
    }
    if runtime.isInheritedByFork || shared.withLock({ $0.closed }) {
      runtime.ledger.refused()
      return .failure(.shutDown)
    }
    let cell = TaskCell(body, runtime: runtime, state: .timer, loop: self)
    return runtime.schedule(cell, after: delay).map { joinable ? cell : nil }
  }

  /// `rt_loop_block_on`: runs `body` on the owner and waits. On the owner
  /// itself it runs inline at once, as `rt_block_on` does on a worker.
  public func blockOn(_ body: TaskBody) -> Result<UnsafeMutableRawPointer?, RuntimeError> {
    if runtime.isInheritedByFork { return .failure(.shutDown) }
    if isOwnedByCaller {
      var result: UnsafeMutableRawPointer?
      asLoopJob { result = body.run() }
      return .success(result)
    }
    let cell = TaskCell(body, runtime: runtime, state: .queued, loop: self)
    if let error = submit(.task(cell), bounded: false) { return .failure(error) }
    return cell.join(deadline: nil)
  }

  /// `rt_loop_stop`: the owner's `run` returns 0 at its next look.
  public func stop() {
    if runtime.isInheritedByFork { return }
    shared.withLock { s in
      s.stopRequested = true
      if !s.signalled && !s.closed {
        s.signalled = true
        event.signal()
      }
    }
  }

  // MARK: The owner

  public enum RunOutcome: Equatable, Sendable {
    case ran(Int)
    case stopped
    case timedOut
  }

  /// `rt_loop_run_pending`: runs at most `max` of the jobs pending now
  /// (not those they post). The caller checked it is the owner.
  public func runPending(max: Int) -> Int {
    if max <= 0 { return 0 }
    event.clear()
    // Taken out first: a job may drain the loop again, and finds none.
    var taken: [Job] = []
    swap(&taken, &spare)
    var resignal = false
    shared.withLock { s in
      let remaining = s.incoming.count - s.head
      let n = Swift.min(max, remaining)
      if n == remaining && s.head == 0 {
        // One swap for the common case, everything pending.
        swap(&taken, &s.incoming)
      } else {
        taken.append(contentsOf: s.incoming[s.head..<(s.head + n)])
        s.head += n
        if s.head == s.incoming.count {
          s.incoming.removeAll(keepingCapacity: true)
          s.head = 0
        }
      }
      s.signalled = remaining > n || s.stopRequested
      resignal = s.signalled
    }
    // Outside the lock: only the owner closes the descriptor.
    if resignal { event.signal() }
    let count = taken.count
    if count == 0 {
      spare = taken
      return 0
    }
    // Counted once per batch, after the last job ran: three shared adds
    // per batch instead of per job, and no entry is done before its job.
    var tally = Tally()
    asLoopJob { for job in taken { runOne(job, &tally) } }
    let ledger = runtime.ledger
    if tally.claimed > 0 { ledger.claimedElsewhere(tally.claimed) }
    if tally.ran > 0 { ledger.ranElsewhere(tally.ran) }
    if tally.entries > 0 { ledger.entryDoneElsewhere(tally.entries) }
    taken.removeAll(keepingCapacity: true)
    spare = taken
    if !runtime.inPhase(.running) { runtime.drainProgressed() }
    return count
  }

  /// `rt_loop_run`: runs what is pending, waiting up to `timeout` (nil: no
  /// limit) for something to run, unless a stop was requested.
  public func run(timeout: UInt64?) -> RunOutcome {
    let deadline = timeout.map { Deadline.after(nanoseconds: $0) ?? .max }
    while true {
      let stopped = shared.withLock { s -> Bool in
        let was = s.stopRequested
        s.stopRequested = false
        return was
      }
      if stopped { return .stopped }
      let ran = runPending(max: .max)
      if ran > 0 { return .ran(ran) }
      var wait: UInt64?
      if let deadline {
        let now = monotonicNow()
        if now >= deadline { return .timedOut }
        wait = deadline - now
      }
      event.waitReadable(timeoutNs: wait)
    }
  }

  /// Runs `body` as a job of this loop: the loop and its runtime are
  /// current, whatever guard the owner had entered outside.
  private func asLoopJob(_ body: () -> Void) {
    let previousLoop = ThreadSlots.loop, context = ThreadSlots.context
    ThreadSlots.loop = Unmanaged.passUnretained(self).toOpaque()
    ThreadSlots.context = nil
    body()
    ThreadSlots.loop = previousLoop
    ThreadSlots.context = context
  }

  private struct Tally {
    var claimed: UInt64 = 0, ran: UInt64 = 0, entries: UInt64 = 0
  }

  private func runOne(_ job: Job, _ tally: inout Tally) {
    if runtime.inPhase(.dropping) { return dropUnrun(job) }
    switch job.take() {
    case .fn(let fn, let arg):
      fn(arg)
    case .posted(let work):
      work.run()
    case .task(let cell):
      // Skipped if it was cancelled.
      guard cell.transition(from: .queued, to: .claimed) else {
        tally.entries += 1
        return
      }
      cell.runClaimed()
    case .strand:
      preconditionFailure("rtctx: a strand's wake-up was queued on a loop")
    }
    tally.claimed += 1
    tally.ran += 1
    tally.entries += 1
  }

  /// Drops a job that will never run, counted as a shutdown timeout's drop
  /// while the runtime drops, else as the loop's own.
  private func dropUnrun(_ job: Job) {
    let byTimeout = runtime.inPhase(.dropping)
    guard runtime.dropQueued(job) else { return runtime.ledger.entryDoneElsewhere() }
    if byTimeout { runtime.ledger.droppedByShutdown() } else { runtime.ledger.droppedByLoop() }
  }

  /// `rt_loop_free`, on the owner, outside the loop's jobs (or the owner's
  /// exit, `LoopOwnership`): refuses every later post and drops what is
  /// pending, in order, here. Once: later calls return at once.
  public func close() {
    // In a forked child no drop may run, and the lock may be held.
    if runtime.isInheritedByFork { return }
    if closing.exchange(true, ordering: .relaxed) { return }
    LoopOwnership.forget(self)
    let pending = shared.withLock { s -> [Job] in
      s.closed = true
      // Under the lock: every signal checks `closed` under it first. And
      // the posts under way are those holding the lock: once it is taken
      // here, none is left, and every later one finds `closed`.
      s.fdOpen = false
      event.close()
      let left = Array(s.incoming[s.head...])
      s.incoming.removeAll()
      s.head = 0
      return left
    }
    runtime.loops.retire(self)
    for job in pending { dropUnrun(job) }
    if !runtime.inPhase(.running) { runtime.drainProgressed() }
  }

  /// The shutdown thread, after a timeout: drops what is pending; the
  /// owner drops what it already took (`runOne`).
  func sweepForShutdown() {
    let pending = shared.withLock { s -> [Job] in
      s.dropping = true
      let left = Array(s.incoming[s.head...])
      s.incoming.removeAll()
      s.head = 0
      return left
    }
    for job in pending { dropUnrun(job) }
  }
}

/// The loops of a runtime that are not freed: what its shutdown sweeps,
/// and, on the owner's thread, helps run. Holds each loop strongly until
/// it is freed or the runtime stopped (which breaks the cycle with the
/// loop's reference to the runtime).
final class LoopRegistry: Sendable {
  private struct State {
    var live: [LoopCore] = []
    /// Freed loops, kept until the shutdown ends (see LoopCore).
    var retired: [LoopCore] = []
    var closed = false
  }

  private let state = Lock(State())

  func add(_ loop: LoopCore) -> Bool {
    state.withLock { s in
      if s.closed { return false }
      s.live.append(loop)
      return true
    }
  }

  /// A freed loop: no longer swept or helped, kept while the runtime may
  /// still be posted to.
  func retire(_ loop: LoopCore) {
    state.withLock { s in
      s.live.removeAll { $0 === loop }
      if !s.closed { s.retired.append(loop) }
    }
  }

  var all: [LoopCore] { state.withLock { $0.live } }

  /// The loops the calling thread owns.
  var owned: [LoopCore] { state.withLock { s in s.live.filter { $0.isOwnedByCaller } } }

  /// At the end of a shutdown: no loop may be made any more.
  func close() {
    let released = state.withLock { s -> [LoopCore] in
      s.closed = true
      defer {
        s.live = []
        s.retired = []
      }
      return s.live + s.retired
    }
    _ = released  // released here, outside the lock
  }
}
