import Synchronization

/// A one-shot event: one thread signals it once, any number of threads wait
/// for it. What the Swift layer's `blockOn` of async work sleeps on (the
/// async task finishes on a worker, the caller waits on its own thread).
///
/// The word is 0 until signalled, then 1; waiters sleep on it as a futex.
package final class OneShotEvent: Sendable {
  private let word = FutexWord()

  package init() {}

  package var isSignalled: Bool { word.atomic.pointee.load(ordering: .acquiring) != 0 }

  /// Releasing: a waiter that returns sees everything done before the signal.
  package func signal() {
    word.atomic.pointee.store(1, ordering: .releasing)
    word.wakeAll()
  }

  package func wait() {
    while !isSignalled { word.wait(whileEqualTo: 0) }
  }
}
