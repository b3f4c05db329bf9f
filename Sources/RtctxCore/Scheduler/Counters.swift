import Synchronization

/// The runtime's statistics, kept so that the hot path pays nothing shared.
///
/// What every task passes through is counted where it happens and by one
/// writer only: the admission word counts jobs entering the run queues
/// (it is read-modify-written by every spawn anyway), and each worker
/// counts what it finished in its own `WorkerCounters`, with plain stores.
/// What is rare (timers, cancels, inline joins, refusals, shutdown drops)
/// goes to the shared `Counters`. `Stats` is derived from both; while
/// tasks run it is approximate, after shutdown it is exact.
final class Counters: Sendable {
  let rejected = Atomic<UInt64>(0)
  let timersAccepted = Atomic<UInt64>(0)
  let timersFired = Atomic<UInt64>(0)
  /// Timers cancelled or dropped before they fell due.
  let timersGone = Atomic<UInt64>(0)
  /// Queued jobs claimed off a worker: cancelled, joined inline, or
  /// dropped by the shutdown thread.
  let claimedElsewhere = Atomic<UInt64>(0)
  /// Queue entries popped off a worker (by the shutdown thread).
  let finishedElsewhere = Atomic<UInt64>(0)
  let completedElsewhere = Atomic<UInt64>(0)
  let droppedElsewhere = Atomic<UInt64>(0)
  /// Swift executor jobs run on the fallback executor (see Runtime+Executor.swift).
  let executorFallbacks = Atomic<UInt64>(0)
}

/// One worker's counts; only that worker writes them, so each bump is a
/// load and a store, no locked instruction.
final class WorkerCounters: Sendable {
  /// Queue entries popped and done with (ran, dropped, or already claimed
  /// elsewhere).
  let finished = Atomic<UInt64>(0)
  /// Jobs this worker took off the queues to run or drop (no longer queued).
  let claimed = Atomic<UInt64>(0)
  let completed = Atomic<UInt64>(0)
  let dropped = Atomic<UInt64>(0)

  @inline(__always)
  func claimedOne() {
    claimed.store(claimed.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
  }

  @inline(__always)
  func ranOne() {
    completed.store(completed.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
  }

  @inline(__always)
  func droppedOne() {
    dropped.store(dropped.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
  }

  /// Releasing: a drain that reads this count sees the job's effects.
  @inline(__always)
  func finishedOne() {
    finished.store(finished.load(ordering: .relaxed) &+ 1, ordering: .releasing)
  }
}
