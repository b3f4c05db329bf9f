import Synchronization
import Testing
@testable import RtctxCore

@Suite("RuntimeCore")
struct RuntimeCoreTests {
  @Test("every spawned task runs exactly once", arguments: [1, 4])
  func spawnRunsAll(workers: Int) {
    let counter = Counter()
    withRuntime(workers: workers) { rt in
      for _ in 0..<10_000 {
        if case .failure(let e) = rt.spawn(body { counter.bump() }, joinable: false) {
          Issue.record("spawn failed: \(e)")
        }
      }
    }
    #expect(counter.count == 10_000)
  }

  @Test("block_on returns the result, and runs inline on a worker", arguments: [1, 4])
  func blockOn(workers: Int) {
    withRuntime(workers: workers) { rt in
      let r = rt.blockOn(.swift(run: { UnsafeMutableRawPointer(bitPattern: 42) }, drop: nil))
      #expect(try! r.get() == UnsafeMutableRawPointer(bitPattern: 42))
      // Nested on a worker: would deadlock with one worker unless inline.
      let nested = rt.blockOn(.swift(run: {
        let inner = rt.blockOn(.swift(run: { UnsafeMutableRawPointer(bitPattern: 7) }, drop: nil))
        return try! inner.get()
      }, drop: nil))
      #expect(try! nested.get() == UnsafeMutableRawPointer(bitPattern: 7))
    }
  }

  @Test("join waits for the result; cancel drops a queued task", arguments: [1, 4])
  func joinAndCancel(workers: Int) throws {
    try withRuntime(workers: workers) { rt in
      let gate = Gate()
      // Keep every worker busy so the next task stays queued.
      let blocked = Counter()
      for _ in 0..<workers { _ = rt.spawn(body { blocked.bump(); gate.wait() }, joinable: false) }
      while blocked.count < workers { sleepMs(1) }
      let dropped = Counter()
      let ran = Counter()
      let cell = try #require(try rt.spawn(.swift(run: { ran.bump(); return nil }, drop: { dropped.bump() }), joinable: true).get())
      #expect(cell.join(deadline: monotonicNow() + 1_000_000).failureValue == .timedOut)
      #expect(cell.cancel().failureValue == nil)
      #expect(dropped.count == 1)
      #expect(cell.cancel().failureValue == .busy)
      #expect(cell.join(deadline: nil).failureValue == .cancelled)
      gate.open()
      let done = try #require(try rt.spawn(.swift(run: { UnsafeMutableRawPointer(bitPattern: 9) }, drop: nil), joinable: true).get())
      #expect(try done.join(deadline: nil).get() == UnsafeMutableRawPointer(bitPattern: 9))
      #expect(done.cancel().failureValue == .busy)
      #expect(ran.count == 0)
    }
  }

  @Test("timers never start before their delay, and in due order", arguments: [1])
  func timerOrder(workers: Int) {
    let order = Mutex<[Int]>([])
    let start = monotonicNow()
    let early = Counter()
    withRuntime(workers: workers) { rt in
      var cells: [TaskCell] = []
      for (i, delayMs) in [30, 10, 20].enumerated() {
        let delay = UInt64(delayMs) * 1_000_000
        let cell = try! rt.spawn(.swift(run: {
          if monotonicNow() - start < delay { early.bump() }
          order.withLock { $0.append(i) }
          return nil
        }, drop: nil), after: delay, joinable: true).get()!
        cells.append(cell)
      }
      for cell in cells { _ = cell.join(deadline: nil) }
    }
    #expect(order.withLock { $0 } == [1, 2, 0])
    #expect(early.count == 0)
  }

  @Test("a worker joining a timer fires it itself", arguments: [1, 2])
  func joinTimerOnWorker(workers: Int) {
    withRuntime(workers: workers) { rt in
      let r = rt.blockOn(.swift(run: {
        // Every worker ends up here joining a timer: nobody else fires it.
        let cell = try! rt.spawn(.swift(run: { UnsafeMutableRawPointer(bitPattern: 5) }, drop: nil),
                                 after: 5_000_000, joinable: true).get()!
        return try! cell.join(deadline: nil).get()
      }, drop: nil))
      #expect(try! r.get() == UnsafeMutableRawPointer(bitPattern: 5))
    }
  }

