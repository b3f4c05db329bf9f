import RtctxCore

/// A timer that runs a closure again and again on the runtime's workers
/// (`rt_timer_t`; libuv's `uv_timer_t` with a repeat, a dispatch timer
/// source).
///
/// Firing *k* of an arming is due at its start plus *k* × `period`, never
/// earlier and without drift. The next firing is scheduled when the body
/// returns, so the body never runs concurrently with itself; if its time
/// has passed by then, the latest firing due runs at once and the earlier
/// ones are skipped (counted in ``skipped``). A runtime's shutdown stops
/// the timer. Releasing the last reference stops it too.
///
///     let beat = try handle.repeatingTimer { print("beat") }
///     try beat.start(after: .zero, every: .seconds(1))
public final class RepeatingTimer: Sendable {
  let core: RtctxCore.RepeatingTimer

  init(_ core: RtctxCore.RepeatingTimer) { self.core = core }

  deinit { core.free() }

  /// Arms the timer: the first firing after `delay`, then one every
  /// `period` (nil: fire once). Replaces any earlier arming; from the
  /// timer's own body, the new first firing follows the body's return.
  ///
  /// - Throws: `RuntimeError.shutDown` once the runtime is shutting down.
  public func start(after delay: Duration, every period: Duration? = nil) throws(RuntimeError) {
    if let error = core.start(first: delay.saturatingNanoseconds, period: period?.saturatingNanoseconds ?? 0) {
      throw error
    }
  }

  /// Arms the timer again, its period from now (`uv_timer_again`).
  ///
  /// - Throws: `RuntimeError.invalidArgument` if it has no period,
  ///   `RuntimeError.shutDown` once the runtime is shutting down.
  public func again() throws(RuntimeError) {
    if let error = core.again() { throw error }
  }

  /// Stops the timer: no body starts after this returns. Returns false if
  /// a body that started before still runs on another thread.
  @discardableResult
  public func stop() -> Bool { !core.stop() }

  /// The time until the next firing, zero if it is due; nil if the timer
  /// is not armed.
  public var dueIn: Duration? { core.dueIn().map { .nanoseconds(Int64(clamping: $0)) } }

  /// Bodies started over the timer's life.
  public var fired: UInt64 { core.info.fired }

  /// Firings skipped because a later one was due too.
  public var skipped: UInt64 { core.info.skipped }
}

extension Handle {
  /// A stopped repeating timer that runs `body` on a worker at each
  /// firing; start it with ``RepeatingTimer/start(after:every:)``.
  ///
  /// - Throws: `RuntimeError.shutDown` once the runtime is shutting down.
  public func repeatingTimer(_ body: @escaping @Sendable () -> Void) throws(RuntimeError) -> RepeatingTimer {
    let box = Unmanaged.passRetained(TimerBody(body)).toOpaque()
    guard
      let timer = RtctxCore.RepeatingTimer.make(
        on: core, { TimerBody.run($0) }, box, drop: { TimerBody.release($0) })
    else {
      Unmanaged<TimerBody>.fromOpaque(box).release()
      throw .shutDown
    }
    return RepeatingTimer(timer)
  }
}

/// The closure behind a C-shaped timer callback: its `arg` holds one
/// retain, given back by the timer's drop.
private final class TimerBody: Sendable {
  let body: @Sendable () -> Void
  init(_ body: @escaping @Sendable () -> Void) { self.body = body }

  static func run(_ arg: UnsafeMutableRawPointer?) {
    Unmanaged<TimerBody>.fromOpaque(arg!)._withUnsafeGuaranteedRef { $0.body() }
  }

  static func release(_ arg: UnsafeMutableRawPointer?) {
    Unmanaged<TimerBody>.fromOpaque(arg!).release()
  }
}
