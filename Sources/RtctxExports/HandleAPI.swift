// rt_handle_clone/release, rt_handle_current, rt_enter/rt_exit.

import CRtctx

@_cdecl("rt_handle_clone")
public func rt_handle_clone(_ h: OpaquePointer?) -> OpaquePointer? {
  guard let h else { return nil }
  return RuntimeCore.with(h, orElse: nil) { $0.retainedPointer() }
}

@_cdecl("rt_handle_release")
public func rt_handle_release(_ h: OpaquePointer?) {
  guard let h, RuntimeCore.isLive(h) else { return }
  Unmanaged<RuntimeCore>.fromOpaque(UnsafeRawPointer(h)).release()
}

@_cdecl("rt_handle_current")
public func rt_handle_current() -> OpaquePointer? {
  Context.currentAddress.map(OpaquePointer.init)
}

@_cdecl("rt_enter")
public func rt_enter(_ h: OpaquePointer?) -> OpaquePointer? {
  guard let h else { return nil }
  return RuntimeCore.with(h, orElse: nil) { OpaquePointer(Context.enter($0)) }
}

@_cdecl("rt_exit")
public func rt_exit(_ g: OpaquePointer?) -> Int32 {
  guard let g, Context.exit(UnsafeMutableRawPointer(g)) else { return RuntimeError.invalid() }
  return Int32(RT_OK)
}
