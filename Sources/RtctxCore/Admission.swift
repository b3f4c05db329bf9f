import Synchronization

/// Which tasks the runtime still accepts, and how many are in flight.
///
/// One word holds both, so that accepting a task and closing the runtime
/// cannot cross: a spawn that got in is counted before a shutdown can see
/// the count reach zero, and a spawn that comes after the close is refused
/// and never queued. "In flight" is every job in the run queue or running
/// (timers are counted once they fall due).
///
///     bit 62  closed: callers outside the runtime's workers are refused
///     bit 61  sealed: everyone is refused, the runtime's own tasks too
///     0...60  jobs in flight
final class Admission: Sendable {
  private static let closedBit: UInt64 = 1 << 62
  private static let sealedBit: UInt64 = 1 << 61
  private static let countMask: UInt64 = (1 << 61) - 1

  private let word = Atomic<UInt64>(0)
  /// Bumped each time the count reaches zero after the close; the drain
  /// sleeps on it.
  private let drainedEvent = FutexWord()

  /// Counts one job in, unless the runtime refuses the caller.
  func enter(fromWorker: Bool) -> Bool {
    var current = word.load(ordering: .relaxed)
    while true {
      if current & Self.sealedBit != 0 { return false }
      if current & Self.closedBit != 0 && !fromWorker { return false }
      // Relaxed is enough: the job itself is published by the queue's lock.
      let (done, seen) = word.compareExchange(
        expected: current, desired: current + 1, ordering: .relaxed)
      if done { return true }
      current = seen
    }
  }

  /// Counts in a job that the runtime already owes (a timer falling due).
  func force() {
    word.add(1, ordering: .relaxed)
  }

  /// Counts one job out: it ran, was dropped, or was never queued.
  func leave() {
    // Releasing: the job's effects happen before the drain sees zero.
    let now = word.subtract(1, ordering: .releasing).newValue
    if now & Self.countMask == 0 && now & Self.closedBit != 0 {
      drainedEvent.atomic.pointee.add(1, ordering: .releasing)
      drainedEvent.wakeAll()
    }
  }

  var inFlight: UInt64 { word.load(ordering: .acquiring) & Self.countMask }
  var isClosed: Bool { word.load(ordering: .relaxed) & Self.closedBit != 0 }
  var isSealed: Bool { word.load(ordering: .relaxed) & Self.sealedBit != 0 }

  func close() { word.bitwiseOr(Self.closedBit, ordering: .relaxed) }
  func seal() { word.bitwiseOr(Self.closedBit | Self.sealedBit, ordering: .relaxed) }

  /// Waits until nothing is in flight (after `close`), or `deadline`.
  func waitDrained(deadline: UInt64?) -> Bool {
    while true {
      let event = drainedEvent.atomic.pointee.load(ordering: .acquiring)
      if inFlight == 0 { return true }
      if !drainedEvent.wait(whileEqualTo: event, deadline: deadline) {
        return inFlight == 0
      }
    }
  }
}
