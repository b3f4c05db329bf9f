// Swift and C on one runtime, both ways:
//
//   synchronous main ──blockOn──► async Swift on the runtime's workers
//        async Swift ──calls────► a C library (legacy_sum_async)
//          C library ──rt_handle_current() + rt_spawn──► back onto the runtime
//          C callback ──resumes──► the awaiting Swift task, on the runtime
//
// Run: swift run SwiftBridge

import CBridgeLegacy
import Rtctx

/// The C callback API as an async function. The continuation travels
/// through C's `void *user` as a retained box.
func legacySum(_ n: Int) async throws -> Int {
  final class Box: @unchecked Sendable {
    let continuation: CheckedContinuation<Int, any Error>
    init(_ continuation: CheckedContinuation<Int, any Error>) { self.continuation = continuation }
  }
  return try await withCheckedThrowingContinuation { continuation in
    let user = Unmanaged.passRetained(Box(continuation)).toOpaque()
    let rc = legacy_sum_async(n, { sum, user in
      // On a worker: C found the runtime through rt_handle_current().
      Unmanaged<Box>.fromOpaque(user!).takeRetainedValue().continuation.resume(returning: sum)
    }, user)
    if rc != 0 {
      // Refused: C will never call back, so the box is still ours.
      Unmanaged<Box>.fromOpaque(user).release()
      continuation.resume(throwing: RuntimeError(rawValue: rc) ?? .invalidArgument)
    }
  }
}

let runtime = try Runtime(workers: 2, threadName: "bridge")
let handle = runtime.handle

// Outside any runtime, the C library has nothing to run on.
do {
  _ = try await legacySum(10)
} catch let error as RuntimeError {
  print("outside a runtime, C says: \(error.name)")
}

// Synchronous code waits for async work running on the runtime.
let (total, stayed) = try handle.blockOn { () async throws -> (Int, Bool) in
  try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
    for n in [10, 100, 1_000] {
      group.addTask {
        let sum = try await legacySum(n)
        // Back from C and an await: still on the runtime.
        return (sum, Handle.current == handle)
      }
    }
    return try await group.reduce((0, true)) { ($0.0 + $1.0, $0.1 && $1.1) }
  }
}
print("sum of the sums: \(total)")
print("Handle.current held after every await: \(stayed)")

runtime.shutdown()
let stats = handle.stats
print("runtime shut down: \(stats.completed) tasks ran, \(stats.executorFallbacks) fell back")
