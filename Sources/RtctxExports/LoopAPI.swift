// rt_loop_*: jobs for a thread the caller owns (RtctxCore/Tasks/Loop.swift),
// and rt_spawn_then's completion callbacks (RtctxCore/Tasks/Completion.swift).

import CRtctx

@_cdecl("rt_loop_new")
public func rt_loop_new(_ h: OpaquePointer?) -> OpaquePointer? {
  guard let h else { return DebugLog.null("rt_loop_new", "h is NULL") }
  return RuntimeCore.with(h, "rt_loop_new", orElse: nil, reporting: .null) { core in
    if core.refusesCaller { return DebugLog.null("rt_loop_new", core.whyRefused(.shutDown)) }
    guard let loop = LoopCore.make(runtime: core) else {
      if Allocation.failed { return DebugLog.outOfMemory("rt_loop_new") }
      return DebugLog.null("rt_loop_new", "the system refused an eventfd, or the runtime's shutdown ended")
    }
    return OpaquePointer(Unmanaged.passRetained(loop).toOpaque())
  }
}

@_cdecl("rt_loop_free")
public func rt_loop_free(_ l: OpaquePointer?) -> Int32 {
  guard let l else { return RuntimeError.fail(.invalidArgument, in: "rt_loop_free", "l is NULL") }
  var mine = false
  let code = LoopCore.with(l, "rt_loop_free", orElse: Int32(RT_EINVAL)) { loop -> Int32 in
    guard loop.isOwnedByCaller else {
      return RuntimeError.fail(.invalidArgument, in: "rt_loop_free", "called on a thread that is not the loop's owner")
    }
    if loop.isCurrent {
      return RuntimeError.fail(.busy, in: "rt_loop_free", "called from a job of the loop: free it after rt_loop_run* returns")
    }
    guard loop.callerReference.giveBack() else {
      return RuntimeError.fail(.invalidArgument, in: "rt_loop_free", "the loop was freed already")
    }
    loop.close()
    mine = true
    return Int32(RT_OK)
  }
  if mine { Unmanaged<LoopCore>.fromOpaque(UnsafeRawPointer(l)).release() }
  return code
}

@_cdecl("rt_loop_fd")
public func rt_loop_fd(_ l: OpaquePointer?) -> Int32 {
  guard let l else { return RuntimeError.fail(.invalidArgument, in: "rt_loop_fd", "l is NULL") }
  return LoopCore.with(l, "rt_loop_fd", orElse: Int32(RT_EINVAL)) { $0.fd }
}

@_cdecl("rt_loop_current")
public func rt_loop_current() -> OpaquePointer? {
  LoopCore.currentAddress.map(OpaquePointer.init)
}

@_cdecl("rt_loop_spawn")
public func rt_loop_spawn(_ l: OpaquePointer?, _ fn: rt_fn?, _ arg: UnsafeMutableRawPointer?) -> Int32 {
  guard let l else { return RuntimeError.fail(.invalidArgument, in: "rt_loop_spawn", "l is NULL") }
  guard let fn else { return RuntimeError.fail(.invalidArgument, in: "rt_loop_spawn", "fn is NULL") }
  return LoopCore.with(l, "rt_loop_spawn", orElse: Int32(RT_EINVAL)) { loop in
    RuntimeError.code(loop.spawn(fn, arg), in: "rt_loop_spawn") { loop.whyRefused($0) }
  }
}

@_cdecl("rt_loop_spawn_full")
public func rt_loop_spawn_full(
  _ l: OpaquePointer?, _ fn: rt_call_fn?, _ arg: UnsafeMutableRawPointer?, _ drop: rt_drop_fn?,
  _ taskOut: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
  loopSpawn("rt_loop_spawn_full", l, delay: nil, fn, arg, drop, taskOut)
}