  @Test("context: enter nests, exit is LIFO, workers see their runtime", arguments: [1, 4])
  func context(workers: Int) {
    withRuntime(workers: workers) { rt in
      #expect(Context.current == nil)
      let g1 = Context.enter(rt)
      #expect(Context.current === rt)
      let other = RuntimeCore.start(RuntimeConfig())!
      let g2 = Context.enter(other)
      #expect(Context.current === other)
      #expect(!Context.exit(g1), "out-of-order exit must be refused")
      #expect(Context.current === other)
      #expect(Context.exit(g2))
      #expect(Context.current === rt)
      #expect(Context.exit(g1))
      #expect(Context.current == nil)
      _ = other.shutdown(timeout: nil)
      let seen = rt.blockOn(.swift(run: {
        Context.current.map { Unmanaged.passUnretained($0).toOpaque() }
      }, drop: nil))
      #expect(try! seen.get() == Unmanaged.passUnretained(rt).toOpaque())
    }
  }

  @Test("shutdown drains children of in-flight tasks and refuses outsiders", arguments: [1, 4])
  func shutdownDrains(workers: Int) {
    var config = RuntimeConfig()
    config.workers = workers
    let rt = RuntimeCore.start(config)!
    let children = Counter()
    let gate = Gate()
    _ = rt.spawn(body {
      gate.wait()
      sleepMs(5)  // the shutdown below has closed admission by now
      for _ in 0..<100 { _ = rt.spawn(body { children.bump() }, joinable: false) }
    }, joinable: false)
    let shutter = Thread { _ = rt.shutdown(timeout: nil) }
    while !rt.stats.shutdown { sleepMs(1) }
    #expect(rt.spawn(body {}, joinable: false).failureValue == .shutDown)
    gate.open()
    shutter.join()
    #expect(children.count == 100)
    let s = rt.stats
    #expect(s.shutdown && s.queued == 0 && s.timers == 0)
    #expect(s.spawned == s.completed + s.dropped)
    #expect(s.rejected == 1)
  }

  @Test("shutdown with a timeout drops what never started, exactly once", arguments: [1, 4])
  func shutdownTimeout(workers: Int) {
    var config = RuntimeConfig()
    config.workers = workers
    let rt = RuntimeCore.start(config)!
    let gate = Gate()
    let blocked = Counter()
    for _ in 0..<workers { _ = rt.spawn(body { blocked.bump(); gate.wait() }, joinable: false) }
    // No order is promised between tasks: wait until every worker is held.
    while blocked.count < workers { sleepMs(1) }
    let ran = Counter(), dropped = Counter()
    for _ in 0..<1000 {
      _ = rt.spawn(.swift(run: { ran.bump(); return nil }, drop: { dropped.bump() }), joinable: false)
    }
    let timer = try! rt.spawn(.swift(run: { ran.bump(); return nil }, drop: { dropped.bump() }),
                              after: 60_000_000_000, joinable: true).get()!
    // The blockers go on only once the timeout dropped the queue: opening
    // the gate after a fixed 30 ms raced the shutdown's 10 ms deadline on
    // a loaded machine (the workers then ran queued tasks before the
    // drop), about 1 run in 25.
    let opener = Thread {
      while dropped.count < 1001 { sleepMs(1) }
      gate.open()
    }
    #expect(rt.shutdown(timeout: 10_000_000) == .timedOut)
    opener.join()
    #expect(ran.count == 0)
    #expect(dropped.count == 1001)
    #expect(timer.join(deadline: nil).failureValue == .cancelled)
    let s = rt.stats
    #expect(s.spawned == s.completed + s.dropped)
    #expect(s.dropped == 1001)
  }

  @Test("shutdown from a worker is refused", arguments: [1])
  func shutdownFromWorker(workers: Int) {
    withRuntime(workers: workers) { rt in
      let r = rt.blockOn(.swift(run: {
        rt.shutdown(timeout: nil) == .onOwnWorker ? UnsafeMutableRawPointer(bitPattern: 1) : nil
      }, drop: nil))
      #expect(try! r.get() != nil)
    }
  }

  @Test("a bounded queue refuses spawns when full, never block_on", arguments: [1])
  func boundedQueue(workers: Int) {
    withRuntime(workers: workers, queueCapacity: 4) { rt in
      let gate = Gate()
      _ = rt.spawn(body { gate.wait() }, joinable: false)
      while rt.stats.queued > 0 { sleepMs(1) }
      for _ in 0..<4 { #expect(rt.spawn(body {}, joinable: false).failureValue == nil) }
      #expect(rt.spawn(body {}, joinable: false).failureValue == .queueFull)
      #expect(rt.post(body {}) == nil)
      gate.open()
      #expect(rt.stats.rejected == 1)
    }
  }
}

extension Result {
  var failureValue: Failure? {
    if case .failure(let e) = self { return e }
    return nil
  }
}

/// A plain thread for tests that need a second foreign thread.
final class Thread: @unchecked Sendable {
  private let thread: OSThread
  init(_ body: @escaping @Sendable () -> Void) { thread = OSThread.start(name: "test", body)! }
  func join() { thread.join() }
}
