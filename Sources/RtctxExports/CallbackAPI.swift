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
  makeCallback("rt_callback_new", h, mode, ret, argTypes, nargs, handler, user, codeOut, then: nil)
}

@_cdecl("rt_callback_new_then")
public func rt_callback_new_then(
  _ h: OpaquePointer?, _ argTypes: UnsafePointer<rt_type_t>?, _ nargs: Int, _ handler: rt_callback_fn?,
  _ user: UnsafeMutableRawPointer?, _ c: UnsafePointer<rt_completion_t>?,
  _ codeOut: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
) -> OpaquePointer? {
  guard let c else { return DebugLog.null("rt_callback_new_then", "c is NULL") }
  return makeCallback("rt_callback_new_then", h, RT_CALLBACK_POST, RT_TYPE_VOID, argTypes, nargs, handler, user, codeOut, then: c)
}

private func makeCallback(
  _ name: StaticString, _ h: OpaquePointer?, _ mode: rt_callback_mode_t, _ ret: rt_type_t,
  _ argTypes: UnsafePointer<rt_type_t>?, _ nargs: Int, _ handler: rt_callback_fn?,
  _ user: UnsafeMutableRawPointer?, _ codeOut: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
  then c: UnsafePointer<rt_completion_t>?
) -> OpaquePointer? {
  Allocation.begin()
  guard let h else { return DebugLog.null(name, "h is NULL") }
  guard let handler else { return DebugLog.null(name, "handler is NULL") }
  guard let codeOut else { return DebugLog.null(name, "code_out is NULL") }
  guard let callMode = TrampolineMode(rawValue: mode.rawValue) else {
    return DebugLog.null(name, "mode is \(mode.rawValue), neither RT_CALLBACK_POST nor RT_CALLBACK_WAIT")
  }
  guard let returns = TrampolineType(rawValue: ret.rawValue) else {
    return DebugLog.null(name, "ret is \(ret.rawValue), not an rt_type_t")
  }
  guard callMode == .wait || returns == .void else {
    return DebugLog.null(
      name, "mode is RT_CALLBACK_POST, which returns nothing to its caller, but ret is not RT_TYPE_VOID")
  }
  // size_t arrives as Int: a huge C count reads as negative.
  guard (0...Int(RT_CALLBACK_MAX_ARGS)).contains(nargs) else {
    return DebugLog.null(
      name, "nargs is \(UInt(bitPattern: nargs)), more than RT_CALLBACK_MAX_ARGS (\(RT_CALLBACK_MAX_ARGS))")
  }
  guard nargs == 0 || argTypes != nil else { return DebugLog.null(name, "arg_types is NULL and nargs is \(nargs)") }
  var arguments: [TrampolineType] = []
  arguments.reserveCapacity(nargs)
  for i in 0..<nargs {
    let raw = argTypes![i].rawValue
    guard let type = TrampolineType(rawValue: raw) else {
      return DebugLog.null(name, "arg_types[\(i)] is \(raw), not an rt_type_t")
    }
    guard type != .void else { return DebugLog.null(name, "arg_types[\(i)] is RT_TYPE_VOID, a return type only") }
    arguments.append(type)
  }
  return RuntimeCore.with(h, name, orElse: nil, reporting: .null) { core in
    var hook: CompletionHook?
    if let c {
      switch completionHook(c, on: core, in: name) {
      case .success(let made): hook = made
      case .failure: return nil
      }
    }
    switch Trampoline.make(
      on: core, mode: callMode, returns: returns, arguments: arguments, handler: handler, user: user,
      completion: hook)
    {
    case .success(let trampoline):
      if Allocation.failed { return DebugLog.outOfMemory(name) }
      codeOut.pointee = trampoline.code
      return OpaquePointer(Unmanaged.passRetained(trampoline).toOpaque())
    // The signature was checked above: what is left is libffi's.
    case .failure(.outOfMemory):
      return DebugLog.null(name, "no memory: libffi could not allocate the closure (ffi_closure_alloc)")
    case .failure:
      return DebugLog.null(name, "libffi refused the signature (ffi_prep_cif or ffi_prep_closure_loc failed)")
    }
  }
}

@_cdecl("rt_callback_free")
public func rt_callback_free(_ cb: OpaquePointer?) {
  guard let cb else { return }
  // The queued calls keep the trampoline alive, each by a reference of its
  // own: what is given back here is only the caller's.
  Trampoline.releaseCallerReference(cb, "rt_callback_free") { $0.waitForQueuedCalls() }
}
