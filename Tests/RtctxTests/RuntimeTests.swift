import Synchronization
import Testing

@testable import Rtctx

@Suite("Runtime")
struct RuntimeTests {
  @Test("defaults: one worker per CPU")
  func defaults() throws {
    let runtime = try Runtime()
    defer { runtime.shutdown() }
    #expect(runtime.handle.stats.workers >= 1)
    #expect(!runtime.handle.stats.isShutdown)
  }

  @Test("out-of-range arguments throw invalidArgument")
  func invalidArguments() {
    #expect(throws: RuntimeError.invalidArgument) { try Runtime(workers: -1) }
    #expect(throws: RuntimeError.invalidArgument) { try Runtime(workers: 1025) }
    #expect(throws: RuntimeError.invalidArgument) { try Runtime(workers: 1, queueCapacity: -1) }
  }

  @Test("thread hooks run once per worker, with the runtime current", arguments: [1, 4])
  func hooks(workers: Int) throws {
    let started = Counter(), stopped = Counter(), sawRuntime = Counter()
    let runtime = try Runtime(
      workers: workers,
      onThreadStart: {
        started.bump()
        if Handle.current != nil { sawRuntime.bump() }
      },
      onThreadStop: { stopped.bump() })
    // init returns once every worker ran its start hook.
    #expect(started.count == workers)
    #expect(sawRuntime.count == workers)
    runtime.shutdown()
    #expect(stopped.count == workers)
  }

  @Test("shutdown runs every accepted task, then refuses new ones", arguments: [1, 4])
  func shutdownDrains(workers: Int) throws {
    let runtime = try Runtime(workers: workers)
    let handle = runtime.handle
    let ran = Counter()
    for _ in 0..<2_000 { try handle.spawn { ran.bump() } }
    runtime.shutdown()
    #expect(ran.count == 2_000)
    #expect(throws: RuntimeError.shutDown) { try handle.spawn {} }
    #expect(throws: RuntimeError.shutDown) { try handle.blockOn { 1 } }
    let stats = handle.stats
    #expect(stats.isShutdown && stats.workers == workers)
    #expect(stats.spawned == 2_000 && stats.completed == 2_000 && stats.dropped == 0)
    #expect(stats.rejected == 2)
  }

  @Test("a second shutdown returns at once")
  func shutdownTwice() throws {
    let runtime = try Runtime(workers: 1)
    runtime.shutdown()
    runtime.shutdown()
    #expect(runtime.shutdown(timeout: .seconds(1)))
  }

  @Test("tasks may spawn onto their runtime while it drains", arguments: [1, 4])
  func spawnWhileDraining(workers: Int) throws {
    let runtime = try Runtime(workers: workers)
    let handle = runtime.handle
    let ran = Counter()
    // Each task spawns the next: a chain still in flight at shutdown.
    @Sendable func link(_ n: Int) {
      ran.bump()
      if n > 0 { try! Handle.current!.spawn { link(n - 1) } }
    }
    try handle.spawn { link(500) }
    runtime.shutdown()
    #expect(ran.count == 501)
  }

  @Test("shutdown(timeout:) drops tasks not yet started", arguments: [1, 4])
  func shutdownTimeout(workers: Int) throws {
    let runtime = try Runtime(workers: workers)
    let handle = runtime.handle
    let gate = Gate()
    occupyWorkers(of: handle, count: workers, until: gate)
    let queued = try (0..<10).map { i in try handle.task { i } }
    let opener = open(gate, when: { handle.stats.dropped == 10 })
    defer { opener.shutdown() }
    #expect(runtime.shutdown(timeout: .milliseconds(10)) == false)
    for task in queued {
      #expect(task.isFinished)
      #expect(throws: RuntimeError.cancelled) { try task.value }
    }
    let stats = handle.stats
    #expect(stats.dropped == 10)
    #expect(stats.spawned == stats.completed + stats.dropped)
  }

  @Test("releasing the last reference shuts the runtime down gracefully")
  func deinitShutsDown() throws {
    let ran = Counter()
    var handle: Handle?
    do {
      let runtime = try Runtime(workers: 2)
      handle = runtime.handle
      for _ in 0..<100 { try runtime.handle.spawn { ran.bump() } }
    }
    #expect(ran.count == 100)
    #expect(handle?.stats.isShutdown == true)
    #expect(throws: RuntimeError.shutDown) { try handle?.spawn {} }
  }

  @Test("errors carry the C codes")
  func errorCodes() {
    #expect(RuntimeError.shutDown.rawValue == -108)
    #expect(RuntimeError.shutDown.name == "RT_ESHUTDOWN")
    #expect(RuntimeError.allCases.count == 8)
  }
}
