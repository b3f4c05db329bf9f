import RtctxCore

/// The one error domain of rtctx, shared with the C API: each case is a
/// negative `RT_E*` code of `include/rtctx.h` (`rawValue`), with its C name
/// (`name`) and the text `rt_strerror` gives (`message`).
///
/// | case | C code | from Swift |
/// |---|---|---|
/// | `.invalidArgument` | `RT_EINVAL` | a bad `Runtime` configuration |
/// | `.outOfMemory` | `RT_ENOMEM` | the system refused a worker thread |
/// | `.queueFull` | `RT_EAGAIN` | `spawn` or `task` with `queueCapacity` reached |
/// | `.wouldDeadlock` | `RT_EDEADLK` | `blockOn` of async work on this runtime's worker |
/// | `.timedOut` | `RT_ETIMEDOUT` | `JoinHandle.value(timeout:)` |
/// | `.shutDown` | `RT_ESHUTDOWN` | spawning or waiting after shutdown began |
/// | `.cancelled` | `RT_ECANCELED` | the task was cancelled or dropped and never ran |
/// | `.busy` | `RT_EBUSY` | (C only: `rt_task_cancel` too late; Swift's `cancel()` returns false) |
public typealias RuntimeError = RtctxCore.RuntimeError

extension Duration {
  /// Whole nanoseconds, negative durations as 0, saturating at `UInt64.max`.
  var saturatingNanoseconds: UInt64 {
    let (seconds, attoseconds) = components
    if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return 0 }
    let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
    if overflow { return .max }
    let (total, overflow2) = whole.addingReportingOverflow(UInt64(attoseconds / 1_000_000_000))
    return overflow2 ? .max : total
  }
}
