// The three Swift systems, each through its ordinary public API. Every
// variant is written out as its own loop, so that a row measures that API
// and nothing of the harness.

import Dispatch
import NIOCore
import NIOPosix
import Rtctx

struct Variant: Sendable {
  let label: String
  /// For the chart's x axis.
  let short: String
  let inline: Bool
  init(_ label: String, short: String, inline: Bool = false) {
    self.label = label
    self.short = short
    self.inline = inline
  }
}

/// What `bench-swift SYSTEM list` prints, known without starting anything.
struct Description: Sendable {
  let name: String
  let api: String
  let version: @Sendable () -> String
  let w1: [Variant]
  let w3: [Variant]
  let w4: [Variant]
  let make: @Sendable (_ workers: Int) -> any BenchSystem
}

protocol BenchSystem {
  /// Threads that run the jobs.
  var workers: Int { get }
  /// W1: posts `n` jobs (`countTask`) from this thread, which is no task.
  func post(variant: Int, count n: Int)
  /// W3: runs `countTask` on the system once and waits here until it ran.
  func roundTrip(variant: Int)
  /// W4: posts one job that posts `n` children (`countTask`) from the system.
  func fanOut(variant: Int, children n: Int)
  /// Waits for queued work and stops the threads (where the API has it).
  func shutdown()
}

let systems: [Description] = [rtctxDescription, globalDescription, nioDescription]

// ---- rtctx: the Swift API (module Rtctx) ----------------------------------

let rtctxDescription = Description(
  name: "swift-rtctx",
  api: "module Rtctx: Runtime(workers: 2); Task(executorPreference: handle) per job, "
    + "or handle.spawn { }; handle.blockOn { } (sync and async body)",
  version: {
    let h = readFile(packageDir + "/../../include/rtctx.h") ?? ""
    func part(_ p: String) -> String {
      guard let r = h.firstRange(of: "#define RTCTX_VERSION_\(p) ") else { return "?" }
      return String(h[r.upperBound...].prefix { $0.isNumber })
    }
    return "\(part("MAJOR")).\(part("MINOR")).\(part("PATCH")) (Swift API)"
  },
  w1: [Variant("Task(executorPreference: handle)", short: "rtctx Task"),
       Variant("handle.spawn", short: "rtctx spawn")],
  w3: [Variant("handle.blockOn { } (sync)", short: "rtctx blockOn"),
       Variant("handle.blockOn { () async in } (async)", short: "rtctx blockOn async")],
  w4: [Variant("Task(executorPreference: handle) children", short: "rtctx Task"),
       Variant("handle.spawn children", short: "rtctx spawn")],
  make: { RtctxSystem(workers: $0) })

final class RtctxSystem: BenchSystem {
  let runtime: Runtime
  let handle: Handle
  let workers: Int

  init(workers: Int) {
    do {
      runtime = try Runtime(workers: workers, threadName: "bench")
    } catch {
      die("Runtime(workers: \(workers)): \(error)")
    }
    handle = runtime.handle
    self.workers = workers
  }

  func post(variant: Int, count n: Int) {
    let handle = self.handle
    if variant == 0 {
      for _ in 0..<n { Task(executorPreference: handle) { countTask() } }
    } else {
      do {
        for _ in 0..<n { try handle.spawn { countTask() } }
      } catch {
        die("handle.spawn: \(error)")
      }
    }
  }

  func roundTrip(variant: Int) {
    do {
      if variant == 0 {
        try handle.blockOn { countTask() }
      } else {
        try handle.blockOn { () async in countTask() }
      }
    } catch {
      die("handle.blockOn: \(error)")
    }
  }

  func fanOut(variant: Int, children n: Int) {
    let handle = self.handle
    if variant == 0 {
      Task(executorPreference: handle) {
        for _ in 0..<n { Task(executorPreference: handle) { countTask() } }
      }
    } else {
      do {
        try handle.spawn {
          do {
            for _ in 0..<n { try handle.spawn { countTask() } }
          } catch {
            die("handle.spawn from a task: \(error)")
          }
        }
      } catch {
        die("handle.spawn: \(error)")
      }
    }
  }

  func shutdown() { runtime.shutdown() }
}

// ---- Swift's default global concurrent executor ---------------------------

let globalDescription = Description(
  name: "swift-global",
  api: "Task { } on the default global concurrent executor (one thread per CPU); "
    + "round trip Task { } + DispatchSemaphore",
  version: { "" },
  w1: [Variant("Task { }", short: "global Task")],
  w3: [Variant("Task { } + DispatchSemaphore", short: "global Task+sem")],
  w4: [Variant("Task { } children", short: "global Task")],
  make: { _ in GlobalSystem() })

final class GlobalSystem: BenchSystem {
  /// The global executor's width is the CPU count; it cannot be set.
  let workers = onlineCPUs()
  let sem = DispatchSemaphore(value: 0)

  func post(variant: Int, count n: Int) {
    for _ in 0..<n { Task { countTask() } }
  }

  func roundTrip(variant: Int) {
    let sem = self.sem
    Task {
      countTask()
      sem.signal()
    }
    sem.wait()
  }

  func fanOut(variant: Int, children n: Int) {
    Task {
      for _ in 0..<n { Task { countTask() } }
    }
  }

  func shutdown() {}
}

// ---- SwiftNIO: MultiThreadedEventLoopGroup ----------------------------------

let nioDescription = Description(
  name: "swift-nio",
  api: "MultiThreadedEventLoopGroup(numberOfThreads: 2): eventLoop.execute { }; "
    + "round trip eventLoop.submit { }.wait()",
  version: {
    // The version SwiftPM resolved, from bench/swift/Package.resolved.
    guard let s = readFile(packageDir + "/Package.resolved"),
      let r = s.firstRange(of: "\"identity\" : \"swift-nio\""),
      let v = s[r.upperBound...].firstRange(of: "\"version\" : \"")
    else { return "swift-nio" }
    return "swift-nio " + s[v.upperBound...].prefix { $0 != "\"" }
  },
  w1: [Variant("group.next().execute (round robin)", short: "nio next()"),
       Variant("loop.execute (one loop)", short: "nio one loop")],
  w3: [Variant("loop.submit { }.wait()", short: "nio submit.wait")],
  w4: [Variant("loop.execute onto its own loop", short: "nio own loop"),
       Variant("group.next().execute (round robin)", short: "nio next()")],
  make: { NIOSystem(workers: $0) })

final class NIOSystem: BenchSystem {
  let group: MultiThreadedEventLoopGroup
  let loop: any EventLoop
  let workers: Int

  init(workers: Int) {
    group = MultiThreadedEventLoopGroup(numberOfThreads: workers)
    loop = group.next()
    self.workers = workers
  }

  func post(variant: Int, count n: Int) {
    if variant == 0 {
      let group = self.group
      for _ in 0..<n { group.next().execute { countTask() } }
    } else {
      let loop = self.loop
      for _ in 0..<n { loop.execute { countTask() } }
    }
  }

  func roundTrip(variant: Int) {
    do {
      try loop.submit { countTask() }.wait()
    } catch {
      die("submit: \(error)")
    }
  }

  func fanOut(variant: Int, children n: Int) {
    let loop = self.loop
    if variant == 0 {
      loop.execute {
        for _ in 0..<n { loop.execute { countTask() } }
      }
    } else {
      let group = self.group
      loop.execute {
        for _ in 0..<n { group.next().execute { countTask() } }
      }
    }
  }

  func shutdown() {
    do {
      try group.syncShutdownGracefully()
    } catch {
      die("syncShutdownGracefully: \(error)")
    }
  }
}