@_cdecl("rt_loop_spawn_after")
public func rt_loop_spawn_after(
  _ l: OpaquePointer?, _ delayNs: UInt64, _ fn: rt_call_fn?, _ arg: UnsafeMutableRawPointer?,
  _ drop: rt_drop_fn?, _ taskOut: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
  loopSpawn("rt_loop_spawn_after", l, delay: delayNs, fn, arg, drop, taskOut)
}

@inline(__always)
private func loopSpawn(
  _ function: StaticString, _ l: OpaquePointer?, delay: UInt64?, _ fn: rt_call_fn?,
  _ arg: UnsafeMutableRawPointer?, _ drop: rt_drop_fn?, _ taskOut: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
  guard let l else { return RuntimeError.fail(.invalidArgument, in: function, "l is NULL") }
  guard let fn else { return RuntimeError.fail(.invalidArgument, in: function, "fn is NULL") }
  return LoopCore.with(l, function, orElse: Int32(RT_EINVAL)) { loop in
    spawnCode(loop.spawn(.c(fn, arg, drop), after: delay, joinable: taskOut != nil), taskOut, in: function) {
      loop.whyRefused($0)
    }
  }
}

@_cdecl("rt_loop_block_on")
public func rt_loop_block_on(
  _ l: OpaquePointer?, _ fn: rt_call_fn?, _ arg: UnsafeMutableRawPointer?,
  _ result: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
) -> Int32 {
  guard let l else { return RuntimeError.fail(.invalidArgument, in: "rt_loop_block_on", "l is NULL") }
  guard let fn else { return RuntimeError.fail(.invalidArgument, in: "rt_loop_block_on", "fn is NULL") }
  return LoopCore.with(l, "rt_loop_block_on", orElse: Int32(RT_EINVAL)) { loop in
    let outcome = loop.blockOn(.c(fn, arg, nil))
    if case .success(let value) = outcome { result?.pointee = value }
    return RuntimeError.code(outcome, in: "rt_loop_block_on") { loop.whyRefused($0) }
  }
}

@_cdecl("rt_loop_run_pending")
public func rt_loop_run_pending(_ l: OpaquePointer?, _ max: Int) -> Int32 {
  guard let l else { return RuntimeError.fail(.invalidArgument, in: "rt_loop_run_pending", "l is NULL") }
  return LoopCore.with(l, "rt_loop_run_pending", orElse: Int32(RT_EINVAL)) { loop in
    if let error = loop.refusesRun(in: "rt_loop_run_pending") { return error }
    // size_t arrives as Int: SIZE_MAX and every value past Int.max mean "all".
    return Int32(clamping: loop.runPending(max: max < 0 ? .max : max))
  }
}

@_cdecl("rt_loop_run")
public func rt_loop_run(_ l: OpaquePointer?, _ timeoutNs: Int64) -> Int32 {
  guard let l else { return RuntimeError.fail(.invalidArgument, in: "rt_loop_run", "l is NULL") }
  return LoopCore.with(l, "rt_loop_run", orElse: Int32(RT_EINVAL)) { loop in
    if let error = loop.refusesRun(in: "rt_loop_run") { return error }
    switch loop.run(timeout: timeoutNs < 0 ? nil : UInt64(timeoutNs)) {
    case .ran(let count): return Int32(clamping: count)
    case .stopped: return 0
    case .timedOut: return Int32(RT_ETIMEDOUT)
    }
  }
}

@_cdecl("rt_loop_stop")
public func rt_loop_stop(_ l: OpaquePointer?) -> Int32 {
  guard let l else { return RuntimeError.fail(.invalidArgument, in: "rt_loop_stop", "l is NULL") }
  return LoopCore.with(l, "rt_loop_stop", orElse: Int32(RT_EINVAL)) { loop in
    loop.stop()
    return Int32(RT_OK)
  }
}

extension LoopCore {
  /// Why the loop refused work with `error`, for the debug log.
  func whyRefused(_ error: RuntimeError) -> String {
    error == .shutDown && !runtime.refusesCaller
      ? "the loop was freed (rt_loop_free), or a delayed job's loop is closed"
      : runtime.whyRefused(error)
  }

