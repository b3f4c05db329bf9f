// rt_callback_new, rt_callback_free.
//
// An rt_callback_t is a retained Trampoline; rt_callback_free consumes that
// reference once the queued calls ran.

import CRtctx

@_cdecl("rt_callback_new")
public func rt_callback_new(
  _ h: OpaquePointer?, _ mode: rt_callback_mode_t, _ ret: rt_type_t,
  _ argTypes: UnsafePointer<rt_type_t>?, _ nargs: Int, _ handler: rt_callback_fn?,
  _ user: UnsafeMutableRawPointer?, _ codeOut: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
) -> OpaquePointer? {
  // size_t arrives as Int: a huge C count reads as negative.
  guard let h, let handler, let codeOut, (0...Int(RT_CALLBACK_MAX_ARGS)).contains(nargs),
    nargs == 0 || argTypes != nil,
    let mode = TrampolineMode(rawValue: mode.rawValue), let returns = TrampolineType(rawValue: ret.rawValue)
  else { return nil }
  var arguments: [TrampolineType] = []
  arguments.reserveCapacity(nargs)
  for i in 0..<nargs {
    guard let type = TrampolineType(rawValue: argTypes![i].rawValue) else { return nil }
    arguments.append(type)
  }
  let made = RuntimeCore.with(h, orElse: .failure(.invalidArgument)) {
    Trampoline.make(on: $0, mode: mode, returns: returns, arguments: arguments, handler: handler, user: user)
  }
  guard case .success(let trampoline) = made else { return nil }
  codeOut.pointee = trampoline.code
  return OpaquePointer(Unmanaged.passRetained(trampoline).toOpaque())
}

@_cdecl("rt_callback_free")
public func rt_callback_free(_ cb: OpaquePointer?) {
  guard let cb, Trampoline.isLive(cb) else { return }
  let reference = Unmanaged<Trampoline>.fromOpaque(UnsafeRawPointer(cb))
  reference.takeUnretainedValue().waitForQueuedCalls()
  reference.release()
}
