import Synchronization
import Testing

@testable import Rtctx

/// An actor whose jobs run on a strand of the runtime.
actor StrandAccount {
  let strand: Strand
  private(set) var balance = 0
  private(set) var offStrand = 0

  init(strand: Strand) { self.strand = strand }

  nonisolated var unownedExecutor: UnownedSerialExecutor { strand.asUnownedSerialExecutor() }

  func deposit(_ amount: Int) {
    balance += amount
    if Strand.current != strand.id { offStrand += 1 }
  }
}

/// Written only by jobs of one strand: the strand orders them.
final class Unsynchronized: @unchecked Sendable {
  var values: [Int] = []
}

@Suite("Strand")
struct StrandTests {
  @Test("jobs run in order, one at a time, on the runtime's workers", arguments: [1, 4])
  func order(workers: Int) throws {
    try withRuntime(workers: workers) { handle in
      let strand = try Strand(on: handle)
      let seen = Unsynchronized()
      let overlaps = Counter()
      let busy = Atomic<Bool>(false)
      for i in 0..<10_000 {
        try strand.spawn {
          if busy.exchange(true, ordering: .acquiring) { overlaps.bump() }
          seen.values.append(i)
          busy.store(false, ordering: .releasing)
        }
      }
      let count = try strand.blockOn { seen.values.count }
      #expect(count == 10_000)
      #expect(seen.values == Array(0..<10_000))
      #expect(overlaps.count == 0)
    }
  }

  @Test("a task's result comes back through its join handle")
  func joinHandle() throws {
    try withRuntime(workers: 2) { handle in
      let strand = try Strand(on: handle)
      let task = try strand.task { Strand.current == strand.id ? 42 : -1 }
      #expect(try task.value == 42)
    }
  }

  @Test("blockOn from a job of the same strand throws wouldDeadlock")
  func blockOnOwnStrand() throws {
    try withRuntime(workers: 2) { handle in
      let strand = try Strand(on: handle)
      let thrown = try strand.blockOn { () -> Bool in
        do {
          _ = try strand.blockOn { 1 }
          return false
        } catch let error as RuntimeError {
          return error == .wouldDeadlock
        } catch {
          return false
        }
      }
      #expect(thrown)
    }
  }

  @Test("an actor on a strand runs its jobs there, serially", arguments: [1, 4])
  func actorOnStrand(workers: Int) async throws {
    try await withRuntime(workers: workers) { handle in
      let account = StrandAccount(strand: try Strand(on: handle))
      await withTaskGroup(of: Void.self) { group in
        for _ in 0..<1000 { group.addTask { await account.deposit(1) } }
      }
      #expect(await account.balance == 1000)
      #expect(await account.offStrand == 0)
      #expect(handle.stats.executorFallbacks == 0)
    }
  }

  @Test("a strand on a shut-down runtime cannot be made")
  func afterShutdown() throws {
    let runtime = try Runtime(workers: 1)
    let handle = runtime.handle
    let strand = try Strand(on: handle)
    runtime.shutdown()
    #expect(throws: RuntimeError.shutDown) { try Strand(on: handle) }
    #expect(throws: RuntimeError.shutDown) { try strand.spawn {} }
  }
}
