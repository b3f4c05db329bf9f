import Synchronization

/// Where every job the runtime accepted ends up, as named transitions: the
/// one place that counts jobs, frees their queue capacity, and derives
/// `Stats` and the drain's in-flight count.
///
/// A job accepted into a run queue (counted by `Admission`) leaves it
/// exactly once, claimed by a worker (`claimed(by:)`, then `ran(by:)`), by
/// a worker dropping it after a shutdown timeout (`droppedByWorker`), by
/// the shutdown thread dropping it (`droppedByShutdown`), or by a joiner or
/// canceller that claimed its cell first (`claimedElsewhere`). Its queue
/// entry is done with once, by whoever popped it (`entryDone(by:)` or, for
/// the shutdown thread, `entryDoneElsewhere`, which `droppedByShutdown`
/// includes).
/// Timers are counted apart until they fall due.
///
/// So that the hot path pays nothing shared, what every task passes
/// through is counted by one writer only: each worker counts what it
/// claimed, ran, dropped and finished in its own `WorkerCounters`, with
/// plain stores. What is rare (timers, cancels, inline joins, refusals,
/// shutdown drops) goes to shared atomics here. While tasks run `stats` is
/// a recent picture, not an atomic one; after shutdown it is exact.
///
/// Why the cumulative fields of `stats` never go backwards between two
/// reads by one thread, without a shared read-modify-write on the hot path:
/// each counter here only grows (a worker's is written by that worker
/// alone, a load and a store of one more; the shared ones are atomic adds),
/// and two loads of one atomic location by one thread, in program order,
/// never see the newer value first (read-read coherence, which holds for
/// relaxed loads too). So every counter a read adds up is at least what
/// the previous read by that thread saw, and so is their sum. A difference
/// has no such property: its subtrahend may have grown, between the two
/// loads, by more than the minuend did; the old `spawned`, accepted minus
/// fired timers plus timers set, went down under load this way. Hence
/// each cumulative field is a sum of counters of its own, never a
/// difference: `spawned` is the admissions (which no longer count fired
/// timers) plus the timers set.
///
/// Gauges (`queued`, `timers`, `strands`, `groups`) are differences. Each
/// reads its subtrahends before its minuends, so that what was taken out
/// by the first read was put in before the second; where the adds are
/// relaxed, that ordering is not guaranteed (a fired timer's cell may be
/// claimed by a canceller before the firing counts it), so a passing
/// negative reads as zero. Strands and groups are counted freed with a
/// releasing add after they were made, and read freed first with an
/// acquiring load, so their difference cannot go below zero.
final class Ledger: Sendable {
  /// `queue_capacity`: raised on admission, lowered by every claim.
  let bound: QueueBound

  private let rejected = Atomic<UInt64>(0)
  private let timersAccepted = Atomic<UInt64>(0)
  private let timersFired = Atomic<UInt64>(0)
  /// Timers cancelled or dropped before they fell due.
  private let timersGone = Atomic<UInt64>(0)
  /// Queued jobs claimed off the workers: cancelled, joined inline, or
  /// dropped by the shutdown thread.
  private let claimedOffWorkers = Atomic<UInt64>(0)
  /// Queue entries the shutdown thread popped and was done with.
  private let entriesDoneOffWorkers = Atomic<UInt64>(0)
  private let ranOffWorkers = Atomic<UInt64>(0)
  private let droppedOffWorkers = Atomic<UInt64>(0)
  /// Jobs dropped because a shutdown timeout elapsed (not pending timers).
  private let droppedByTimeout = Atomic<UInt64>(0)
  /// Swift executor jobs run on the fallback executor (Runtime+Executor.swift).
  let executorFallbacks = Atomic<UInt64>(0)
  /// Strands made and freed, and the turns they were given (Strand.swift).
  private let strandsMade = Atomic<UInt64>(0)
  private let strandsFreed = Atomic<UInt64>(0)
  private let strandTurns = Atomic<UInt64>(0)
  /// Groups made and freed (Group.swift).
  private let groupsMade = Atomic<UInt64>(0)
  private let groupsFreed = Atomic<UInt64>(0)
  /// Blocking work (BlockingPool.swift, Monitor.swift, TaskCell.join).
  private let blockingSpawns = Atomic<UInt64>(0)
  private let handOffs = Atomic<UInt64>(0)
  private let regions = Atomic<UInt64>(0)
  private let strandedMoves = Atomic<UInt64>(0)
  private let joinHelps = Atomic<UInt64>(0)