  /// The owner-only calls' checks: the C code, or nil to go on.
  func refusesRun(in function: StaticString) -> Int32? {
    if runtime.isInheritedByFork {
      return RuntimeError.fail(.shutDown, in: function, runtime.whyRefused(.shutDown))
    }
    if !isOwnedByCaller {
      return RuntimeError.fail(
        .invalidArgument, in: function, "called on a thread that is not the loop's owner (the thread that made it)")
    }
    return nil
  }
}

@_cdecl("rt_spawn_then")
public func rt_spawn_then(
  _ h: OpaquePointer?, _ fn: rt_call_fn?, _ arg: UnsafeMutableRawPointer?, _ drop: rt_drop_fn?,
  _ c: UnsafePointer<rt_completion_t>?, _ taskOut: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
  let function: StaticString = "rt_spawn_then"
  guard let h else { return RuntimeError.fail(.invalidArgument, in: function, "h is NULL") }
  guard let fn else { return RuntimeError.fail(.invalidArgument, in: function, "fn is NULL") }
  guard let c else { return RuntimeError.fail(.invalidArgument, in: function, "c is NULL") }
  return RuntimeCore.with(h, function, orElse: Int32(RT_EINVAL)) { core -> Int32 in
    let hook: CompletionHook
    switch completionHook(c, on: core, in: function) {
    case .success(let made): hook = made
    case .failure(let code): return code.rawValue
    }
    return spawnCode(core.spawn(.c(fn, arg, drop), then: hook, joinable: taskOut != nil), taskOut, in: function) {
      core.whyRefused($0)
    }
  }
}

/// A C completion, checked: its size, its function, and a target that is
/// live and belongs to `core` (rt_spawn_then, rt_callback_new_then). A
/// refusal was logged; its value is the C code.
func completionHook(
  _ c: UnsafePointer<rt_completion_t>, on core: RuntimeCore, in function: StaticString
) -> Result<CompletionHook, CompletionRefusal> {
  guard c.pointee.size >= MemoryLayout<rt_completion_t>.size else {
    return .failure(CompletionRefusal(RuntimeError.fail(.invalidArgument, in: function, "c->size is smaller than sizeof(rt_completion_t)")))
  }
  let completion = c.pointee
  guard let then = completion.fn else {
    return .failure(CompletionRefusal(RuntimeError.fail(.invalidArgument, in: function, "c->fn is NULL")))
  }
  var target = CompletionTarget.anyWorker
  switch (completion.loop, completion.strand) {
  case (nil, nil): break
  case (let l?, nil):
    guard let loop = LoopCore.with(l, function, orElse: nil, { $0 }) else { return .failure(CompletionRefusal(Int32(RT_EINVAL))) }
    guard loop.runtime === core else {
      return .failure(CompletionRefusal(RuntimeError.fail(.invalidArgument, in: function, "c->loop belongs to another runtime")))
    }
    target = .loop(loop)
  case (nil, let s?):
    guard let strand = StrandCore.with(s, function, orElse: nil, { $0 }) else {
      return .failure(CompletionRefusal(Int32(RT_EINVAL)))
    }
    guard strand.runtime === core else {
      return .failure(CompletionRefusal(RuntimeError.fail(.invalidArgument, in: function, "c->strand belongs to another runtime")))
    }
    target = .strand(strand)
  case (_?, _?):
    return .failure(CompletionRefusal(RuntimeError.fail(
      .invalidArgument, in: function, "c->loop and c->strand are both set: name one target")))
  }
  return .success(CompletionHook(fn: then, arg: completion.arg, drop: completion.drop, target: target))
}

/// Why a completion was refused: the C code, already logged.
struct CompletionRefusal: Error {
  let rawValue: Int32
  init(_ rawValue: Int32) { self.rawValue = rawValue }
}
