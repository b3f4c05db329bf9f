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

  /// What went wrong and what to do about it: the text of `rt_strerror`.
  /// Each names the usual cause first, then the remedy.
  public var message: StaticString {
    switch self {
    case .invalidArgument:
      "invalid argument: a NULL or out-of-range argument, or a misuse rtctx.h names for this call; run with RTCTX_LOG=debug to see which call and why"
    case .outOfMemory:
      "out of memory: an allocation for the call failed; free memory or lower the load"
    case .queueFull:
      "queue is full: queue_capacity tasks are waiting; retry later, or raise rt_config_t.queue_capacity (0 = unbounded)"
    case .wouldDeadlock:
      "would deadlock: the call would wait for the thread making it (rt_shutdown from one of the runtime's own workers, rt_strand_block_on from a job of that strand); make it from another thread"
    case .timedOut:
      "timed out: the timeout elapsed first; a join can be retried, while rt_shutdown_timeout has dropped the tasks still queued"
    case .shutDown:
      "runtime is shut down: rt_shutdown has begun, or the handle outlived rt_shutdown; no new work is accepted, so spawn before shutting down"
    case .cancelled:
      "task was cancelled or dropped and never ran: rt_task_cancel or a shutdown dropped it, and its drop callback ran instead"
    case .busy:
      "task already started, finished or was cancelled: too late to cancel it; join it to wait for it"
    }
  }

  public static let unknownMessage: StaticString = "unknown error"
  public static let successMessage: StaticString = "success"
}
