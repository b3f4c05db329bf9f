import Synchronization
import Testing

@testable import Rtctx

/// A continuation parked by a task, for the test to resume later.
final class Parked: Sendable {
  private let slot = Mutex<CheckedContinuation<Void, Never>?>(nil)
  private let ready = Gate()

  func park() async {
    await withCheckedContinuation { continuation in
      slot.withLock { $0 = continuation }
      ready.open()
    }
  }

  func resume() {
    ready.wait()
    slot.withLock { $0.take() }!.resume()
  }
}

@Suite("Async work across shutdown")
struct AsyncShutdownTests {
  @Test("async jobs enqueued before shutdown run on the runtime", arguments: [1, 4])
  func enqueuedBeforeRun(workers: Int) async throws {
    let runtime = try Runtime(workers: workers)
    let handle = runtime.handle
    let gate = Gate()
    occupyWorkers(of: handle, count: workers, until: gate)
    // Their first jobs are queued behind the busy workers; the jobs after
    // their awaits are enqueued from workers while the runtime drains.
    let tasks = (0..<100).map { _ in
      Task(executorPreference: handle) { () -> Bool in
        var onRuntime = Handle.current == handle
        for _ in 0..<3 {
          await Task.yield()
          onRuntime = onRuntime && Handle.current == handle
        }
        return onRuntime
      }
    }
    let opener = open(gate, when: { handle.stats.isShutdown })
    runtime.shutdown()
    opener.shutdown()
    for task in tasks { #expect(await task.value) }
    #expect(handle.stats.executorFallbacks == 0)
    #expect(handle.stats.spawned == handle.stats.completed)
  }

  @Test("a job arriving after shutdown runs on the fallback executor, counted", arguments: [1, 4])
  func afterShutdownFallsBack(workers: Int) async throws {
    let runtime = try Runtime(workers: workers)
    let handle = runtime.handle
    let parked = Parked()
    let suspended = Task(executorPreference: handle) { () -> [Handle?] in
      let before = Handle.current
      await parked.park()
      return [before, Handle.current]
    }
    runtime.shutdown()  // the parked task is not in flight: nothing waits for it
    parked.resume()
    #expect(await suspended.value == [handle, nil])
    #expect(handle.stats.executorFallbacks == 1)

    let late = await Task(executorPreference: handle) { Handle.current == nil }.value
    #expect(late)
    #expect(handle.stats.executorFallbacks == 2)
    #expect(handle.stats.rejected == 2)
  }

  @Test("async jobs a shutdown timeout drops run on the fallback executor", arguments: [1, 4])
  func droppedFallBack(workers: Int) async throws {
    let runtime = try Runtime(workers: workers)
    let handle = runtime.handle
    let gate = Gate()
    occupyWorkers(of: handle, count: workers, until: gate)
    let tasks = (0..<20).map { i in
      Task(executorPreference: handle) { () -> Int? in
        Handle.current == nil ? i : nil
      }
    }
    let opener = open(gate, when: { handle.stats.dropped == 20 })
    #expect(runtime.shutdown(timeout: .milliseconds(5)) == false)
    opener.shutdown()
    for (i, task) in tasks.enumerated() { #expect(await task.value == i) }
    let stats = handle.stats
    // Each task's only job was dropped, and ran on the fallback.
    #expect(stats.dropped == 20)
    #expect(stats.executorFallbacks == 20)
  }
}
