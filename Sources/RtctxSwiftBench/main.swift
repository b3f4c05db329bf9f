// Micro-benchmarks of the Swift API (not part of `make bench`, which owns
// the comparison with the peers). Run in release:
//
//   swift run -c release RtctxSwiftBench [workers]
//
// Each line is the median of 5 rounds, in nanoseconds per operation.

import Rtctx
import Synchronization

let workers = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 0
let runtime = try Runtime(workers: workers, threadName: "bench")
let handle = runtime.handle
let clock = ContinuousClock()

final class Countdown: Sendable {
  let left: Atomic<Int>
  init(_ n: Int) { left = Atomic(n) }
  func tick() { left.subtract(1, ordering: .releasing) }
  var done: Bool { left.load(ordering: .acquiring) == 0 }
}

/// Median over 5 rounds of `body(n)`, per operation.
func measure(_ name: String, ops n: Int, _ body: (Int) async throws -> Void) async rethrows {
  var perOp: [Double] = []
  for _ in 0..<5 {
    let elapsed = try await clock.measure { try await body(n) }
    let (s, atto) = elapsed.components
    perOp.append((Double(s) * 1e9 + Double(atto) / 1e9) / Double(n))
  }
  perOp.sort()
  let median = perOp[perOp.count / 2]
  let padded = name + String(repeating: " ", count: max(1, 46 - name.count))
  print("\(padded)\(Int(median.rounded())) ns/op")
}

print("rtctx Swift API, \(handle.stats.workers) workers")

await measure("spawn closure, until all ran", ops: 200_000) { n in
  let countdown = Countdown(n)
  for _ in 0..<n { try! handle.spawn { countdown.tick() } }
  while !countdown.done {}
}

await measure("task + value", ops: 50_000) { n in
  for i in 0..<n { _ = try! handle.task { i }.value }
}

await measure("blockOn (sync body), round trip", ops: 50_000) { n in
  for i in 0..<n { _ = try! handle.blockOn { i } }
}

await measure("blockOn (async body), round trip", ops: 20_000) { n in
  for i in 0..<n { _ = try! handle.blockOn { () async in i } }
}

await measure("Task(executorPreference:) start to end", ops: 50_000) { n in
  let tasks = (0..<n).map { i in Task(executorPreference: handle) { i } }
  for task in tasks { _ = await task.value }
}

await measure("executor job (task resumed by a spawn)", ops: 50_000) { n in
  await withTaskExecutorPreference(handle) {
    for _ in 0..<n {
      await withCheckedContinuation { continuation in
        try! handle.spawn { continuation.resume() }
      }
    }
  }
}

runtime.shutdown()
