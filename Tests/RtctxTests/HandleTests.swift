import Synchronization
import Testing

@testable import Rtctx

struct Oops: Error, Equatable {}

@Suite("Handle")
struct HandleTests {
  @Test("every spawned closure runs exactly once, on a worker", arguments: [1, 4])
  func spawnRunsAll(workers: Int) throws {
    let ran = Counter(), onWorker = Counter()
    try withRuntime(workers: workers) { handle in
      for _ in 0..<10_000 {
        try handle.spawn {
          ran.bump()
          if Handle.current == handle { onWorker.bump() }
        }
      }
    }
    #expect(ran.count == 10_000)
    #expect(onWorker.count == 10_000)
  }

  @Test("spawn(after:) runs no sooner than its delay", arguments: [1, 4])
  func spawnAfter(workers: Int) throws {
    let clock = ContinuousClock()
    let start = clock.now
    let elapsed = Mutex<Duration?>(nil)
    try withRuntime(workers: workers) { handle in
      try handle.spawn(after: .milliseconds(20)) {
        elapsed.withLock { $0 = clock.now - start }
      }
      // A timer still pending at shutdown is dropped: wait until a later one ran.
      let task = try handle.task(after: .milliseconds(30)) { 7 }
      #expect(try task.value == 7)
    }
    let measured = try #require(elapsed.withLock { $0 })
    #expect(measured >= .milliseconds(20))
  }

  @Test("task returns its value, or rethrows its error", arguments: [1, 4])
  func taskValue(workers: Int) throws {
    try withRuntime(workers: workers) { handle in
      let tasks = try (0..<100).map { i in try handle.task { i * 2 } }
      #expect(try tasks.map { try $0.value } == (0..<100).map { $0 * 2 })
      #expect(tasks.allSatisfy { $0.isFinished })

      let failing = try handle.task { () throws -> Int in throw Oops() }
      #expect(throws: Oops()) { try failing.value }
      // Several waits on one task see the same outcome.
      #expect(throws: Oops()) { try failing.value }
    }
  }

  @Test("value(timeout:) times out while the task waits", arguments: [1, 4])
  func valueTimeout(workers: Int) throws {
    try withRuntime(workers: workers) { handle in
      let gate = Gate()
      let task = try handle.task {
        gate.wait()
        return "done"
      }
      #expect(throws: RuntimeError.timedOut) { try task.value(timeout: .milliseconds(5)) }
      #expect(!task.isFinished)
      gate.open()
      #expect(try task.value(timeout: .seconds(60)) == "done")
    }
  }

  @Test("cancel drops a task that has not started", arguments: [1, 4])
  func cancel(workers: Int) throws {
    try withRuntime(workers: workers) { handle in
      let gate = Gate()
      occupyWorkers(of: handle, count: workers, until: gate)
      let ran = Counter()
      let task = try handle.task { ran.bump() }
      #expect(task.cancel())
      #expect(task.isFinished)
      #expect(!task.cancel())  // a second cancel is too late
      #expect(throws: RuntimeError.cancelled) { try task.value }

      let timer = try handle.task(after: .seconds(3600)) { ran.bump() }
      #expect(timer.cancel())
      gate.open()
      let finished = try handle.task { 1 }
      #expect(try finished.value == 1)
      #expect(!finished.cancel())
      #expect(ran.count == 0)
      #expect(handle.stats.dropped == 2)
    }
  }

  @Test("blockOn returns the result, rethrows, and runs inline on a worker", arguments: [1, 4])
  func blockOn(workers: Int) throws {
    try withRuntime(workers: workers) { handle in
      #expect(try handle.blockOn { 42 } == 42)
      #expect(try handle.blockOn { Handle.current == handle })
      #expect(throws: Oops()) { try handle.blockOn { () throws -> Int in throw Oops() } }
      // Nested on a worker: would wait on itself with one worker unless inline.
      let nested = try handle.blockOn { try handle.blockOn { 7 } + 1 }
      #expect(nested == 8)
    }
  }

  @Test("blockOn on a worker of another runtime blocks that worker", arguments: [1, 4])
  func blockOnAcrossRuntimes(workers: Int) throws {
    try withRuntime(workers: workers) { a in
      try withRuntime(workers: 1) { b in
        let value = try a.blockOn { try b.blockOn { Handle.current == b ? 1 : 0 } }
        #expect(value == 1)
      }
    }
  }

  @Test("a full queue refuses spawn and task, not timers or blockOn", arguments: [1, 4])
  func queueCapacity(workers: Int) throws {
    try withRuntime(workers: workers, queueCapacity: 2) { handle in
      let gate = Gate()
      occupyWorkers(of: handle, count: workers, until: gate)
      let ran = Counter()
      try handle.spawn { ran.bump() }
      _ = try handle.task { ran.bump() }
      #expect(throws: RuntimeError.queueFull) { try handle.spawn { ran.bump() } }
      #expect(throws: RuntimeError.queueFull) { _ = try handle.task { ran.bump() } }
      try handle.spawn(after: .zero) { ran.bump() }
      #expect(handle.stats.rejected == 2)
      gate.open()
      #expect(try handle.blockOn { 5 } == 5)
    }
  }

  @Test("handles of one runtime are equal; of two, not")
  func equality() throws {
    try withRuntime(workers: 1) { a in
      try withRuntime(workers: 1) { b in
        #expect(a != b)
        let seen = try a.blockOn { Handle.current }
        #expect(seen == a)
        #expect(Set([a, b, seen!]).count == 2)
      }
    }
  }

  @Test("stats count spawns, completions and drops", arguments: [1, 4])
  func stats(workers: Int) throws {
    let runtime = try Runtime(workers: workers)
    let handle = runtime.handle
    for _ in 0..<50 { try handle.spawn {} }
    _ = try handle.blockOn { 0 }
    _ = try handle.task(after: .seconds(3600)) { 0 }
    #expect(handle.stats.timers == 1)
    runtime.shutdown()
    let stats = handle.stats
    #expect(stats.spawned == 52)
    #expect(stats.completed == 51)
    #expect(stats.dropped == 1)  // the pending timer
    #expect(stats.workers == workers)
  }
}
