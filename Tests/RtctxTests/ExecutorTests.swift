import Synchronization
import Testing

@testable import Rtctx

actor Tally {
  private(set) var count = 0
  private(set) var offRuntime = 0

  func bump(expecting handle: Handle) {
    count += 1
    if Handle.current != handle { offRuntime += 1 }
  }
}

@Suite("Handle as a TaskExecutor")
struct ExecutorTests {
  @Test("10,000 tasks, each awaiting between steps, all finish on the runtime", arguments: [1, 4])
  func manyTasks(workers: Int) async {
    let steps = 5
    await withRuntime(workers: workers) { handle in
      let mismatches = Counter()
      let tasks = (0..<10_000).map { i in
        Task(executorPreference: handle) { () -> Int in
          var sum = 0
          for step in 0..<steps {
            if Handle.current != handle || cCurrent() != cPointer(handle) { mismatches.bump() }
            sum += step
            await Task.yield()
          }
          if Handle.current != handle { mismatches.bump() }
          return i + sum
        }
      }
      var finished = 0
      for (i, task) in tasks.enumerated() where await task.value == i + 10 { finished += 1 }
      #expect(finished == 10_000)
      #expect(mismatches.count == 0)
      #expect(handle.stats.executorFallbacks == 0)
    }
  }

  @Test("withTaskExecutorPreference runs the scope and its children on the runtime", arguments: [1, 4])
  func preferenceScope(workers: Int) async {
    await withRuntime(workers: workers) { handle in
      let onRuntime = await withTaskExecutorPreference(handle) { () async -> Bool in
        var all = Handle.current == handle
        async let child = Handle.current == handle
        all = await child && all
        let children = await withTaskGroup(of: Bool.self) { group in
          for _ in 0..<1_000 {
            group.addTask {
              await Task.yield()
              return Handle.current == handle
            }
          }
          return await group.reduce(true) { $0 && $1 }
        }
        await Task.yield()
        return all && children && Handle.current == handle
      }
      #expect(onRuntime)
    }
  }

  @Test("an actor's methods run on the runtime, and it stays current after", arguments: [1, 4])
  func actorHops(workers: Int) async {
    await withRuntime(workers: workers) { handle in
      let tally = Tally()
      let tasks = (0..<200).map { _ in
        Task(executorPreference: handle) { () -> Bool in
          for _ in 0..<5 { await tally.bump(expecting: handle) }
          return Handle.current == handle
        }
      }
      for task in tasks { #expect(await task.value) }
      #expect(await tally.count == 1_000)
      #expect(await tally.offRuntime == 0)
    }
  }

  @Test("continuations resumed from runtime tasks come back to the runtime", arguments: [1, 4])
  func continuations(workers: Int) async {
    await withRuntime(workers: workers) { handle in
      let ok = await withTaskExecutorPreference(handle) { () async -> Bool in
        var ok = true
        for i in 0..<100 {
          let value = await withCheckedContinuation { continuation in
            try! handle.spawn(after: .microseconds(i % 3)) { continuation.resume(returning: i) }
          }
          ok = ok && value == i && Handle.current == handle
        }
        return ok
      }
      #expect(ok)
    }
  }

  @Test("run makes the handle current across awaits, and in Task {} started inside", arguments: [1, 4])
  func run(workers: Int) async {
    await withRuntime(workers: workers) { handle in
      let seen = await handle.run { () async -> [Handle?] in
        let first = Handle.current
        await Task.yield()
        let unstructured = await Task { Handle.current }.value
        let detached = await Task.detached { Handle.current }.value
        return [first, Handle.current, unstructured, detached]
      }
      #expect(seen == [handle, handle, handle, nil])
      #expect(Handle.current == nil)
    }
  }

  @Test("blockOn waits for async work from synchronous code", arguments: [1, 4])
  func blockOnAsync(workers: Int) throws {
    try withRuntime(workers: workers) { handle in
      let sum = try handle.blockOn { () async -> Int in
        await withTaskGroup(of: Int.self) { group in
          for i in 1...100 {
            group.addTask {
              await Task.yield()
              return Handle.current == handle ? i : 0
            }
          }
          return await group.reduce(0, +)
        }
      }
      #expect(sum == 5050)
      let current = try handle.blockOn { () async -> Handle? in
        await Task.yield()
        return Handle.current
      }
      #expect(current == handle)
      #expect(throws: Oops()) {
        try handle.blockOn { () async throws -> Int in
          await Task.yield()
          throw Oops()
        }
      }
    }
  }

  @Test("blockOn of async work refuses on its own worker, works on another runtime's", arguments: [1, 4])
  func blockOnAsyncOnWorker(workers: Int) throws {
    try withRuntime(workers: workers) { a in
      try withRuntime(workers: 1) { b in
        let outcome = try a.blockOn { () -> Result<Int, RuntimeError> in
          Result { () throws(RuntimeError) -> Int in
            do {
              return try a.blockOn { () async in 1 }
            } catch let error as RuntimeError {
              throw error
            } catch {
              Issue.record("unexpected \(error)")
              return 0
            }
          }
        }
        #expect(outcome == .failure(.wouldDeadlock))
        let across = try a.blockOn { try b.blockOn { () async -> Bool in Handle.current == b } }
        #expect(across)
      }
    }
  }

  @Test("blockOn of async work after shutdown throws shutDown, and runs nothing")
  func blockOnAsyncAfterShutdown() throws {
    let runtime = try Runtime(workers: 1)
    let handle = runtime.handle
    runtime.shutdown()
    let ran = Counter()
    #expect(throws: RuntimeError.shutDown) {
      try handle.blockOn { () async in ran.bump() }
    }
    #expect(ran.count == 0)
    #expect(handle.stats.rejected == 1)
  }

  @Test("jobs accepted each count as a task")
  func jobsCounted() async throws {
    let runtime = try Runtime(workers: 1)
    let handle = runtime.handle
    await Task(executorPreference: handle) {
      for _ in 0..<9 {
        // With one worker, the spawned resume runs only once this job ended,
        // so the task has suspended by then and its resumption is one job.
        await withCheckedContinuation { continuation in
          try! handle.spawn { continuation.resume() }
        }
      }
    }.value
    runtime.shutdown()
    // The first job, then per step the spawn and the resumption. (Not
    // Task.yield: the Swift runtime enqueues a yielding task twice.)
    #expect(handle.stats.spawned == 19)
    #expect(handle.stats.completed == 19)
  }
}
