import Glibc
import RtctxCore
import Synchronization
import Testing

@testable import Rtctx

/// Starts a runtime configured for blocking work, runs `body` with its
/// handle, shuts it down, and checks the shutdown accounted for every task.
private func withBlockingRuntime<R>(
  workers: Int, queueCapacity: Int = 0, strandedAfter: Duration? = .milliseconds(1),
  maxBlockingThreads: Int = 0, _ body: (Handle) throws -> R
) rethrows -> R {
  let runtime = try! Runtime(
    workers: workers, queueCapacity: queueCapacity, strandedAfter: strandedAfter,
    maxBlockingThreads: maxBlockingThreads)
  defer {
    runtime.shutdown()
    let stats = runtime.handle.stats
    #expect(stats.spawned == stats.completed + stats.dropped)
    #expect(stats.queued == 0)
  }
  return try body(runtime.handle)
}

/// Waits until `condition` holds, for at most `seconds`: a liveness bound,
/// not a speed one (it fails a test that would otherwise hang).
private func eventually(within seconds: Int = 10, _ condition: () -> Bool) -> Bool {
  let clock = ContinuousClock()
  let end = clock.now + .seconds(seconds)
  while !condition() {
    if clock.now >= end { return false }
    spinBriefly()
  }
  return true
}

/// The calling thread's name (workers are "rt-worker-<i>", blocking
/// threads "rt-worker-b<n>"), read back from the kernel.
private func threadName() -> String {
  let fd = Glibc.open("/proc/thread-self/comm", O_RDONLY)
  guard fd >= 0 else { return "" }
  defer { close(fd) }
  var buffer = [UInt8](repeating: 0, count: 32)
  let count = read(fd, &buffer, buffer.count)
  return String(decoding: buffer.prefix(max(count, 0)).filter { $0 != 0x0A }, as: UTF8.self)
}

private func onBlockingThread() -> Bool { threadName().hasPrefix("rt-worker-b") }

/// Chains of short tasks, one per worker, each link spawning the next from
/// its worker: every worker stays busy and its own queue never runs dry,
/// so no worker looks at another's queue (tokio's saturation tests).
private final class Load: Sendable {
  let handle: Handle
  let stopping = Atomic<Bool>(false)
  let running = Atomic<Int>(0)
  let links = Atomic<Int>(0)
  /// Spawned by link number `blockerAt`, once.
  let blockerAt: Int
  let blocker: @Sendable () -> Void

  init(_ handle: Handle, blockerAt: Int, blocker: @escaping @Sendable () -> Void) {
    self.handle = handle
    self.blockerAt = blockerAt
    self.blocker = blocker
  }

  func start(chains: Int) {
    running.store(chains, ordering: .relaxed)
    for _ in 0..<chains { try! handle.spawn { self.link() } }
  }

  private func link() {
    if links.add(1, ordering: .relaxed).oldValue == blockerAt { try! handle.spawn(blocker) }
    let end = ContinuousClock.now + .microseconds(20)
    while ContinuousClock.now < end {}
    if stopping.load(ordering: .relaxed) {
      running.subtract(1, ordering: .relaxed)
      return
    }
    try! handle.spawn { self.link() }
  }

  func stop() -> Bool {
    stopping.store(true, ordering: .relaxed)
    return eventually { running.load(ordering: .relaxed) == 0 }
  }
}

@Suite("Blocking work")
struct BlockingTests {
  // MARK: spawnBlocking

