import Glibc
import Synchronization
import Testing

@testable import Rtctx

@Suite("RepeatingTimer")
struct RepeatingTimerTests {
  @Test("fires on its period until stopped from its own body", arguments: [1, 4])
  func firesUntilStopped(workers: Int) throws {
    let runtime = try Runtime(workers: workers)
    defer { runtime.shutdown() }
    let count = Counter()
    let stopped = Counter()
    let box = TimerBox()
    let timer = try runtime.handle.repeatingTimer {
      count.bump()
      if count.count == 20 {
        box.timer?.stop()
        stopped.bump()
      }
    }
    box.timer = timer
    try timer.start(after: .zero, every: .microseconds(500))
    // Until the 20th body has stopped the timer, not just counted: on a
    // loaded machine its thread may be preempted in between for a while.
    while stopped.count < 1 { usleep(1000) }
    usleep(5000)
    #expect(count.count == 20)
    #expect(timer.dueIn == nil)
    #expect(timer.fired == 20)
    box.timer = nil
  }

  @Test("again needs a period; a one-shot fires once")
  func oneShot() throws {
    let runtime = try Runtime(workers: 2)
    defer { runtime.shutdown() }
    let count = Counter()
    let timer = try runtime.handle.repeatingTimer { count.bump() }
    #expect(throws: RuntimeError.invalidArgument) { try timer.again() }
    try timer.start(after: .milliseconds(1))
    while count.count < 1 { usleep(1000) }
    usleep(5000)
    #expect(count.count == 1)
  }

  @Test("shutdownBackground returns while a task is blocked; queued work is dropped")
  func shutdownBackground() throws {
    let runtime = try Runtime(workers: 1)
    let release = Atomic<Bool>(false)
    let started = Counter(), ran = Counter()
    try runtime.handle.spawn {
      started.bump()
      while !release.load(ordering: .acquiring) { usleep(1000) }
    }
    while started.count == 0 { usleep(1000) }
    for _ in 0..<10 { try runtime.handle.spawn { ran.bump() } }
    try runtime.shutdownBackground()
    #expect(throws: RuntimeError.shutDown) { try runtime.handle.spawn {} }
    #expect(runtime.handle.stats.isShutdown)
    release.store(true, ordering: .releasing)
    #expect(ran.count == 0)
    runtime.shutdown()  // already shut down: returns at once
  }
}

/// Lets a timer's body reach the timer (set after it was made).
private final class TimerBox: @unchecked Sendable {
  var timer: RepeatingTimer?
}
