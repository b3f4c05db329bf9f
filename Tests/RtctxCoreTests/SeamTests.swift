import Synchronization
import Testing
@testable import RtctxCore

/// The rare paths, reached through the test seams of `RuntimeConfig`
/// (small queues, a thread starter that refuses) instead of by volume.
@Suite("Rare paths")
struct SeamTests {
  private static func config(workers: Int, inject: Int = 65536, local: Int = 1024) -> RuntimeConfig {
    var config = RuntimeConfig()
    config.workers = workers
    config.injectCapacity = inject
    config.localCapacity = local
    return config
  }

  @Test("a full inject ring spills into the overflow list; every task runs once", arguments: [1, 4])
  func injectOverflow(workers: Int) {
    let rt = RuntimeCore.start(Self.config(workers: workers, inject: 16))!
    let gate = Gate()
    let started = Counter()
    // Every worker blocked, so outside spawns pile up in the ring.
    for _ in 0..<workers { _ = rt.spawn({ started.bump(); gate.wait() }) }
    while started.count < workers { sleepMs(1) }
    let ran = Counter()
    for _ in 0..<1000 { #expect(rt.spawn({ ran.bump() }) == nil) }
    #expect(rt.inject.overflowed > 0)
    gate.open()
    #expect(rt.shutdown(timeout: nil) == .completed)
    #expect(ran.count == 1000)
    let s = rt.stats
    #expect(s.completed == UInt64(1000 + workers) && s.dropped == 0 && s.queued == 0)
  }

  @Test("a full local queue spills half into the overflow; every child runs once", arguments: [1, 4])
  func localSpill(workers: Int) {
    // 128 slots (the least: an overflow batch must fit) and 1000 children
    // spawned by one task: its queue fills and spills several times.
    let rt = RuntimeCore.start(Self.config(workers: workers, local: 128))!
    // The other workers blocked, so that none steals the children before
    // the queue fills.
    let gate = Gate()
    let blocked = Counter()
    for _ in 1..<workers { _ = rt.spawn({ blocked.bump(); gate.wait() }) }
    while blocked.count < workers - 1 { sleepMs(1) }
    let ran = Counter()
    let spawned = Gate()
    _ = rt.spawn({
      for _ in 0..<1000 { _ = rt.spawn({ ran.bump() }) }
      spawned.open()
    })
    spawned.wait()
    #expect(rt.inject.overflowed > 0)
    gate.open()
    #expect(rt.shutdown(timeout: nil) == .completed)
    #expect(ran.count == 1000)
    #expect(rt.stats.completed == UInt64(1000 + 1 + workers - 1))
  }

  @Test("the inject ring across the wrap of its 32-bit sequence numbers: every job comes out once")
  func ringSequenceWrap() {
    // 16 slots, starting just below 2^32: the pushes and pops below cross
    // the wrap on every slot, with the ring full (spilling), empty and
    // between, popped one at a time and in batches as workers do.
    let ring = InjectQueue(capacity: 16, firstPosition: (1 << 32) - 40)
    var pushed: UInt = 0
    var payloads = Set<UInt>()
    for round in 0..<30 {
      for _ in 0..<(round % 3 == 0 ? 20 : 7) {
        pushed += 1
        ring.push(Job(code: 7, payload: pushed))
      }
      if round % 2 == 0 {
        while let job = ring.pop() { #expect(payloads.insert(job.payload).inserted) }
      } else {
        while ring.popBatch(max: 8, into: { job in #expect(payloads.insert(job.payload).inserted) }) > 0 {}
        while let job = ring.pop() { #expect(payloads.insert(job.payload).inserted) }
      }
    }
    #expect(payloads.count == Int(pushed))
    #expect(payloads == Set(1...pushed))
    #expect(ring.overflowed > 0)
  }

  @Test("a thread the system refuses: start returns nil, the workers started are stopped and joined")
  func refusedThread() {
    let starts = Counter(), stops = Counter(), attempts = Counter()
    var config = Self.config(workers: 4)
    config.onThreadStart = { starts.bump() }
    config.onThreadStop = { stops.bump() }
    config.startThread = { name, body in
      // The third thread is refused, as pthread_create would be.
      attempts.bumped() == 3 ? nil : OSThread.start(name: name, body)
    }
    #expect(RuntimeCore.start(config) == nil)
    #expect(attempts.count == 3)
    #expect(starts.count == 2)
    #expect(stops.count == 2)
  }
}

extension Counter {
  /// Bumps and returns the new count.
  func bumped() -> Int { value.add(1, ordering: .relaxed).newValue }
}
