// How the export layer trusts a pointer from C: the object's tag (see
// RtctxCore/ObjectTag.swift) must say it is a live object of the kind the
// function takes. A pointer that fails is a misuse: release builds return
// RT_EINVAL (or NULL, or false, or do nothing) and tell the debug log
// (RTCTX_LOG=debug) which C function refused it; debug builds stop with
// the reason, which is what a developer running a debug build wants to see
// first.

import CRtctx

/// Reports a pointer that is not a live object of its kind, given to the
/// C function `function`, which refuses it with `outcome`.
@inline(never)
func misuse(
  _ function: StaticString, _ outcome: DebugLog.Outcome, _ kind: StaticString, _ pointer: OpaquePointer
) {
  let reason = "is not a live \(kind): released already (a double release, or a use after "
  #if DEBUG
    fatalError(
      "rtctx: \(function): \(DebugLog.address(pointer)) \(reason)the last release) or never returned by rtctx")
  #else
    DebugLog.report(function, outcome, "\(DebugLog.id(pointer)) \(reason)the last release) or not from rtctx")
  #endif
}

/// Runs `body` with the object of class `T` behind a C pointer, borrowed
/// from the caller's reference: no reference counting, which on a handle
/// shared by many threads would make each call write the same cache line.
/// `invalid` if `isLive` says the pointer is not a live object of its kind
/// (`kindName`, the C type), reported as the C function `function` giving
/// back `outcome`.
@inline(__always)
private func withLive<T: AnyObject, R>(
  _ pointer: OpaquePointer, _ isLive: (T) -> Bool, _ kindName: StaticString, _ function: StaticString,
  _ invalid: R, _ outcome: DebugLog.Outcome, _ body: (T) -> R
) -> R {
  Unmanaged<T>.fromOpaque(UnsafeRawPointer(pointer))._withUnsafeGuaranteedRef { object in
    guard isLive(object) else {
      misuse(function, outcome, kindName, pointer)
      return invalid
    }
    return body(object)
  }
}

/// The release functions of the objects a caller owns once (a join handle,
/// a trampoline, a strand, a group): gives back the caller's reference to
/// the object behind `pointer` (`kindName`, released by the C function
/// `function`), once. A second release, concurrent or later, is refused and
/// reported like a dead pointer, even while a worker still holds the
/// object. `beforeRelease` runs between the two, with the caller's
/// reference still held.
@inline(__always)
func releaseCallerReference<T: AnyObject>(
  _ pointer: OpaquePointer, _ isLive: (T) -> Bool, _ callerReference: (T) -> Bool, _ kindName: StaticString,
  _ function: StaticString, beforeRelease: (T) -> Void = { _ in }
) {
  let reference = Unmanaged<T>.fromOpaque(UnsafeRawPointer(pointer))
  let mine = reference._withUnsafeGuaranteedRef { object in
    guard isLive(object), callerReference(object) else {
      misuse(function, .nothing, kindName, pointer)
      return false
    }
    beforeRelease(object)
    return true
  }
  if mine { reference.release() }
}

// Each kind of C object: `with` runs `body` with the live object behind a
// C pointer (see `withLive`); for a handle, `isLive` says whether the
// pointer is one, and if not reports that the void function `function` did
// nothing; for the kinds a caller owns once, `releaseCallerReference` is
// their release.

extension RuntimeCore {
  @inline(__always)
  static func with<R>(
    _ pointer: OpaquePointer, _ function: StaticString, orElse invalid: R,
    reporting outcome: DebugLog.Outcome = .code(.invalidArgument), _ body: (RuntimeCore) -> R
  ) -> R {
    // Every call on a handle may allocate: its thread gets a full reserve
    // first (the funnel in shim.c, `Allocation`).
    Allocation.begin()
    return withLive(pointer, { $0.tag.holds(.runtime) }, "rt_handle_t or rt_runtime_t", function, invalid, outcome, body)
  }

  static func isLive(_ pointer: OpaquePointer, _ function: StaticString) -> Bool {
    with(pointer, function, orElse: false, reporting: .nothing) { _ in true }
  }
}

extension TaskCell {
  @inline(__always)
  static func with<R>(
    _ pointer: OpaquePointer, _ function: StaticString, orElse invalid: R,
    reporting outcome: DebugLog.Outcome = .code(.invalidArgument), _ body: (TaskCell) -> R
  ) -> R {
    withLive(pointer, { $0.tag.holds(.task) }, "rt_task_t", function, invalid, outcome, body)
  }

  /// The release function `function` (see `releaseCallerReference`).
  static func releaseCallerReference(_ pointer: OpaquePointer, _ function: StaticString) {
    RtctxExports.releaseCallerReference(
      pointer, { (object: Self) in object.tag.holds(.task) }, { $0.callerReference.giveBack() }, "rt_task_t", function)
  }
}

