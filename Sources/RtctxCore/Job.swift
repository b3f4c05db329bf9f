/// C function types the core runs. They are the types `include/rtctx.h`
/// declares, so the export layer passes C pointers through unchanged.
public typealias CTaskFn = @convention(c) (UnsafeMutableRawPointer?) -> Void
public typealias CCallFn = @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer?
public typealias CDropFn = @convention(c) (UnsafeMutableRawPointer?) -> Void

/// One unit of work in a run queue or the timer heap.
///
/// Plain spawns carry their function and argument by value, so `rt_spawn`
/// allocates nothing of its own; only work that can be joined, cancelled
/// or waited for carries a `TaskCell`.
enum Job: @unchecked Sendable {
  /// `rt_spawn`: no result, no drop, no join handle.
  case fn(CTaskFn, UnsafeMutableRawPointer?)
  /// `rt_spawn_full` / `rt_spawn_after` without a join handle.
  case call(CCallFn, UnsafeMutableRawPointer?, CDropFn?)
  /// Anything that can be joined, cancelled or waited for.
  case task(TaskCell)
}

/// What a task does when run, and what it does instead when dropped.
public enum TaskBody: @unchecked Sendable {
  case c(CCallFn, UnsafeMutableRawPointer?, CDropFn?)
  case swift(run: () -> UnsafeMutableRawPointer?, drop: (() -> Void)?)

  func run() -> UnsafeMutableRawPointer? {
    switch self {
    case .c(let fn, let arg, _): fn(arg)
    case .swift(let run, _): run()
    }
  }

  func drop() {
    switch self {
    case .c(_, let arg, let drop): drop?(arg)
    case .swift(_, let drop): drop?()
    }
  }
}
