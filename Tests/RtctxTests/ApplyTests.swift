import Synchronization
import Testing

@testable import Rtctx

/// One counter per index, shared by the calls of an apply (unchecked: the
/// pointer is only read, the counters are atomics).
final class IndexCounts: @unchecked Sendable {
  private let hits: UnsafeMutablePointer<Atomic<Int>>
  let count: Int

  init(_ count: Int) {
    self.count = count
    hits = .allocate(capacity: max(count, 1))
    for i in 0..<count { (hits + i).initialize(to: Atomic(0)) }
  }

  deinit { hits.deallocate() }

  func hit(_ index: Int) { hits[index].add(1, ordering: .relaxed) }

  /// The indices that did not run exactly once.
  var wrong: [Int] { (0..<count).filter { hits[$0].load(ordering: .relaxed) != 1 } }
}

@Suite("Handle.apply")
struct ApplyTests {
  @Test("every index runs exactly once", arguments: [1, 4])
  func eachIndexOnce(workers: Int) throws {
    try withRuntime(workers: workers) { handle in
      for count in [0, 1, 2, workers, 100_000] {
        let counts = IndexCounts(count)
        try handle.apply(count) { counts.hit($0) }
        #expect(counts.wrong.isEmpty, "count \(count)")
      }
    }
  }

  @Test("plain writes of the calls are visible after the return", arguments: [1, 4])
  func resultsVisible(workers: Int) throws {
    try withRuntime(workers: workers) { handle in
      let count = 50_000
      let squares = UnsafeMutableBufferPointer<Int>.allocate(capacity: count)
      defer { squares.deallocate() }
      squares.initialize(repeating: -1)
      // The calls write disjoint elements: sharing the buffer is safe.
      nonisolated(unsafe) let shared = squares
      try handle.apply(count) { shared[$0] = $0 * $0 }
      #expect(squares.enumerated().allSatisfy { $0.element == $0.offset * $0.offset })
    }
  }

  @Test("from a task, and nested in another apply, without deadlock", arguments: [1, 4])
  func nested(workers: Int) throws {
    try withRuntime(workers: workers) { handle in
      let outer = 8, inner = 1_000
      let counts = IndexCounts(outer * inner)
      try handle.blockOn {
        try handle.apply(outer) { i in
          try! handle.apply(inner) { j in counts.hit(i * inner + j) }
        }
      }
      #expect(counts.wrong.isEmpty)
    }
  }

  @Test("after shutdown: throws shutDown, calls nothing")
  func afterShutdown() throws {
    let runtime = try Runtime(workers: 2)
    let handle = runtime.handle
    runtime.shutdown()
    let called = Counter()
    #expect(throws: RuntimeError.shutDown) { try handle.apply(10) { _ in called.bump() } }
    try handle.apply(0) { _ in called.bump() }
    #expect(called.count == 0)
  }
}
