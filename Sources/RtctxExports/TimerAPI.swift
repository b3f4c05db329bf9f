// rt_timer_*: repeating timers (RtctxCore/Tasks/RepeatingTimer.swift).

import CRtctx

@_cdecl("rt_timer_new")
public func rt_timer_new(
  _ h: OpaquePointer?, _ fn: rt_fn?, _ arg: UnsafeMutableRawPointer?, _ drop: rt_drop_fn?
) -> OpaquePointer? {
  let name: StaticString = "rt_timer_new"
  guard let h else { return DebugLog.null(name, "h is NULL") }
  guard let fn else { return DebugLog.null(name, "fn is NULL") }
  return RuntimeCore.with(h, name, orElse: nil, reporting: .null) { core in
    guard let timer = RepeatingTimer.make(on: core, fn, arg, drop: drop) else {
      return DebugLog.null(name, core.whyRefused(.shutDown))
    }
    // Refused before the caller owns it: never armed, so its deinit leaves
    // `arg` alone (`Allocation`).
    if Allocation.failed { return DebugLog.outOfMemory(name) }
    return OpaquePointer(Unmanaged.passRetained(timer).toOpaque())
  }
}

@_cdecl("rt_timer_start")
public func rt_timer_start(_ t: OpaquePointer?, _ firstNs: UInt64, _ periodNs: UInt64) -> Int32 {
  guard let t else { return RuntimeError.fail(.invalidArgument, in: "rt_timer_start", "t is NULL") }
  return RepeatingTimer.with(t, "rt_timer_start", orElse: Int32(RT_EINVAL)) { timer in
    RuntimeError.code(timer.start(first: firstNs, period: periodNs), in: "rt_timer_start") {
      timer.runtime.whyRefused($0)
    }
  }
}

@_cdecl("rt_timer_again")
public func rt_timer_again(_ t: OpaquePointer?) -> Int32 {
  guard let t else { return RuntimeError.fail(.invalidArgument, in: "rt_timer_again", "t is NULL") }
  return RepeatingTimer.with(t, "rt_timer_again", orElse: Int32(RT_EINVAL)) { timer in
    RuntimeError.code(timer.again(), in: "rt_timer_again") { error in
      error == .invalidArgument
        ? "the timer has no period: start it with rt_timer_start and a period_ns above 0 first"
        : timer.runtime.whyRefused(error)
    }
  }
}

@_cdecl("rt_timer_stop")
public func rt_timer_stop(_ t: OpaquePointer?) -> Int32 {
  guard let t else { return RuntimeError.fail(.invalidArgument, in: "rt_timer_stop", "t is NULL") }
  // RT_EBUSY is an outcome, not a failure: no debug log line.
  return RepeatingTimer.with(t, "rt_timer_stop", orElse: Int32(RT_EINVAL)) { $0.stop() ? Int32(RT_EBUSY) : Int32(RT_OK) }
}

@_cdecl("rt_timer_due_in")
public func rt_timer_due_in(_ t: OpaquePointer?, _ nsOut: UnsafeMutablePointer<UInt64>?) -> Int32 {
  guard let t else { return RuntimeError.fail(.invalidArgument, in: "rt_timer_due_in", "t is NULL") }
  guard let nsOut else { return RuntimeError.fail(.invalidArgument, in: "rt_timer_due_in", "ns_out is NULL") }
  return RepeatingTimer.with(t, "rt_timer_due_in", orElse: Int32(RT_EINVAL)) { timer in
    guard let due = timer.dueIn() else {
      nsOut.pointee = 0
      return Int32(RT_ECANCELED)
    }
    nsOut.pointee = due
    return Int32(RT_OK)
  }
}

@_cdecl("rt_timer_get_info")
public func rt_timer_get_info(_ t: OpaquePointer?, _ out: UnsafeMutablePointer<rt_timer_info_t>?) -> Int32 {
  guard let t else { return RuntimeError.fail(.invalidArgument, in: "rt_timer_get_info", "t is NULL") }
  guard let out else { return RuntimeError.fail(.invalidArgument, in: "rt_timer_get_info", "out is NULL") }
  let size = out.pointee.size
  guard isVersionedSize(size, of: rt_timer_info_t.self) else {
    return RuntimeError.fail(
      .invalidArgument, in: "rt_timer_get_info", whyBadSize("out->size", size, "rt_timer_info_t", rt_timer_info_t.self))
  }
  guard let i = RepeatingTimer.with(t, "rt_timer_get_info", orElse: nil, { $0.info }) else { return Int32(RT_EINVAL) }
  var full = rt_timer_info_t()
  full.size = size
  full.start_ns = i.base
  full.period_ns = i.period
  full.fired = i.fired
  full.skipped = i.skipped
  full.last_due_ns = i.lastDue
  full.armed = i.armed
  full.running = i.running
  withUnsafeBytes(of: &full) { UnsafeMutableRawPointer(out).copyMemory(from: $0.baseAddress!, byteCount: size) }
  return Int32(RT_OK)
}

@_cdecl("rt_timer_free")
public func rt_timer_free(_ t: OpaquePointer?) {
  guard let t else { return }
  RepeatingTimer.releaseCallerReference(t, "rt_timer_free")
}
