import Synchronization

/// Where idle workers sleep, and how work wakes them.
///
/// A worker about to sleep reads `epoch`, counts itself in `sleepers`, then
/// looks for work one last time; a pusher makes its job visible, then reads
/// `sleepers` and, only if someone sleeps, bumps `epoch` and wakes one.
/// Both sides use sequentially consistent operations, so at least one of
/// them sees the other (the classic store-load pairing): either the worker
/// sees the job, or the pusher sees the sleeper. A wake between the worker's
/// read of `epoch` and its futex wait is not lost: the kernel compares the
/// word first. A push with nobody asleep costs one load and no syscall.
final class Parking: Sendable {
  private let epoch = FutexWord()
  private let sleepers = Atomic<Int>(0)

  /// Sleeps until woken or `deadline`, unless `hasWork()` is true once the
  /// worker counts as a sleeper.
  func park(deadline: UInt64?, hasWork: () -> Bool) {
    let seen = epoch.atomic.pointee.load(ordering: .sequentiallyConsistent)
    sleepers.add(1, ordering: .sequentiallyConsistent)
    if !hasWork() {
      epoch.wait(whileEqualTo: seen, deadline: deadline)
    }
    sleepers.subtract(1, ordering: .relaxed)
  }

  /// Wakes one sleeping worker, if any sleeps.
  func wakeOne() {
    guard sleepers.load(ordering: .sequentiallyConsistent) > 0 else { return }
    epoch.atomic.pointee.add(1, ordering: .sequentiallyConsistent)
    epoch.wake(1)
  }

  /// Wakes every sleeping worker, if any sleeps: a timer is now due
  /// earlier than the one they sleep towards.
  func wakeAllSleeping() {
    guard sleepers.load(ordering: .sequentiallyConsistent) > 0 else { return }
    wakeAll()
  }

  /// Wakes every sleeping worker, and makes a worker about to sleep think
  /// again: shutdown.
  func wakeAll() {
    epoch.atomic.pointee.add(1, ordering: .sequentiallyConsistent)
    epoch.wakeAll()
  }
}
