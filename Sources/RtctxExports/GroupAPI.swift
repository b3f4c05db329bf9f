// rt_group_*: groups of jobs to wait for together (RtctxCore/Tasks/Group.swift).

import CRtctx

@_cdecl("rt_group_new")
public func rt_group_new(_ h: OpaquePointer?) -> OpaquePointer? {
  guard let h else { return DebugLog.null("rt_group_new", "h is NULL") }
  return RuntimeCore.with(h, "rt_group_new", orElse: nil, reporting: .null) { core in
    guard let group = core.makeGroup() else {
      return DebugLog.null("rt_group_new", core.whyRefused(.shutDown))
    }
    if Allocation.failed { return DebugLog.outOfMemory("rt_group_new") }
    return OpaquePointer(Unmanaged.passRetained(group).toOpaque())
  }
}

@_cdecl("rt_group_release")
public func rt_group_release(_ g: OpaquePointer?) {
  guard let g else { return }
  GroupCore.releaseCallerReference(g, "rt_group_release")
}

@_cdecl("rt_group_spawn")
public func rt_group_spawn(
  _ g: OpaquePointer?, _ fn: rt_call_fn?, _ arg: UnsafeMutableRawPointer?, _ drop: rt_drop_fn?
) -> Int32 {
  guard let g else { return RuntimeError.fail(.invalidArgument, in: "rt_group_spawn", "g is NULL") }
  guard let fn else { return RuntimeError.fail(.invalidArgument, in: "rt_group_spawn", "fn is NULL") }
  return GroupCore.with(g, "rt_group_spawn", orElse: Int32(RT_EINVAL)) { group in
    RuntimeError.code(group.spawn(.c(fn, arg, drop)), in: "rt_group_spawn") { group.runtime.whyRefused($0) }
  }
}

@_cdecl("rt_group_strand_spawn")
public func rt_group_strand_spawn(
  _ g: OpaquePointer?, _ s: OpaquePointer?, _ fn: rt_call_fn?, _ arg: UnsafeMutableRawPointer?,
  _ drop: rt_drop_fn?
) -> Int32 {
  guard let g else { return RuntimeError.fail(.invalidArgument, in: "rt_group_strand_spawn", "g is NULL") }
  guard let s else { return RuntimeError.fail(.invalidArgument, in: "rt_group_strand_spawn", "s is NULL") }
  guard let fn else { return RuntimeError.fail(.invalidArgument, in: "rt_group_strand_spawn", "fn is NULL") }
  return GroupCore.with(g, "rt_group_strand_spawn", orElse: Int32(RT_EINVAL)) { group in
    StrandCore.with(s, "rt_group_strand_spawn", orElse: Int32(RT_EINVAL)) { strand in
      RuntimeError.code(group.spawn(.c(fn, arg, drop), on: strand), in: "rt_group_strand_spawn") { error in
        error == .invalidArgument
          ? "s is a strand of another runtime than g's" : group.runtime.whyRefused(error)
      }
    }
  }
}

@_cdecl("rt_group_wait")
public func rt_group_wait(_ g: OpaquePointer?, _ timeoutNs: Int64) -> Int32 {
  guard let g else { return RuntimeError.fail(.invalidArgument, in: "rt_group_wait", "g is NULL") }
  // Deadline.after is nil for a timeout too far to represent: forever.
  let deadline = timeoutNs < 0 ? nil : Deadline.after(nanoseconds: UInt64(timeoutNs))
  return GroupCore.with(g, "rt_group_wait", orElse: Int32(RT_EINVAL)) { group in
    RuntimeError.code(group.wait(deadline: deadline), in: "rt_group_wait") { group.whyRefused($0) }
  }
}

@_cdecl("rt_group_notify")
public func rt_group_notify(_ g: OpaquePointer?, _ fn: rt_fn?, _ arg: UnsafeMutableRawPointer?) -> Int32 {
  notify("rt_group_notify", g, fn, arg, nil)
}

@_cdecl("rt_group_notify_full")
public func rt_group_notify_full(
  _ g: OpaquePointer?, _ fn: rt_fn?, _ arg: UnsafeMutableRawPointer?, _ drop: rt_drop_fn?
) -> Int32 {
  notify("rt_group_notify_full", g, fn, arg, drop)
}

private func notify(
  _ function: StaticString, _ g: OpaquePointer?, _ fn: rt_fn?, _ arg: UnsafeMutableRawPointer?,
  _ drop: rt_drop_fn?
) -> Int32 {
  guard let g else { return RuntimeError.fail(.invalidArgument, in: function, "g is NULL") }
  guard let fn else { return RuntimeError.fail(.invalidArgument, in: function, "fn is NULL") }
  return GroupCore.with(g, function, orElse: Int32(RT_EINVAL)) { group in
    // rt_fn returns nothing where a task's rt_call_fn returns a result: the
    // notification wraps it (a notification is rare, so the closure's
    // allocation does not matter).
    let body = TaskBody.swift(run: { fn(arg); return nil }, drop: drop.map { drop in { drop(arg) } })
    return RuntimeError.code(group.notify(body), in: function) { group.runtime.whyRefused($0) }
  }
}

@_cdecl("rt_group_cancel")
public func rt_group_cancel(_ g: OpaquePointer?) -> Int32 {
  guard let g else { return RuntimeError.fail(.invalidArgument, in: "rt_group_cancel", "g is NULL") }
  return GroupCore.with(g, "rt_group_cancel", orElse: Int32(RT_EINVAL)) { group in
    switch group.cancel() {
    case .success(let n): return Int32(clamping: n)
    case .failure(let error): return RuntimeError.fail(error, in: "rt_group_cancel", group.whyRefused(error))
    }
  }
}

@_cdecl("rt_group_pending")
public func rt_group_pending(_ g: OpaquePointer?) -> Int {
  guard let g else {
    DebugLog.report("rt_group_pending", .zero, "g is NULL")
    return 0
  }
  return GroupCore.with(g, "rt_group_pending", orElse: 0, reporting: .zero) { $0.pending }
}

extension GroupCore {
  /// Why a wait or cancel of this group was refused with `error`, for the
  /// debug log.
  func whyRefused(_ error: RuntimeError) -> String {
    switch error {
    case .shutDown:
      "the group's runtime was inherited by fork(): its workers stayed in the parent process, "
        + "so the group's jobs never run or drop here"
    default:
      "\(error.message)"
    }
  }
}