  init(capacity: Int) { bound = QueueBound(capacity: capacity) }

  // MARK: Admission

  /// A call the runtime refused (full queue, shut down): nothing was queued.
  func refused() { rejected.add(1, ordering: .relaxed) }

  // MARK: On a worker (only that worker writes its counters)

  /// A worker took a job off the queues to run it.
  @inline(__always)
  func claimed(by worker: WorkerCounters) {
    bound.release()
    worker.bump(worker.claimed)
  }

  /// ... and ran it.
  @inline(__always)
  func ran(by worker: WorkerCounters) { worker.bump(worker.completed) }

  /// A worker dropped a job it popped after a shutdown timeout.
  func droppedByWorker(_ worker: WorkerCounters) {
    bound.release()
    worker.bump(worker.claimed)
    worker.bump(worker.dropped)
    droppedByTimeout.add(1, ordering: .relaxed)
  }

  /// A queue entry a worker popped is done with: ran, dropped, or stale
  /// (its cell was claimed elsewhere). Releasing: a drain that reads the
  /// count sees the job's effects.
  @inline(__always)
  func entryDone(by worker: WorkerCounters) {
    worker.finished.store(worker.finished.load(ordering: .relaxed) &+ 1, ordering: .releasing)
  }

  // MARK: Elsewhere (joiners, cancellers, the shutdown thread)

  /// A joiner or canceller claimed a queued cell before any worker did;
  /// the worker that pops its entry later finds it stale.
  func claimedElsewhere(_ count: UInt64 = 1) {
    bound.release()
    claimedOffWorkers.add(count, ordering: .relaxed)
  }

  /// A joiner ran the task it claimed, inline.
  func ranElsewhere(_ count: UInt64 = 1) { ranOffWorkers.add(count, ordering: .relaxed) }

  /// A canceller (or the shutdown thread, for a timer) dropped a task it
  /// claimed.
  func droppedElsewhere() { droppedOffWorkers.add(1, ordering: .relaxed) }

  /// The shutdown thread, after a timeout, popped a queued job and dropped it.
  func droppedByShutdown() {
    claimedElsewhere()
    droppedElsewhere()
    droppedByTimeout.add(1, ordering: .relaxed)
    entryDoneElsewhere()
  }

  /// Work owed for an accepted request that a shutdown timeout (or a
  /// shutdown in the background) kept from being queued: a signal slot's
  /// run owed for a post that came during its last run. Nothing was
  /// admitted, so no job count moves; the shutdown answers that it
  /// dropped work, as it does for a queued job it dropped.
  func owedWorkDroppedByShutdown() { droppedByTimeout.add(1, ordering: .relaxed) }

  /// A loop dropped a job its owner never ran: freed with it pending, or
  /// fallen due after the free (Loop.swift).
  func droppedByLoop() {
    claimedElsewhere()
    droppedElsewhere()
    entryDoneElsewhere()
  }

  /// The shutdown thread popped a queue entry and is done with it.
  func entryDoneElsewhere(_ count: UInt64 = 1) { entriesDoneOffWorkers.add(count, ordering: .releasing) }

  // MARK: Timers

  /// Counted under the timer lock, before the timer can fire.
  func timerAccepted() { timersAccepted.add(1, ordering: .relaxed) }

  /// A timer fell due and moves to a run queue: it is in flight from here
  /// (`inFlight`), and takes queue capacity (never refused, as the
  /// contract says) like any queued job. Called before the push, under
  /// the timer lock, which orders it before a `close` that checks the
  /// drain.
  func timerFired() {
    timersFired.add(1, ordering: .relaxed)
    bound.reserveAlways()
  }

  /// A pending timer was cancelled, or dropped at shutdown.
  func timerGone() { timersGone.add(1, ordering: .relaxed) }

  // MARK: Strands

  func strandMade() { strandsMade.add(1, ordering: .relaxed) }
  func strandFreed() { strandsFreed.add(1, ordering: .releasing) }
  /// Once per turn, not per job: a turn runs up to a batch.
  func strandTurn() { strandTurns.add(1, ordering: .relaxed) }

  // MARK: Groups

  func groupMade() { groupsMade.add(1, ordering: .relaxed) }
  func groupFreed() { groupsFreed.add(1, ordering: .releasing) }

  // MARK: Blocking work

