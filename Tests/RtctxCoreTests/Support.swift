import Glibc
import Synchronization
@testable import RtctxCore

/// Starts a runtime with `workers` workers, runs `body`, and shuts it down,
/// checking that the shutdown drained everything.
func withRuntime(
  workers: Int, queueCapacity: Int = 0, _ body: (RuntimeCore) throws -> Void
) rethrows {
  var config = RuntimeConfig()
  config.workers = workers
  config.queueCapacity = queueCapacity
  let runtime = RuntimeCore.start(config)!
  defer { _ = runtime.shutdown(timeout: nil) }
  try body(runtime)
}

/// A Swift closure as a task body.
func body(_ run: @escaping @Sendable () -> Void) -> TaskBody {
  .swift(run: { run(); return nil }, drop: nil)
}

final class Counter: Sendable {
  let value = Atomic<Int>(0)
  func bump() { value.add(1, ordering: .relaxed) }
  var count: Int { value.load(ordering: .acquiring) }
}

/// A one-shot gate a task can wait on (keeps a worker busy on purpose).
final class Gate: Sendable {
  private let word = FutexWord()
  func open() {
    word.atomic.pointee.store(1, ordering: .releasing)
    word.wakeAll()
  }
  func wait() {
    while word.atomic.pointee.load(ordering: .acquiring) == 0 { word.wait(whileEqualTo: 0) }
  }
}

func sleepMs(_ ms: Int) { usleep(UInt32(ms * 1000)) }
