/// How a runtime is built. Every field has the default the C API documents.
public struct RuntimeConfig: Sendable {
  /// The most workers a runtime may have.
  public static let maxWorkers = 1024

  /// Worker threads; 0 = one per online CPU.
  public var workers: Int = 0
  /// 0 = unbounded; else spawns are refused with `.queueFull` at this many
  /// queued tasks. Timers, block-on calls and trampolines ignore it.
  public var queueCapacity: Int = 0
  /// Workers are named "<threadName>-<index>".
  public var threadName: String = "rt-worker"
  /// Runs on each worker before its first task.
  public var onThreadStart: (@Sendable () -> Void)?
  /// Runs on each worker after its last task.
  public var onThreadStop: (@Sendable () -> Void)?

  public init() {}

  var resolvedWorkers: Int { workers == 0 ? onlineCPUs() : workers }
}
