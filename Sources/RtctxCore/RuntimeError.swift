/// The one error domain of rtctx. Raw values are the negative C codes of
/// `include/rtctx.h`; this table is also the source of `rt_strerror`.
public enum RuntimeError: Int32, Error, CaseIterable, Sendable {
  case invalidArgument = -22
  case outOfMemory = -12
  case queueFull = -11
  case wouldDeadlock = -35
  case timedOut = -110
  case shutDown = -108
  case cancelled = -125
  case busy = -16

  /// The C name of the code, e.g. "RT_EINVAL".
  public var name: String {
    switch self {
    case .invalidArgument: "RT_EINVAL"
    case .outOfMemory: "RT_ENOMEM"
    case .queueFull: "RT_EAGAIN"
    case .wouldDeadlock: "RT_EDEADLK"
    case .timedOut: "RT_ETIMEDOUT"
    case .shutDown: "RT_ESHUTDOWN"
    case .cancelled: "RT_ECANCELED"
    case .busy: "RT_EBUSY"
    }
  }

  /// What went wrong and what to do about it.
  public var message: StaticString {
    switch self {
    case .invalidArgument: "invalid argument: a NULL or out-of-range argument, or a misuse the API names"
    case .outOfMemory: "out of memory"
    case .queueFull: "queue is full: the runtime's queue_capacity is reached; retry later"
    case .wouldDeadlock: "would deadlock: the call would wait on the thread making it (e.g. shutdown from a worker)"
    case .timedOut: "timed out: the timeout elapsed first"
    case .shutDown: "runtime is shut down: it is shutting down, or the handle outlived rt_shutdown"
    case .cancelled: "task was cancelled or dropped and never ran"
    case .busy: "task already started, finished or was cancelled"
    }
  }

  public static let unknownMessage: StaticString = "unknown error"
  public static let successMessage: StaticString = "success"
}
