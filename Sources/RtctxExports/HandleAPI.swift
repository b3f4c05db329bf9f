// rt_handle_clone/release, rt_handle_current, rt_enter/rt_exit.

import CRtctx

@_cdecl("rt_handle_clone")
public func rt_handle_clone(_ h: OpaquePointer?) -> OpaquePointer? {
  guard let h else { return DebugLog.null("rt_handle_clone", "h is NULL") }
  return RuntimeCore.with(h, "rt_handle_clone", orElse: nil, reporting: .null) { $0.retainedPointer() }
}

@_cdecl("rt_handle_release")
public func rt_handle_release(_ h: OpaquePointer?) {
  guard let h, RuntimeCore.isLive(h, "rt_handle_release") else { return }
  Unmanaged<RuntimeCore>.fromOpaque(UnsafeRawPointer(h)).release()
}

/// NULL outside any runtime is an answer, not a refusal: not logged.
@_cdecl("rt_handle_current")
public func rt_handle_current() -> OpaquePointer? {
  Context.currentAddress.map(OpaquePointer.init)
}

@_cdecl("rt_enter")
public func rt_enter(_ h: OpaquePointer?) -> OpaquePointer? {
  guard let h else { return DebugLog.null("rt_enter", "h is NULL") }
  return RuntimeCore.with(h, "rt_enter", orElse: nil, reporting: .null) { OpaquePointer(Context.enter($0)) }
}

@_cdecl("rt_exit")
public func rt_exit(_ g: OpaquePointer?) -> Int32 {
  guard let g else { return RuntimeError.fail(.invalidArgument, in: "rt_exit", "g is NULL") }
  guard Context.exit(UnsafeMutableRawPointer(g)) else {
    return RuntimeError.fail(
      .invalidArgument, in: "rt_exit",
      "g is not the innermost guard of this thread: exit the inner guards first, each on the thread that entered it")
  }
  return Int32(RT_OK)
}
