import Synchronization

/// `queue_capacity`: how many jobs may be queued (accepted, not started).
///
/// Only a bounded runtime pays for it: one shared counter, raised when a
/// job is queued and lowered when it is claimed (started, dropped or
/// cancelled); an unbounded runtime's calls return at the first branch.
/// Refusal is exact: the check and the raise are one CAS. Callers go
/// through `Ledger`, which lowers it on every claim.
final class QueueBound: Sendable {
  private let capacity: Int
  private let queued = PaddedAtomic<Int>(0)

  init(capacity: Int) { self.capacity = capacity }

  var isActive: Bool { capacity > 0 }

  /// Counts a job in; false if the queue is full.
  @inline(__always)
  func reserve() -> Bool {
    guard isActive else { return true }
    return queued.increment(below: capacity)
  }

  /// Counts in work the contract never refuses for a full queue: timers
  /// falling due, block_on, trampoline calls, executor jobs.
  @inline(__always)
  func reserveAlways() {
    guard isActive else { return }
    queued.word.pointee.add(1, ordering: .relaxed)
  }

  /// A queued job was claimed, or its admission was refused after the
  /// reservation.
  @inline(__always)
  func release() {
    guard isActive else { return }
    queued.word.pointee.subtract(1, ordering: .relaxed)
  }
}
