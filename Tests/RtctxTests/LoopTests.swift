import Synchronization
import Testing

@testable import Rtctx

/// State that only the loop's owner touches: an @MainActor of its own.
actor OwnerState {
  let loop: Loop
  private(set) var bumps = 0
  private(set) var offOwner = 0

  init(loop: Loop) { self.loop = loop }

  nonisolated var unownedExecutor: UnownedSerialExecutor { loop.asUnownedSerialExecutor() }

  func bump() {
    bumps += 1
    if !loop.isOwnedByCurrentThread { offOwner += 1 }
  }
}

@Suite("Loop")
struct LoopTests {
  @Test("jobs posted from workers run on the owner, when it runs the loop")
  func postedRunOnOwner() throws {
    try withRuntime(workers: 2) { handle in
      let loop = try Loop(on: handle)
      let ran = Counter(), off = Counter()
      for _ in 0..<100 {
        try handle.spawn {
          try? loop.spawn {
            ran.bump()
            if !loop.isOwnedByCurrentThread { off.bump() }
          }
        }
      }
      while ran.count < 100 { _ = try loop.run(timeout: 10_000_000) }
      #expect(off.count == 0)
      #expect(try loop.run(timeout: 0) == .timedOut)
      loop.stop()
      #expect(try loop.run() == .stopped)
      #expect(try loop.blockOn { 42 } == 42)  // inline on the owner
      loop.close()
    }
  }

  @Test("an actor on a loop runs on the owner thread")
  func actorOnLoop() throws {
    try withRuntime(workers: 2) { handle in
      let loop = try Loop(on: handle)
      let state = OwnerState(loop: loop)
      let done = Atomic<Bool>(false)
      Task.detached {
        for _ in 0..<50 { await state.bump() }
        done.store(true, ordering: .releasing)
      }
      while !done.load(ordering: .acquiring) { _ = try loop.run(timeout: 10_000_000) }
      // On the owner: isolated to the actor (checkIsolated).
      let (bumps, off) = state.assumeIsolated { ($0.bumps, $0.offOwner) }
      #expect(bumps == 50 && off == 0)
      loop.close()
    }
  }

  @Test("off the owner, running is refused")
  func notOwner() throws {
    try withRuntime(workers: 1) { handle in
      let loop = try Loop(on: handle)
      let t = try handle.task { () -> Bool in (try? loop.runPending()) == nil }
      #expect(try t.value(timeout: .seconds(10)))
      loop.close()
    }
  }
}
