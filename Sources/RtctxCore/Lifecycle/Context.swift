/// Which runtime is current on this thread.
///
/// One thread-local slot holds the innermost entered guard; each guard
/// remembers the slot's value before it, so exits restore in
/// last-in-first-out order. Below every guard, a worker thread's own
/// runtime is current (the worker slot, see Worker.swift).
public final class ContextGuard {
  /// Counted in debug builds (see ObjectTag.swift); never checked, as
  /// `exit` refuses a guard before dereferencing it.
  let tag = ObjectTag(.contextGuard)
  public let runtime: RuntimeCore
  fileprivate let previous: UnsafeMutableRawPointer?

  fileprivate init(runtime: RuntimeCore, previous: UnsafeMutableRawPointer?) {
    self.runtime = runtime
    self.previous = previous
  }

  deinit { tag.clear() }
}

public enum Context {
  /// The current runtime, borrowed: valid until the running task returns or
  /// the innermost guard exits.
  public static var current: RuntimeCore? {
    currentAddress.map { Unmanaged<RuntimeCore>.fromOpaque($0).takeUnretainedValue() }
  }

  /// The current runtime's address, read without reference counting: what
  /// `rt_handle_current()` returns, on the path of every spawn a task makes
  /// through it.
  @inline(__always)
  public static var currentAddress: UnsafeMutableRawPointer? {
    if let top = ThreadSlots.context {
      return Unmanaged<ContextGuard>.fromOpaque(top)._withUnsafeGuaranteedRef {
        Unmanaged.passUnretained($0.runtime).toOpaque()
      }
    }
    // A loop job (Loop.swift): the loop's runtime, even on a worker.
    if let loop = ThreadSlots.loop {
      return Unmanaged<LoopCore>.fromOpaque(loop)._withUnsafeGuaranteedRef {
        Unmanaged.passUnretained($0.runtime).toOpaque()
      }
    }
    if let slot = ThreadSlots.worker {
      return Unmanaged<WorkerState>.fromOpaque(slot)._withUnsafeGuaranteedRef { $0.runtimeAddress }
    }
    return nil
  }

  /// Makes `runtime` current; returns the retained guard, as an opaque
  /// pointer for `exit`.
  public static func enter(_ runtime: RuntimeCore) -> UnsafeMutableRawPointer {
    let guardObject = ContextGuard(runtime: runtime, previous: ThreadSlots.context)
    let pointer = Unmanaged.passRetained(guardObject).toOpaque()
    ThreadSlots.context = pointer
    return pointer
  }

  /// Undoes the innermost `enter` of this thread. A guard that is not the
  /// innermost one here (out of order, another thread's, already exited)
  /// is refused before it is dereferenced.
  public static func exit(_ pointer: UnsafeMutableRawPointer) -> Bool {
    guard ThreadSlots.context == pointer else { return false }
    let guardObject = Unmanaged<ContextGuard>.fromOpaque(pointer).takeRetainedValue()
    ThreadSlots.context = guardObject.previous
    return true
  }
}