  @Test("spawnBlocking returns each value once, rethrows, off the workers", arguments: [1, 4])
  func spawnBlockingValues(workers: Int) throws {
    let ran = Counter(), offWorkers = Counter(), current = Counter()
    try withBlockingRuntime(workers: workers) { handle in
      let tasks = try (0..<200).map { i in
        try handle.spawnBlocking {
          ran.bump()
          if onBlockingThread() { offWorkers.bump() }
          if Handle.current == handle { current.bump() }
          return i * 3
        }
      }
      #expect(try tasks.map { try $0.value } == (0..<200).map { $0 * 3 })
      #expect(tasks.allSatisfy { $0.isFinished })
      let failing = try handle.spawnBlocking { () throws -> Int in throw Oops() }
      #expect(throws: Oops()) { try failing.value }
      // A spawn from a blocking thread goes to the workers.
      let spawned = Gate(), spawnedOnWorker = Atomic<Bool>(false)
      try handle.spawnBlocking {
        try! handle.spawn {
          spawnedOnWorker.store(!onBlockingThread(), ordering: .relaxed)
          spawned.open()
        }
      }.value
      spawned.wait()
      let ranOnWorker = spawnedOnWorker.load(ordering: .relaxed)
      #expect(ranOnWorker)
      let stats = handle.stats
      #expect(stats.blockingSpawned == 202)
      #expect(stats.blockingThreadsPeak >= 1)
    }
    #expect(ran.count == 200)
    #expect(offWorkers.count == 200)
    #expect(current.count == 200)
  }

  @Test("spawnBlocking: cancelled before it starts, refused by a full queue", arguments: [1, 4])
  func spawnBlockingCancelAndQueueFull(workers: Int) throws {
    try withBlockingRuntime(workers: workers, queueCapacity: 2, maxBlockingThreads: 1) { handle in
      let gate = Gate(), started = Gate()
      // The one blocking thread, taken until the gate opens.
      let first = try handle.spawnBlocking {
        started.open()
        gate.wait()
        return 1
      }
      started.wait()
      let ran = Counter()
      let second = try handle.spawnBlocking { ran.bump() }
      let third = try handle.spawnBlocking { ran.bump() }
      #expect(throws: RuntimeError.queueFull) { try handle.spawnBlocking { ran.bump() } }
      #expect(second.cancel())
      #expect(!second.cancel())
      #expect(throws: RuntimeError.cancelled) { try second.value }
      gate.open()
      #expect(try first.value == 1)
      try third.value
      #expect(ran.count == 1)
      let stats = handle.stats
      #expect(stats.blockingSpawned == 3)
      #expect(stats.rejected == 1)
      #expect(stats.dropped == 1)
      #expect(stats.blockingThreadsPeak == 1)
    }
  }