  func blockingSpawned() { blockingSpawns.add(1, ordering: .relaxed) }
  func handedOff() { handOffs.add(1, ordering: .relaxed) }
  func regionEntered() { regions.add(1, ordering: .relaxed) }
  func movedStranded(_ count: Int) { strandedMoves.add(UInt64(count), ordering: .relaxed) }
  func helpedJoin() { joinHelps.add(1, ordering: .relaxed) }

  /// A worker's job handed the worker to another thread, then returned:
  /// its thread no longer writes the worker's counts, so the run and the
  /// entry are counted here.
  func ranAfterHandOff() {
    ranElsewhere()
    entryDoneElsewhere()
  }

  // MARK: Reading

  var anyDroppedByTimeout: Bool { droppedByTimeout.load(ordering: .relaxed) > 0 }

  /// Jobs accepted (or fired timers) and not yet done with. Reads the
  /// finished counts before the accepted ones: all only grow, so a zero
  /// means that at the later reads everything accepted had finished. A
  /// fired timer's count is made before its push, so the acquiring read
  /// of a finished count that includes its job orders that count before
  /// the reads that follow.
  func inFlight(_ workers: [WorkerState], accepted: () -> UInt64) -> UInt64 {
    var finished = entriesDoneOffWorkers.load(ordering: .acquiring)
    for worker in workers { finished &+= worker.counters.finished.load(ordering: .acquiring) }
    return accepted() &+ timersFired.load(ordering: .acquiring) &- finished
  }

  /// Every field as the type comment says: cumulative ones as sums only,
  /// gauges with their subtrahends read first.
  func stats(
    _ workers: [WorkerState], accepted: () -> UInt64, shutdown: Bool, blockingThreads: Int,
    blockingThreadsPeak: Int
  ) -> RuntimeCore.Stats {
    var completed = ranOffWorkers.load(ordering: .relaxed)
    var dropped = droppedOffWorkers.load(ordering: .relaxed)
    var claimed = claimedOffWorkers.load(ordering: .relaxed)
    for worker in workers {
      completed &+= worker.counters.completed.load(ordering: .relaxed)
      dropped &+= worker.counters.dropped.load(ordering: .relaxed)
      claimed &+= worker.counters.claimed.load(ordering: .relaxed)
    }
    let timersGone = timersGone.load(ordering: .relaxed)
    let timersFired = timersFired.load(ordering: .relaxed)
    let admitted = accepted()
    let timersAccepted = timersAccepted.load(ordering: .relaxed)
    func nonNegative(_ value: UInt64) -> UInt64 { value > UInt64(Int64.max) ? 0 : value }
    let strandsFreed = strandsFreed.load(ordering: .acquiring)
    let groupsFreed = groupsFreed.load(ordering: .acquiring)
    return RuntimeCore.Stats(
      workers: workers.count,
      spawned: admitted &+ timersAccepted,
      completed: completed,
      dropped: dropped,
      queued: nonNegative(admitted &+ timersFired &- claimed),
      timers: nonNegative(timersAccepted &- timersFired &- timersGone),
      rejected: rejected.load(ordering: .relaxed),
      shutdown: shutdown,
      strands: strandsMade.load(ordering: .relaxed) &- strandsFreed,
      strandTurns: strandTurns.load(ordering: .relaxed),
      groups: groupsMade.load(ordering: .relaxed) &- groupsFreed,
      blockingThreads: UInt64(blockingThreads),
      blockingThreadsPeak: UInt64(blockingThreadsPeak),
      blockingSpawned: blockingSpawns.load(ordering: .relaxed),
      blockingRegions: regions.load(ordering: .relaxed),
      handOffs: handOffs.load(ordering: .relaxed),
      strandedMoved: strandedMoves.load(ordering: .relaxed),
      joinsHelped: joinHelps.load(ordering: .relaxed))
  }
}

/// One worker's counts; only that worker writes them, so each bump is a
/// load and a store, no locked instruction. Written through `Ledger` only.
final class WorkerCounters: Sendable {
  /// Queue entries popped and done with (ran, dropped, or already claimed
  /// elsewhere).
  let finished = Atomic<UInt64>(0)
  /// Jobs this worker took off the queues to run or drop (no longer queued).
  let claimed = Atomic<UInt64>(0)
  let completed = Atomic<UInt64>(0)
  let dropped = Atomic<UInt64>(0)

  @inline(__always)
  fileprivate func bump(_ counter: borrowing Atomic<UInt64>) {
    counter.store(counter.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
  }
}
