import RtctxCore
import Synchronization
import Testing

@testable import Rtctx

@Suite("Group")
struct GroupTests {
  @Test("wait returns once every job ran, each once", arguments: [1, 4])
  func waitForAll(workers: Int) throws {
    let ran = Counter()
    try withRuntime(workers: workers) { handle in
      let group = try handle.makeGroup()
      for _ in 0..<1_000 { try group.spawn { ran.bump() } }
      try group.wait()
      #expect(ran.count == 1_000)
      #expect(group.pending == 0)
    }
  }

  @Test("wait with a timeout throws timedOut while a job runs", arguments: [1, 4])
  func waitTimeout(workers: Int) throws {
    try withRuntime(workers: workers) { handle in
      let group = try handle.makeGroup()
      let gate = OneShotEvent()
      try group.spawn { gate.wait() }
      #expect(throws: RuntimeError.timedOut) { try group.wait(timeout: .zero) }
      #expect(throws: RuntimeError.timedOut) { try group.wait(timeout: .milliseconds(10)) }
      gate.signal()
      try group.wait(timeout: .seconds(20))
    }
  }

  @Test("a task waiting for its group on a worker runs the queued jobs itself", arguments: [1, 4])
  func waitOnWorkerHelps(workers: Int) throws {
    let ran = Counter()
    try withRuntime(workers: workers) { handle in
      try handle.blockOn {
        let group = try handle.makeGroup()
        for _ in 0..<200 { try group.spawn { ran.bump() } }
        try group.wait()
      }
    }
    #expect(ran.count == 200)
  }

  @Test("notifications run once each, in registration order, after the group empties", arguments: [1, 4])
  func notifyOrder(workers: Int) throws {
    let order = Mutex<[Int]>([])
    let done = OneShotEvent()
    try withRuntime(workers: workers) { handle in
      let group = try handle.makeGroup()
      let gate = OneShotEvent()
      try group.spawn { gate.wait() }
      for i in 0..<8 {
        try group.notify {
          let count = order.withLock { $0.append(i); return $0.count }
          if count == 8 { done.signal() }
        }
      }
      #expect(order.withLock { $0.isEmpty })
      gate.signal()
      done.wait()
      try group.spawn {}
      try group.wait()
    }
    #expect(order.withLock { $0 } == Array(0..<8))
  }

  @Test("cancel drops every queued job once; the wait returns")
  func cancel() throws {
    let ran = Counter(), dropped = Counter()
    try withRuntime(workers: 1) { handle in
      let gate = OneShotEvent(), started = OneShotEvent()
      try handle.spawn { started.signal(); gate.wait() }
      started.wait()
      let group = try handle.makeGroup()
      for _ in 0..<50 { try group.spawn({ ran.bump() }, onDrop: { dropped.bump() }) }
      #expect(group.cancel() == 50)
      #expect(group.pending == 0)
      try group.wait(timeout: .zero)
      gate.signal()
    }
    #expect(ran.count == 0)
    #expect(dropped.count == 50)
  }

  @Test("async wait suspends until the group is empty", arguments: [1, 4])
  func asyncWait(workers: Int) async throws {
    let ran = Counter()
    try await withRuntime(workers: workers) { handle in
      let group = try handle.makeGroup()
      for _ in 0..<500 { try group.spawn { ran.bump() } }
      try await group.wait()
      #expect(ran.count == 500)
      try await group.wait()  // empty: at once
    }
  }

  @Test("after shutdown: spawn and notify throw shutDown, wait returns")
  func afterShutdown() throws {
    let runtime = try Runtime(workers: 1)
    let group = try runtime.handle.makeGroup()
    runtime.shutdown()
    #expect(throws: RuntimeError.shutDown) { try group.spawn {} }
    #expect(throws: RuntimeError.shutDown) { try group.notify {} }
    #expect(throws: RuntimeError.shutDown) { try runtime.handle.makeGroup() }
    try group.wait()
    #expect(group.cancel() == 0)
  }
}
