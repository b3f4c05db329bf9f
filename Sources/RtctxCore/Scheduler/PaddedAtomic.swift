import Synchronization

/// An atomic word alone on its cache lines.
///
/// The hot words (queue ends, the admission word) are written by different
/// threads; sharing a cache line would make each write evict the others'
/// (false sharing). Swift has no alignment attribute, so the word sits in
/// the middle of its own 256-byte allocation: 128 bytes on each side,
/// which also covers the adjacent-line prefetcher of x86.
struct PaddedAtomic<Value: AtomicRepresentable>: ~Copyable, @unchecked Sendable {
  private static var slots: Int { 256 / MemoryLayout<Atomic<Value>>.stride }
  private let base: UnsafeMutablePointer<Atomic<Value>>

  init(_ value: Value) {
    base = .allocate(capacity: Self.slots)
    (base + Self.slots / 2).initialize(to: Atomic(value))
  }

  deinit {
    (base + Self.slots / 2).deinitialize(count: 1)
    base.deallocate()
  }

  /// The atomic itself: `word.pointee.load(ordering:)` and so on.
  var word: UnsafeMutablePointer<Atomic<Value>> { base + Self.slots / 2 }
}

extension PaddedAtomic where Value == Int {
  /// Adds one unless the count already reached `limit`; false then.
  /// Sequentially consistent (on x86 every CAS is, at no extra cost): the
  /// searcher count takes part in the parking handshake.
  @inline(__always)
  func increment(below limit: Int) -> Bool {
    var n = word.pointee.load(ordering: .relaxed)
    while n < limit {
      let (won, seen) = word.pointee.compareExchange(expected: n, desired: n + 1, ordering: .sequentiallyConsistent)
      if won { return true }
      n = seen
    }
    return false
  }
}
