import Glibc
import RtctxCore
import Synchronization
import Testing

@testable import Rtctx

/// Starts a runtime with `workers` workers, runs `body` with its handle,
/// shuts it down, and checks that the shutdown accounted for every task.
func withRuntime<R>(
  workers: Int, queueCapacity: Int = 0, _ body: (Handle) throws -> R
) rethrows -> R {
  let runtime = try! Runtime(workers: workers, queueCapacity: queueCapacity)
  defer { finish(runtime) }
  return try body(runtime.handle)
}

/// The async form of `withRuntime`. The shutdown blocks the calling thread
/// only as long as the runtime takes to drain.
func withRuntime<R>(
  workers: Int, _ body: (Handle) async throws -> R
) async rethrows -> R {
  let runtime = try! Runtime(workers: workers)
  defer { finish(runtime) }
  return try await body(runtime.handle)
}

private func finish(_ runtime: Runtime) {
  runtime.shutdown()
  let stats = runtime.handle.stats
  #expect(stats.isShutdown)
  #expect(stats.spawned == stats.completed + stats.dropped)
  #expect(stats.queued == 0 && stats.timers == 0)
}

final class Counter: Sendable {
  private let value = Atomic<Int>(0)
  func bump() { value.add(1, ordering: .relaxed) }
  var count: Int { value.load(ordering: .acquiring) }
}

/// A one-shot gate tasks can wait on, to keep workers busy on purpose.
typealias Gate = OneShotEvent

extension OneShotEvent {
  func open() { signal() }
}

/// Keeps every worker of `handle` busy until `gate` opens, so that work
/// queued meanwhile stays queued. Returns once all of them are waiting.
func occupyWorkers(of handle: Handle, count: Int, until gate: Gate) {
  let waiting = Counter()
  // One at a time, so that a bounded queue never holds more than one.
  for started in 1...count {
    try! handle.spawn {
      waiting.bump()
      gate.wait()
    }
    while waiting.count < started { spinBriefly() }
  }
}

/// Opens `gate` once `condition` holds, from a runtime of its own: the
/// thread that would open it is about to block (e.g. in a shutdown).
/// Shut the returned runtime down when done.
func open(_ gate: Gate, when condition: @escaping @Sendable () -> Bool) -> Runtime {
  let opener = try! Runtime(workers: 1, threadName: "test-opener")
  try! opener.handle.spawn {
    while !condition() { spinBriefly() }
    gate.open()
  }
  return opener
}

func spinBriefly() {
  // A short blocking sleep; tests never assert on time.
  var ts = timespec(tv_sec: 0, tv_nsec: 200_000)
  nanosleep(&ts, nil)
}
