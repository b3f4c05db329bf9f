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
    DebugLog.report(function, outcome, "\(DebugLog.address(pointer)) \(reason)the last release) or not from rtctx")
  #endif
}

extension RuntimeCore {
  /// Runs `body` with the runtime behind a C handle or runtime pointer,
  /// borrowed from the caller's reference: no reference counting, which on
  /// a handle shared by many threads would make each call write the same
  /// cache line. `invalid` if the pointer is not a live runtime, which is
  /// reported as the C function `function` giving back `outcome`.
  @inline(__always)
  static func with<R>(
    _ pointer: OpaquePointer, _ function: StaticString, orElse invalid: R,
    reporting outcome: DebugLog.Outcome = .code(.invalidArgument), _ body: (RuntimeCore) -> R
  ) -> R {
    Unmanaged<RuntimeCore>.fromOpaque(UnsafeRawPointer(pointer))._withUnsafeGuaranteedRef { core in
      guard core.tag.holds(.runtime) else {
        misuse(function, outcome, "rt_handle_t or rt_runtime_t", pointer)
        return invalid
      }
      return body(core)
    }
  }

  /// Whether `pointer` is a live runtime; if not, reports that the void
  /// function `function` did nothing.
  static func isLive(_ pointer: OpaquePointer, _ function: StaticString) -> Bool {
    with(pointer, function, orElse: false, reporting: .nothing) { _ in true }
  }
}

extension TaskCell {
  /// Runs `body` with the cell behind a C join handle, borrowed;
  /// `invalid` if the pointer is not a live task, reported as the C
  /// function `function` giving back `outcome`.
  @inline(__always)
  static func with<R>(
    _ pointer: OpaquePointer, _ function: StaticString, orElse invalid: R,
    reporting outcome: DebugLog.Outcome = .code(.invalidArgument), _ body: (TaskCell) -> R
  ) -> R {
    Unmanaged<TaskCell>.fromOpaque(UnsafeRawPointer(pointer))._withUnsafeGuaranteedRef { cell in
      guard cell.tag.holds(.task) else {
        misuse(function, outcome, "rt_task_t", pointer)
        return invalid
      }
      return body(cell)
    }
  }

  /// Whether `pointer` is a live task; if not, reports that the void
  /// function `function` did nothing.
  static func isLive(_ pointer: OpaquePointer, _ function: StaticString) -> Bool {
    with(pointer, function, orElse: false, reporting: .nothing) { _ in true }
  }
}

extension GroupCore {
  /// Runs `body` with the group behind a C `rt_group_t`, borrowed;
  /// `invalid` if the pointer is not a live group, reported as the C
  /// function `function` giving back `outcome`.
  @inline(__always)
  static func with<R>(
    _ pointer: OpaquePointer, _ function: StaticString, orElse invalid: R,
    reporting outcome: DebugLog.Outcome = .code(.invalidArgument), _ body: (GroupCore) -> R
  ) -> R {
    Unmanaged<GroupCore>.fromOpaque(UnsafeRawPointer(pointer))._withUnsafeGuaranteedRef { group in
      guard group.tag.holds(.group) else {
        misuse(function, outcome, "rt_group_t", pointer)
        return invalid
      }
      return body(group)
    }
  }

  /// Whether `pointer` is a live group; if not, reports that the void
  /// function `function` did nothing.
  static func isLive(_ pointer: OpaquePointer, _ function: StaticString) -> Bool {
    with(pointer, function, orElse: false, reporting: .nothing) { _ in true }
  }
}

extension Trampoline {
  /// Whether `pointer` is a live callback; if not, reports that the void
  /// function `function` did nothing.
  static func isLive(_ pointer: OpaquePointer, _ function: StaticString) -> Bool {
    Unmanaged<Trampoline>.fromOpaque(UnsafeRawPointer(pointer))._withUnsafeGuaranteedRef { trampoline in
      if trampoline.tag.holds(.callback) { return true }
      misuse(function, .nothing, "rt_callback_t", pointer)
      return false
    }
  }
}

#if DEBUG
  /// Debug builds only, not part of the API (not in rtctx.h, not exported
  /// by the release library): live objects of one kind, 0 runtimes, 1 task
  /// cells (join handles and the internal ones of block_on and posted
  /// calls, group jobs), 2 guards, 3 callbacks, 4 strands, 5 groups; -1 for another kind. The C stress test
  /// looks it up with dlsym to check that nothing leaked.
  @_cdecl("rtctx_debug_live_objects")
  public func rtctx_debug_live_objects(_ kind: Int32) -> Int {
    guard let kind = ObjectTag.Kind(rawValue: Int(kind)) else { return -1 }
    return LiveObjects.live(kind)
  }
#endif