  @Test("shutdown runs every accepted blocking job; a timeout drops those not started", arguments: [1, 4])
  func spawnBlockingShutdown(workers: Int) throws {
    let ran = Counter()
    let drained = try Runtime(workers: workers, maxBlockingThreads: 2)
    for _ in 0..<50 {
      try drained.handle.spawnBlocking {
        spinBriefly()
        ran.bump()
      }
    }
    drained.shutdown()
    #expect(ran.count == 50)
    #expect(throws: RuntimeError.shutDown) { try drained.handle.spawnBlocking {} }

    let timedOut = try Runtime(workers: workers, maxBlockingThreads: 1)
    let handle = timedOut.handle
    let gate = Gate(), started = Gate(), late = Counter()
    try handle.spawnBlocking {
      started.open()
      gate.wait()
    }
    started.wait()
    let queued = try (0..<5).map { _ in try handle.spawnBlocking { late.bump() } }
    // The running job goes on until the queued ones were dropped.
    let opener = open(gate) { handle.stats.dropped == 5 }
    #expect(!timedOut.shutdown(timeout: .milliseconds(20)))
    opener.shutdown()
    #expect(late.count == 0)
    for task in queued { #expect(throws: RuntimeError.cancelled) { try task.value } }
    let stats = handle.stats
    #expect(stats.spawned == 6 && stats.completed == 1 && stats.dropped == 5)
  }

  @Test("after a shutdown no blocking thread is left", arguments: [1, 4])
  func noBlockingThreadsAfterShutdown(workers: Int) throws {
    let runtime = try Runtime(workers: workers)
    let handle = runtime.handle
    try handle.spawnBlocking {}.value  // a pool thread, idle from now on
    try handle.blockOn { withBlockingRegion {} }  // a worker's thread, moved to the pool
    #expect(handle.stats.blockingThreads >= 1)
    runtime.shutdown()
    let stats = handle.stats
    #expect(stats.blockingThreads == 0)
    #expect(stats.blockingThreadsPeak >= 1)
  }

  /// `rt_spawn_blocking`'s contract: `fn` runs on a blocking thread, even
  /// when a join on a worker finds it still queued (the join waits, and
  /// helps; a join on a blocking thread may run one inline: that is a
  /// blocking thread).
  @Test("a join on a worker leaves a queued blocking job to the pool", arguments: [1, 4])
  func joinOnWorkerLeavesBlockingJobToPool(workers: Int) throws {
    try withBlockingRuntime(workers: workers, maxBlockingThreads: 1) { handle in
      let gate = Gate(), started = Gate()
      // The pool's one thread, taken until the gate opens: the next job queues.
      try handle.spawnBlocking {
        started.open()
        gate.wait()
      }
      started.wait()
      let clock = ContinuousClock(), since = clock.now
      let opener = open(gate) { clock.now - since >= .milliseconds(20) }
      defer { opener.shutdown() }
      let onPool = try handle.blockOn { try handle.spawnBlocking { onBlockingThread() }.value }
      #expect(onPool)
    }
  }

  @Test("idle blocking threads exit after the keep-alive; the cap holds", arguments: [1, 4])
  func keepAliveAndCap(workers: Int) throws {
    let runtime = try Runtime(workers: workers, maxBlockingThreads: 2, blockingKeepAlive: .milliseconds(1))
    defer { runtime.shutdown() }
    let handle = runtime.handle
    let gate = Gate(), started = Counter()
    let tasks = try (0..<6).map { _ in
      try handle.spawnBlocking {
        started.bump()
        gate.wait()
      }
    }
    #expect(eventually { started.count == 2 })
    #expect(handle.stats.blockingThreads == 2)
    gate.open()
    for task in tasks { try task.value }
    #expect(started.count == 6)
    #expect(eventually { handle.stats.blockingThreads == 0 })
    #expect(handle.stats.blockingThreadsPeak == 2)
    // The pool grows again after its threads left.
    #expect(try handle.spawnBlocking { onBlockingThread() }.value)
  }

  @Test("thread hooks run on blocking threads too", arguments: [1, 4])
  func hooksOnBlockingThreads(workers: Int) throws {
    let started = Counter(), stopped = Counter(), blockingStarted = Counter()
    let runtime = try Runtime(
      workers: workers, maxBlockingThreads: 1,
      onThreadStart: {
        started.bump()
        if onBlockingThread() { blockingStarted.bump() }
      },
      onThreadStop: { stopped.bump() })
    try runtime.handle.spawnBlocking {}.value
    runtime.shutdown()
    #expect(blockingStarted.count == 1)
    #expect(started.count == workers + 1)
    #expect(stopped.count == workers + 1)
  }

  @Test("blocking configuration out of range throws invalidArgument")
  func invalidConfiguration() {
    #expect(throws: RuntimeError.invalidArgument) { try Runtime(workers: 1, maxBlockingThreads: -1) }
    #expect(throws: RuntimeError.invalidArgument) { try Runtime(workers: 1, strandedAfter: .milliseconds(-1)) }
    #expect(throws: RuntimeError.invalidArgument) { try Runtime(workers: 1, blockingKeepAlive: .seconds(-1)) }
  }

  // MARK: Blocking regions

  @Test("a region hands the worker off: the tasks queued behind it run meanwhile", arguments: [1, 4])
  func regionKeepsQueueRunning(workers: Int) throws {
    // No monitor: with one worker, only the hand-off can run the child.
    try withBlockingRuntime(workers: workers, strandedAfter: nil) { handle in
      let childRan = Gate()
      let task = try handle.task { () -> (Bool, Bool, Bool) in
        // From the worker: the child sits in this worker's own queue.
        try handle.spawn { childRan.open() }
        return withBlockingRegion {
          // Nested: counted once.
          withBlockingRegion {
            // This thread went to the pool: no blocking job was ever spawned.
            (eventually { childRan.isSignalled }, handle.stats.blockingThreads >= 1, Handle.current == handle)
          }
        }
      }
      let (ran, movedToPool, current) = try task.value
      #expect(ran)
      #expect(movedToPool)
      #expect(current)
      let stats = handle.stats
      #expect(stats.blockingRegions == 1)
      #expect(stats.handOffs == 1)
      #expect(stats.blockingThreads >= 1)
    }
  }

  @Test("a region returns the body's value, rethrows, and always ends", arguments: [1, 4])
  func regionEndsOnEveryPath(workers: Int) throws {
    try withBlockingRuntime(workers: workers) { handle in
      let value = try handle.blockOn { withBlockingRegion { 42 } }
      #expect(value == 42)
      let (threw, leftOpen) = try handle.blockOn { () -> (Bool, Bool) in
        let threw: Bool
        do {
          try withBlockingRegion { throw Oops() }
          threw = false
        } catch {
          threw = error is Oops
        }
        // No region is open any more: an extra end is refused.
        return (threw, BlockingRegion.end())
      }
      #expect(threw)
      #expect(!leftOpen)
      // In a blocking job, nothing moves; the region is still counted.
      try handle.spawnBlocking { withBlockingRegion {} }.value
      let stats = handle.stats
      #expect(stats.blockingRegions == 3)
      #expect(stats.handOffs == 2)
    }
  }

  @Test("off the runtimes' threads a region just runs its body")
  func regionOffRuntime() async throws {
    withBlockingRuntime(workers: 1) { handle in
      #expect(withBlockingRegion { 5 } == 5)
      #expect(throws: Oops()) { try withBlockingRegion { throw Oops() } }
      #expect(!BlockingRegion.end())
      // Entering a handle makes it current, not this thread the runtime's.
      #expect(handle.enter { withBlockingRegion { Handle.current == handle } })
      #expect(handle.stats.blockingRegions == 0)
      #expect(handle.stats.handOffs == 0)
    }
    // Swift's global executor.
    let value = await Task.detached { withBlockingRegion { 7 } }.value
    #expect(value == 7)
  }

  @Test("an async job on the runtime may block in a region", arguments: [1, 4])
  func regionInAsyncJob(workers: Int) async throws {
    await withRuntime(workers: workers) { handle in
      let childRan = Gate()
      let ran = await Task(executorPreference: handle) { () -> Bool in
        try! handle.spawn { childRan.open() }
        return withBlockingRegion { eventually { childRan.isSignalled } }
      }.value
      // And the task goes on on the runtime after an await.
      let after = await Task(executorPreference: handle) { () -> Bool in
        await Task.yield()
        return Handle.current == handle
      }.value
      #expect(ran && after)
      #expect(handle.stats.handOffs >= 1)
    }
  }

  // MARK: tokio's patterns

  /// tokio's ping_pong_saturation: under saturation, a task spawns a child
  /// and blocks (in the OS, unknown to the runtime) until the child ran.
  /// The child sits in the blocked worker's queue, which no busy worker
  /// reads: the monitor moves it.
  @Test("saturated: a task blocked on the child it spawned; the monitor frees the child", arguments: [2, 4])
  func strandedChildRuns(workers: Int) {
    saturatedBlockedOnChild(workers: workers, inRegion: false)
  }

  /// The same with the wait in a region: the hand-off runs the child, even
  /// with one worker, where no monitor could.
  @Test("saturated: a task blocked on its child in a region", arguments: [1, 4])
  func strandedChildRunsInRegion(workers: Int) {
    saturatedBlockedOnChild(workers: workers, inRegion: true)
  }

  private func saturatedBlockedOnChild(workers: Int, inRegion: Bool) {
    withBlockingRuntime(workers: workers) { handle in
      let childRan = Gate(), done = Gate()
      let ok = Atomic<Bool>(false)
      let load = Load(handle, blockerAt: 200) {
        try! handle.spawn { childRan.open() }
        let wait = { eventually { childRan.isSignalled } }
        ok.store(inRegion ? withBlockingRegion(wait) : wait(), ordering: .relaxed)
        done.open()
      }
      load.start(chains: workers)
      #expect(eventually(within: 30) { done.isSignalled })
      // The load still ran when the child did: the chains stop only now.
      let stillLoaded = !load.stopping.load(ordering: .relaxed)
      #expect(stillLoaded)
      #expect(load.stop())
      let childRanInTime = ok.load(ordering: .relaxed)
      #expect(childRanInTime)
      let stats = handle.stats
      if inRegion {
        #expect(stats.handOffs >= 1)
      } else {
        #expect(stats.strandedMoved >= 1)
      }
    }
  }

  /// tokio's test_disable_lifo_slot: a task waits (in the OS) for a child it
  /// spawned onto its worker's queue, while the only other free worker
  /// joins that task. With no monitor, only the join can run the child.
  @Test("a join on a worker runs the work its task waits for", arguments: [2, 4])
  func joinHelps(workers: Int) throws {
    try withBlockingRuntime(workers: workers, strandedAfter: nil) { handle in
      let childRan = Gate(), parentStarted = Gate(), joining = Gate(), others = Gate()
      let parent = try handle.task { () -> Bool in
        parentStarted.open()
        joining.wait()
        // Spawned once the joiner is in its join, not idle (it would steal it).
        var ts = timespec(tv_sec: 0, tv_nsec: 2_000_000)
        nanosleep(&ts, nil)
        try! handle.spawn { childRan.open() }
        return eventually { childRan.isSignalled }
      }
      parentStarted.wait()
      // Every worker but the parent's and the joiner's stays busy.
      if workers > 2 { occupyWorkers(of: handle, count: workers - 2, until: others) }
      let ok = try handle.blockOn { () -> Bool in
        joining.open()
        return try parent.value
      }
      others.open()
      #expect(ok)
      #expect(handle.stats.joinsHelped >= 1)
      #expect(handle.stats.strandedMoved == 0)
    }
  }

  @Test("a join in a region only waits: it runs nothing", arguments: [1, 4])
  func joinInRegionWaits(workers: Int) throws {
    try withBlockingRuntime(workers: workers) { handle in
      let gate = Gate(), ran = Counter()
      let slow = try handle.spawnBlocking { gate.wait() }
      let helped = try handle.blockOn { () -> UInt64 in
        // Queued on this worker, which the region hands off.
        try! handle.spawn { ran.bump() }
        let before = handle.stats.joinsHelped
        let opener = open(gate) { ran.count == 1 }
        defer { opener.shutdown() }
        try withBlockingRegion { try slow.value }
        return handle.stats.joinsHelped - before
      }
      #expect(helped == 0)
      #expect(ran.count == 1)
    }
  }

  @Test("a join in a region whose hand-off was refused only waits", arguments: [1, 4])
  func joinInRegionWithoutHandOffWaits(workers: Int) throws {
    let ran = Counter()
    try withBlockingRuntime(workers: workers, maxBlockingThreads: 1) { handle in
      let gate = Gate(), started = Gate()
      // The pool's one thread, taken: the region below gets no spare thread.
      let slow = try handle.spawnBlocking {
        started.open()
        gate.wait()
      }
      started.wait()
      let clock = ContinuousClock(), since = clock.now
      let opener = open(gate) { clock.now - since >= .milliseconds(20) }
      defer { opener.shutdown() }
      let (helped, handOffs) = try handle.blockOn { () -> (UInt64, UInt64) in
        // Queued on this worker, which stays: a helping join would run it.
        try! handle.spawn { ran.bump() }
        let before = handle.stats.joinsHelped
        try withBlockingRegion { try slow.value }
        return (handle.stats.joinsHelped - before, handle.stats.handOffs)
      }
      #expect(handOffs == 0)
      #expect(helped == 0)
    }
    #expect(ran.count == 1)
  }

}
