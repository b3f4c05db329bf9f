import Synchronization

/// `queue_capacity`: how many jobs may be queued (accepted, not started).
///
/// Only a bounded runtime pays for it: one shared counter, raised when a
/// job is queued and lowered when it is claimed (started, dropped or
/// cancelled). Refusal is exact: the check and the raise are one CAS.
final class QueueBound: Sendable {
  private let capacity: Int
  private let queued = PaddedAtomic<Int>(0)

  init(capacity: Int) { self.capacity = capacity }

  var isActive: Bool { capacity > 0 }

  /// Counts a job in; false if the queue is full, unless `force` (work
  /// the contract never refuses for a full queue: timers, block_on,
  /// trampolines).
  func reserve(force: Bool) -> Bool {
    if force {
      queued.word.pointee.add(1, ordering: .relaxed)
      return true
    }
    var n = queued.word.pointee.load(ordering: .relaxed)
    while n < capacity {
      let (won, seen) = queued.word.pointee.compareExchange(
        expected: n, desired: n + 1, ordering: .relaxed)
      if won { return true }
      n = seen
    }
    return false
  }

  func release() {
    queued.word.pointee.subtract(1, ordering: .relaxed)
  }
}
