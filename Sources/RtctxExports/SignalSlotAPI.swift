// rt_signal_slot_*: work posted from signal handlers
// (RtctxCore/Tasks/SignalSlot.swift).

import CRtctx

@_cdecl("rt_signal_slot_new")
public func rt_signal_slot_new(
  _ h: OpaquePointer?, _ fn: rt_fn?, _ arg: UnsafeMutableRawPointer?, _ drop: rt_drop_fn?
) -> OpaquePointer? {
  let name: StaticString = "rt_signal_slot_new"
  guard let h else { return DebugLog.null(name, "h is NULL") }
  guard let fn else { return DebugLog.null(name, "fn is NULL") }
  return RuntimeCore.with(h, name, orElse: nil, reporting: .null) { core in
    guard let slot = SignalSlot.make(on: core, fn, arg, drop: drop) else {
      if Allocation.failed { return DebugLog.outOfMemory(name) }
      return DebugLog.null(name, core.whyRefused(.shutDown))
    }
    return OpaquePointer(Unmanaged.passRetained(slot).toOpaque())
  }
}

/// Runs in signal handlers: nothing here may lock, allocate or log, so a
/// bad pointer gets its code without the debug log's line.
@_cdecl("rt_signal_slot_post")
public func rt_signal_slot_post(_ slot: OpaquePointer?) -> Int32 {
  guard let slot else { return Int32(RT_EINVAL) }
  return Unmanaged<SignalSlot>.fromOpaque(UnsafeRawPointer(slot))._withUnsafeGuaranteedRef { slot in
    guard slot.tag.holds(.signalSlot) else { return Int32(RT_EINVAL) }
    return slot.post() ? Int32(RT_OK) : Int32(RT_ESHUTDOWN)
  }
}

@_cdecl("rt_signal_slot_free")
public func rt_signal_slot_free(_ slot: OpaquePointer?) {
  guard let slot else { return }
  SignalSlot.releaseCallerReference(slot, "rt_signal_slot_free")
}
