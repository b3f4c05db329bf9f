/// How a runtime is built. Every field has the default the C API documents.
public struct RuntimeConfig: Sendable {
  /// The most workers a runtime may have.
  public static let maxWorkers = 1024

  /// Worker threads; 0 = one per online CPU.
  public var workers: Int = 0
  /// 0 = unbounded; else spawns are refused with `.queueFull` at this many
  /// queued tasks. Timers, block-on calls and trampolines ignore it.
  public var queueCapacity: Int = 0
  /// Workers are named "<threadName>-<index>" (see `workerName`).
  public var threadName: String = "rt-worker"
  /// Runs on each worker before its first task.
  public var onThreadStart: (@Sendable () -> Void)?
  /// Runs on each worker after its last task.
  public var onThreadStop: (@Sendable () -> Void)?
  /// A job queued behind a task that has run this long (nanoseconds)
  /// becomes runnable on other workers (Monitor.swift); `.max`: never.
  public var strandedAfter: UInt64 = 1_000_000
  /// The most threads beyond the workers: blocking jobs and tasks in a
  /// blocking region (BlockingPool.swift); 0 = 512, as tokio's default.
  public var maxBlockingThreads: Int = 0
  /// An idle blocking thread exits after this long (nanoseconds).
  public var blockingKeepAlive: UInt64 = 10_000_000_000

  static let defaultMaxBlockingThreads = 512

  public init() {}

  var resolvedWorkers: Int { workers == 0 ? onlineCPUs() : workers }
  var resolvedMaxBlockingThreads: Int { maxBlockingThreads == 0 ? Self.defaultMaxBlockingThreads : maxBlockingThreads }

  /// Linux keeps 15 bytes of a thread's name (and a NUL).
  static let threadNameBytes = 15

  /// Worker `index`'s name, "<threadName>-<index>" in at most 15 bytes: the
  /// prefix is cut (on a UTF-8 boundary) rather than the index, so that
  /// workers with a long prefix still tell apart in `top -H` and gdb
  /// ("a-very-long-thread" gives "a-very-long-t-3" and "a-very-long--12").
  func workerName(_ index: Int) -> String { name(suffix: "-\(index)") }

  /// Blocking thread `serial`'s name, "<threadName>-b<serial>", cut as
  /// `workerName` cuts.
  func blockingThreadName(_ serial: Int) -> String { name(suffix: "-b\(serial)") }

  /// The monitor's name, "<threadName>-m".
  var monitorThreadName: String { name(suffix: "-m") }
  /// The thread that finishes a background shutdown (Runtime.swift).
  var reaperThreadName: String { name(suffix: "-r") }

  private func name(suffix: String) -> String {
    let suffix = Array(suffix.utf8)
    let prefix = utf8Prefix(Array(threadName.utf8), maxBytes: Self.threadNameBytes - suffix.count)
    return String(decoding: prefix + suffix, as: UTF8.self)
  }

  // Seams for the tests, which need the rare paths without the volume that
  // reaches them in production. Not settable from C.

  /// Slots of the inject ring and of each worker's local queue (powers of
  /// two; the local queue at least `Worker.overflowBatch`): smaller ones
  /// make a test reach the overflow list and the spill to it with a few
  /// dozen tasks.
  package var injectCapacity = 65536
  package var localCapacity = 1024

  /// How a worker thread is started: a test makes it refuse one.
  package var startThread: ThreadStarter = { name, body in OSThread.start(name: name, body) }
}

/// Starts a thread named `name` running `body`; nil if the system refused.
package typealias ThreadStarter = @Sendable (_ name: String, _ body: @escaping @Sendable () -> Void) -> OSThread?
