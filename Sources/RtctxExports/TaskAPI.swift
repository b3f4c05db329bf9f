// rt_spawn*, rt_block_on and the join handle functions.

import CRtctx

@_cdecl("rt_spawn")
public func rt_spawn(_ h: OpaquePointer?, _ fn: rt_fn?, _ arg: UnsafeMutableRawPointer?) -> Int32 {
  guard let h else { return RuntimeError.fail(.invalidArgument, in: "rt_spawn", "h is NULL") }
  guard let fn else { return RuntimeError.fail(.invalidArgument, in: "rt_spawn", "fn is NULL") }
  return RuntimeCore.with(h, "rt_spawn", orElse: Int32(RT_EINVAL)) { core in
    RuntimeError.code(core.spawn(fn, arg), in: "rt_spawn") { core.whyRefused($0) }
  }
}

@_cdecl("rt_spawn_full")
public func rt_spawn_full(
  _ h: OpaquePointer?, _ fn: rt_call_fn?, _ arg: UnsafeMutableRawPointer?, _ drop: rt_drop_fn?,
  _ taskOut: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
  spawn("rt_spawn_full", h, delay: nil, fn, arg, drop, taskOut)
}

@_cdecl("rt_spawn_after")
public func rt_spawn_after(
  _ h: OpaquePointer?, _ delayNs: UInt64, _ fn: rt_call_fn?, _ arg: UnsafeMutableRawPointer?,
  _ drop: rt_drop_fn?, _ taskOut: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
  spawn("rt_spawn_after", h, delay: delayNs, fn, arg, drop, taskOut)
}

/// rt_spawn_full (`delay` nil) and rt_spawn_after, as the C function
/// `function`.
@inline(__always)
private func spawn(
  _ function: StaticString, _ h: OpaquePointer?, delay: UInt64?, _ fn: rt_call_fn?,
  _ arg: UnsafeMutableRawPointer?, _ drop: rt_drop_fn?, _ taskOut: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
  guard let h else { return RuntimeError.fail(.invalidArgument, in: function, "h is NULL") }
  guard let fn else { return RuntimeError.fail(.invalidArgument, in: function, "fn is NULL") }
  return RuntimeCore.with(h, function, orElse: Int32(RT_EINVAL)) { core in
    spawnCode(core.spawn(.c(fn, arg, drop), after: delay, joinable: taskOut != nil), taskOut, in: function) {
      core.whyRefused($0)
    }
  }
}

@_cdecl("rt_block_on")
public func rt_block_on(
  _ h: OpaquePointer?, _ fn: rt_call_fn?, _ arg: UnsafeMutableRawPointer?,
  _ result: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
) -> Int32 {
  guard let h else { return RuntimeError.fail(.invalidArgument, in: "rt_block_on", "h is NULL") }
  guard let fn else { return RuntimeError.fail(.invalidArgument, in: "rt_block_on", "fn is NULL") }
  return RuntimeCore.with(h, "rt_block_on", orElse: Int32(RT_EINVAL)) { core in
    let outcome = core.blockOn(.c(fn, arg, nil))
    if case .success(let value) = outcome { result?.pointee = value }
    return RuntimeError.code(outcome, in: "rt_block_on") { core.whyRefused($0) }
  }
}

@_cdecl("rt_task_join")
public func rt_task_join(
  _ t: OpaquePointer?, _ timeoutNs: Int64, _ result: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
) -> Int32 {
  guard let t else { return RuntimeError.fail(.invalidArgument, in: "rt_task_join", "t is NULL") }
  let deadline = timeoutNs < 0 ? nil : Deadline.after(nanoseconds: UInt64(timeoutNs))
  return TaskCell.with(t, "rt_task_join", orElse: Int32(RT_EINVAL)) { cell in
    let outcome = cell.join(deadline: deadline)
    if case .success(let value) = outcome { result?.pointee = value }
    return RuntimeError.code(outcome, in: "rt_task_join", TaskCell.whyRefused)
  }
}

@_cdecl("rt_task_cancel")
public func rt_task_cancel(_ t: OpaquePointer?) -> Int32 {
  guard let t else { return RuntimeError.fail(.invalidArgument, in: "rt_task_cancel", "t is NULL") }
  return TaskCell.with(t, "rt_task_cancel", orElse: Int32(RT_EINVAL)) {
    RuntimeError.code($0.cancel(), in: "rt_task_cancel", TaskCell.whyRefused)
  }
}

@_cdecl("rt_task_is_finished")
public func rt_task_is_finished(_ t: OpaquePointer?) -> Bool {
  guard let t else {
    DebugLog.report("rt_task_is_finished", .false, "t is NULL")
    return false
  }
  return TaskCell.with(t, "rt_task_is_finished", orElse: false, reporting: .false) { $0.isDone }
}

@_cdecl("rt_task_release")
public func rt_task_release(_ t: OpaquePointer?) {
  guard let t, TaskCell.isLive(t, "rt_task_release") else { return }
  Unmanaged<TaskCell>.fromOpaque(UnsafeRawPointer(t)).release()
}

/// The C code of a spawn that may hand out a join handle: on success the
/// caller's new reference to the cell goes to `*taskOut`; a failure is
/// reported as one of `function`.
@inline(__always)
func spawnCode(
  _ result: Result<TaskCell?, RuntimeError>, _ taskOut: UnsafeMutablePointer<OpaquePointer?>?,
  in function: StaticString, _ reason: (RuntimeError) -> String
) -> Int32 {
  if case .success(let cell?) = result {
    taskOut?.pointee = OpaquePointer(Unmanaged.passRetained(cell).toOpaque())
  }
  return RuntimeError.code(result, in: function, reason)
}

extension RuntimeCore {
  /// Why this runtime refused work with `error`, for the debug log.
  func whyRefused(_ error: RuntimeError) -> String {
    switch error {
    case .shutDown where isInheritedByFork:
      "the runtime was inherited by fork(): its workers stayed in the parent process; create a new runtime in the child"
    case .shutDown where isCurrentWorker:
      "the runtime's shutdown takes no more work, even from its own tasks: its timeout elapsed, "
        + "or its workers are stopping"
    case .shutDown:
      "the runtime is shut down or shutting down (rt_shutdown* was called), and the caller is not one of its tasks"
    default:
      "\(error.message)"
    }
  }
}

extension TaskCell {
  /// Why a join or cancel of this task was refused with `error`, for the
  /// debug log.
  static func whyRefused(_ error: RuntimeError) -> String {
    switch error {
    case .shutDown:
      // The core refuses a task with RT_ESHUTDOWN only in a forked child.
      "the task's runtime was inherited by fork(): its workers stayed in the parent process, "
        + "so the task never runs here"
    case .wouldDeadlock:
      "the calling thread is running this task, further down its stack: it would wait for itself"
    default:
      "\(error.message)"
    }
  }
}