extension GroupCore {
  @inline(__always)
  static func with<R>(
    _ pointer: OpaquePointer, _ function: StaticString, orElse invalid: R,
    reporting outcome: DebugLog.Outcome = .code(.invalidArgument), _ body: (GroupCore) -> R
  ) -> R {
    Allocation.begin()
    return withLive(pointer, { $0.tag.holds(.group) }, "rt_group_t", function, invalid, outcome, body)
  }

  /// The release function `function` (see `releaseCallerReference`).
  static func releaseCallerReference(_ pointer: OpaquePointer, _ function: StaticString) {
    RtctxExports.releaseCallerReference(
      pointer, { (object: Self) in object.tag.holds(.group) }, { $0.callerReference.giveBack() }, "rt_group_t", function)
  }
}

extension StrandCore {
  @inline(__always)
  static func with<R>(
    _ pointer: OpaquePointer, _ function: StaticString, orElse invalid: R,
    reporting outcome: DebugLog.Outcome = .code(.invalidArgument), _ body: (StrandCore) -> R
  ) -> R {
    Allocation.begin()
    return withLive(pointer, { $0.tag.holds(.strand) }, "rt_strand_t", function, invalid, outcome, body)
  }

  /// The release function `function` (see `releaseCallerReference`).
  static func releaseCallerReference(_ pointer: OpaquePointer, _ function: StaticString) {
    RtctxExports.releaseCallerReference(
      pointer, { (object: Self) in object.tag.holds(.strand) }, { $0.callerReference.giveBack() }, "rt_strand_t", function)
  }
}

extension Trampoline {
  /// `rt_callback_free` (see `releaseCallerReference`): `beforeRelease`
  /// waits for the queued calls.
  static func releaseCallerReference(
    _ pointer: OpaquePointer, _ function: StaticString, beforeRelease: (Trampoline) -> Void
  ) {
    RtctxExports.releaseCallerReference(
      pointer, { (t: Trampoline) in t.tag.holds(.callback) }, { $0.callerReference.giveBack() }, "rt_callback_t",
      function, beforeRelease: beforeRelease)
  }
}

extension SignalSlot {
  /// `rt_signal_slot_free` (see `releaseCallerReference`): no run is
  /// admitted after it.
  static func releaseCallerReference(_ pointer: OpaquePointer, _ function: StaticString) {
    RtctxExports.releaseCallerReference(
      pointer, { (slot: SignalSlot) in slot.tag.holds(.signalSlot) }, { $0.callerReference.giveBack() },
      "rt_signal_slot_t", function, beforeRelease: { $0.free() })
  }
}

extension LoopCore {
  @inline(__always)
  static func with<R>(
    _ pointer: OpaquePointer, _ function: StaticString, orElse invalid: R,
    reporting outcome: DebugLog.Outcome = .code(.invalidArgument), _ body: (LoopCore) -> R
  ) -> R {
    // Posts and arming allocate (see RuntimeCore's `with`).
    Allocation.begin()
    return withLive(pointer, { $0.tag.holds(.loop) }, "rt_loop_t", function, invalid, outcome, body)
  }
}

#if DEBUG
  /// Debug builds only, not part of the API (not in rtctx.h, not exported
  /// by the release library): live objects of one kind, 0 runtimes, 1 task
  /// cells (join handles and the internal ones of block_on and posted
  /// calls, group jobs), 2 guards, 3 callbacks, 4 strands, 5 groups, 6 signal slots, 7 loops, 8 repeating timers; -1 for another kind. The C stress test
  /// looks it up with dlsym to check that nothing leaked.
  @_cdecl("rtctx_debug_live_objects")
  public func rtctx_debug_live_objects(_ kind: Int32) -> Int {
    guard let kind = ObjectTag.Kind(rawValue: Int(kind)) else { return -1 }
    return LiveObjects.live(kind)
  }
#endif

extension RepeatingTimer {
  @inline(__always)
  static func with<R>(
    _ pointer: OpaquePointer, _ function: StaticString, orElse invalid: R,
    reporting outcome: DebugLog.Outcome = .code(.invalidArgument), _ body: (RepeatingTimer) -> R
  ) -> R {
    // Posts and arming allocate (see RuntimeCore's `with`).
    Allocation.begin()
    return withLive(pointer, { $0.tag.holds(.timer) }, "rt_timer_t", function, invalid, outcome, body)
  }

  /// `rt_timer_free` (see `releaseCallerReference`): stops the timer first.
  static func releaseCallerReference(_ pointer: OpaquePointer, _ function: StaticString) {
    RtctxExports.releaseCallerReference(
      pointer, { (timer: RepeatingTimer) in timer.tag.holds(.timer) }, { $0.callerReference.giveBack() },
      "rt_timer_t", function, beforeRelease: { $0.free() })
  }
}
