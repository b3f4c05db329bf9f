// rt_strand_*: serial queues on the runtime's workers (RtctxCore/Tasks/Strand.swift).

import CRtctx

@_cdecl("rt_strand_new")
public func rt_strand_new(_ h: OpaquePointer?) -> OpaquePointer? {
  guard let h else { return DebugLog.null("rt_strand_new", "h is NULL") }
  return RuntimeCore.with(h, "rt_strand_new", orElse: nil, reporting: .null) { core in
    if core.refusesCaller { return DebugLog.null("rt_strand_new", core.whyRefused(.shutDown)) }
    let strand = StrandCore(runtime: core)
    if Allocation.failed { return DebugLog.outOfMemory("rt_strand_new") }
    return OpaquePointer(Unmanaged.passRetained(strand).toOpaque())
  }
}

@_cdecl("rt_strand_release")
public func rt_strand_release(_ s: OpaquePointer?) {
  guard let s else { return }
  StrandCore.releaseCallerReference(s, "rt_strand_release")
}

@_cdecl("rt_strand_current")
public func rt_strand_current() -> OpaquePointer? {
  StrandCore.currentAddress.map(OpaquePointer.init)
}

@_cdecl("rt_strand_spawn")
public func rt_strand_spawn(_ s: OpaquePointer?, _ fn: rt_fn?, _ arg: UnsafeMutableRawPointer?) -> Int32 {
  guard let s else { return RuntimeError.fail(.invalidArgument, in: "rt_strand_spawn", "s is NULL") }
  guard let fn else { return RuntimeError.fail(.invalidArgument, in: "rt_strand_spawn", "fn is NULL") }
  return StrandCore.with(s, "rt_strand_spawn", orElse: Int32(RT_EINVAL)) { strand in
    RuntimeError.code(strand.spawn(fn, arg), in: "rt_strand_spawn") { strand.runtime.whyRefused($0) }
  }
}

@_cdecl("rt_strand_spawn_full")
public func rt_strand_spawn_full(
  _ s: OpaquePointer?, _ fn: rt_call_fn?, _ arg: UnsafeMutableRawPointer?, _ drop: rt_drop_fn?,
  _ taskOut: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
  strandSpawn("rt_strand_spawn_full", s, delay: nil, fn, arg, drop, taskOut)
}

@_cdecl("rt_strand_spawn_after")
public func rt_strand_spawn_after(
  _ s: OpaquePointer?, _ delayNs: UInt64, _ fn: rt_call_fn?, _ arg: UnsafeMutableRawPointer?,
  _ drop: rt_drop_fn?, _ taskOut: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
  strandSpawn("rt_strand_spawn_after", s, delay: delayNs, fn, arg, drop, taskOut)
}

@inline(__always)
private func strandSpawn(
  _ function: StaticString, _ s: OpaquePointer?, delay: UInt64?, _ fn: rt_call_fn?,
  _ arg: UnsafeMutableRawPointer?, _ drop: rt_drop_fn?, _ taskOut: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
  guard let s else { return RuntimeError.fail(.invalidArgument, in: function, "s is NULL") }
  guard let fn else { return RuntimeError.fail(.invalidArgument, in: function, "fn is NULL") }
  return StrandCore.with(s, function, orElse: Int32(RT_EINVAL)) { strand in
    spawnCode(strand.spawn(.c(fn, arg, drop), after: delay, joinable: taskOut != nil), taskOut, in: function) {
      strand.runtime.whyRefused($0)
    }
  }
}

@_cdecl("rt_strand_block_on")
public func rt_strand_block_on(
  _ s: OpaquePointer?, _ fn: rt_call_fn?, _ arg: UnsafeMutableRawPointer?,
  _ result: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
) -> Int32 {
  guard let s else { return RuntimeError.fail(.invalidArgument, in: "rt_strand_block_on", "s is NULL") }
  guard let fn else { return RuntimeError.fail(.invalidArgument, in: "rt_strand_block_on", "fn is NULL") }
  return StrandCore.with(s, "rt_strand_block_on", orElse: Int32(RT_EINVAL)) { strand in
    let outcome = strand.blockOn(.c(fn, arg, nil))
    if case .success(let value) = outcome { result?.pointee = value }
    return RuntimeError.code(outcome, in: "rt_strand_block_on") { error in
      error == .wouldDeadlock
        ? "called from a job of the same strand, which would wait for itself: spawn onto the strand instead"
        : strand.runtime.whyRefused(error)
    }
  }
}
