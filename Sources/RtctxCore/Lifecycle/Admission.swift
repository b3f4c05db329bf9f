import Synchronization

/// Which callers the runtime still accepts, and how many jobs it accepted.
///
/// One word holds both, so that accepting a job and closing the runtime
/// cannot cross: a spawn that got in is counted before the close, and one
/// that comes after is refused and never queued.
///
///     bit 62  closed: callers outside the runtime's workers are refused
///     bit 61  sealed: everyone is refused, the runtime's own tasks too
///     0...60  jobs accepted into the run queues, ever (monotonic); a
///             timer falling due is counted apart (`Ledger.timerFired`)
///
/// A job is in flight from its acceptance (or its timer's firing) until a
/// worker (or the shutdown thread) is done with its queue entry; the drain
/// compares these counts with the finished counts (see
/// `RuntimeCore.inFlight`).
final class Admission: Sendable {
  private static let closedBit: UInt64 = 1 << 62
  private static let sealedBit: UInt64 = 1 << 61
  private static let countMask: UInt64 = (1 << 61) - 1

  private let word = PaddedAtomic<UInt64>(0)

  /// Counts one job in, unless the runtime refuses the caller.
  @inline(__always)
  func enter(fromWorker: Bool) -> Bool {
    var current = word.word.pointee.load(ordering: .relaxed)
    while true {
      if current & Self.sealedBit != 0 { return false }
      if current & Self.closedBit != 0 && !fromWorker { return false }
      // Relaxed: the job itself is published by its queue.
      let (won, seen) = word.word.pointee.compareExchange(
        expected: current, desired: current &+ 1, ordering: .relaxed)
      if won { return true }
      current = seen
    }
  }

  /// Whether `enter` would refuse this caller now, without counting a job
  /// in: for `apply`, which decides once, up front, whether it may begin.
  func refuses(fromWorker: Bool) -> Bool {
    // Relaxed, as in `enter`: a caller ordered after a close (it returned
    // from the shutdown, or heard of it) reads it by coherence.
    let current = word.word.pointee.load(ordering: .relaxed)
    return current & Self.sealedBit != 0 || (current & Self.closedBit != 0 && !fromWorker)
  }

  /// Jobs accepted so far. Acquiring: read after the finished counts.
  var accepted: UInt64 { word.word.pointee.load(ordering: .acquiring) & Self.countMask }
  var isClosed: Bool { word.word.pointee.load(ordering: .relaxed) & Self.closedBit != 0 }
  var isSealed: Bool { word.word.pointee.load(ordering: .relaxed) & Self.sealedBit != 0 }

  func close() { word.word.pointee.bitwiseOr(Self.closedBit, ordering: .sequentiallyConsistent) }
  func seal() {
    word.word.pointee.bitwiseOr(Self.closedBit | Self.sealedBit, ordering: .sequentiallyConsistent)
  }
}
