import Synchronization

/// The runtime's statistics, kept as they happen.
///
/// All relaxed: each counter is read on its own by `rt_stats_get`, which the
/// contract calls approximate while tasks run; exact totals after shutdown
/// come from the worker joins, which order every increment before the read.
final class Counters: Sendable {
  let spawned = Atomic<UInt64>(0)
  let completedCount = Atomic<UInt64>(0)
  let droppedCount = Atomic<UInt64>(0)
  let queued = Atomic<UInt64>(0)
  let timers = Atomic<UInt64>(0)
  let rejected = Atomic<UInt64>(0)

  func acceptedQueued() {
    spawned.wrappingAdd(1, ordering: .relaxed)
    queued.wrappingAdd(1, ordering: .relaxed)
  }

  func acceptedTimer() {
    spawned.wrappingAdd(1, ordering: .relaxed)
    timers.wrappingAdd(1, ordering: .relaxed)
  }

  func timerDue() {
    timers.wrappingSubtract(1, ordering: .relaxed)
    queued.wrappingAdd(1, ordering: .relaxed)
  }

  func timerGone() { timers.wrappingSubtract(1, ordering: .relaxed) }
  func dequeued() { queued.wrappingSubtract(1, ordering: .relaxed) }
  func completed() { completedCount.wrappingAdd(1, ordering: .relaxed) }
  func droppedOne() { droppedCount.wrappingAdd(1, ordering: .relaxed) }
  func rejectedOne() { rejected.wrappingAdd(1, ordering: .relaxed) }
}
