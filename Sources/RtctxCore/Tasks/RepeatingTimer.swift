import Synchronization

/// A timer that fires again and again, re-armable and stoppable from any
/// thread, its own callback included: what `rt_timer_t` points at
/// (libuv's `uv_timer_t` with a repeat, a dispatch timer source).
///
/// Each firing is one ordinary timer of the runtime (a `TaskCell` in the
/// timer heap), so it is counted, fired, drained and dropped like any
/// `rt_spawn_after` task, and the stats' `timers` gauge stays exact. At
/// most one firing is in the heap or the run queue at a time, and the next
/// is scheduled only when the callback of the previous has returned, so
/// the callback never runs concurrently with itself.
///
/// No drift: firing k is due at `base + k * period`, whatever the
/// callback's or the machine's lateness. When the callback returns after
/// the next firing's time has passed, that firing is not made up twice:
/// of the firings whose time has passed, the latest runs at once (late)
/// and the earlier ones are skipped and counted (`skipped`); the one after
/// is again on the grid (tokio's `MissedTickBehavior::Skip`).
///
/// A generation number tells the firings of the current arming from stale
/// ones: `start` and `stop` bump it and take the pending firing out of the
/// heap (a cancel, outside the lock, since its drop comes back here); a
/// stale firing that a worker started anyway finds another generation and
/// calls nothing. `fn` is called only by a firing that, under the lock,
/// found its own generation and marked the timer running, so after `stop`
/// returns no callback starts.
///
/// `drop(arg)` runs once, decided under the lock: by `free` if no callback
/// runs then, else by that callback's firing after it returned.
public final class RepeatingTimer: @unchecked Sendable {
  /// What the C API checks a timer against (see ObjectTag.swift).
  package let tag = ObjectTag(.timer)
  /// What `rt_timer_free` takes back, once (see ObjectTag.swift).
  package let callerReference = CallerReference()
  public let runtime: RuntimeCore
  private let fn: CTaskFn
  private let arg: UnsafeMutableRawPointer?
  private let dropFn: CDropFn?

  private struct State {
    var generation: UInt64 = 0
    /// Started and not stopped: a firing is pending, or the running
    /// callback's firing schedules the next one.
    var armed = false
    var base: UInt64 = 0
    var period: UInt64 = 0
    /// The index of the next firing.
    var next: UInt64 = 0
    /// The firing in the heap or a run queue; its body holds this timer,
    /// so it is let go of whenever it fires or is taken out.
    var pending: TaskCell?
    /// The thread running the callback, if one runs.
    var runner: UInt?
    var freed = false
    var fired: UInt64 = 0
    var skipped: UInt64 = 0
    /// When the firing that runs now, or ran last, was due.
    var lastDue: UInt64 = 0
  }

  private let state = Lock(State())

  init(runtime: RuntimeCore, fn: @escaping CTaskFn, arg: UnsafeMutableRawPointer?, drop: CDropFn?) {
    self.runtime = runtime
    self.fn = fn
    self.arg = arg
    self.dropFn = drop
  }

  deinit { tag.clear() }

  /// `rt_timer_new`: nil, `arg` untouched, if the runtime refuses the
  /// caller (shut down or shutting down, or inherited by fork()).
  public static func make(
    on runtime: RuntimeCore, _ fn: @escaping CTaskFn, _ arg: UnsafeMutableRawPointer?, drop: CDropFn?
  ) -> RepeatingTimer? {
    if runtime.refusesCaller { return nil }
    return RepeatingTimer(runtime: runtime, fn: fn, arg: arg, drop: drop)
  }

  /// `rt_timer_start`: firing 0 in `first` ns, then one every `period` ns
  /// (0: none). Replaces any earlier arming. Inside the callback, the new
  /// arming's first firing is scheduled when the callback returns.
  public func start(first: UInt64, period: UInt64) -> RuntimeError? {
    if runtime.isInheritedByFork { return .shutDown }
    let base = Deadline.after(nanoseconds: first) ?? .max
    let (stale, error): (TaskCell?, RuntimeError?) = state.withLock { s in
      let stale = s.pending
      s.pending = nil
      s.generation &+= 1
      s.armed = true
      s.base = base
      s.period = period
      s.next = 0
      if s.runner != nil { return (stale, nil) }
      return (stale, scheduleNext(&s))
    }
    _ = stale?.cancel()
    return error
  }

  /// `rt_timer_again`: starts again with the current period as the first
  /// delay; `.invalidArgument` if the timer has no period.
  public func again() -> RuntimeError? {
    let period = state.withLock { $0.period }
    guard period > 0 else { return .invalidArgument }
    return start(first: period, period: period)
  }

  /// `rt_timer_stop`: no callback starts after this returns. True if a
  /// callback is still running on another thread (it finishes; nothing
  /// follows it).
  public func stop() -> Bool {
    let me = currentThreadToken()
    let (stale, busy): (TaskCell?, Bool) = state.withLock { s in
      let stale = s.pending
      s.pending = nil
      s.generation &+= 1
      s.armed = false
      return (stale, s.runner != nil && s.runner != me)
    }
    _ = stale?.cancel()
    return busy
  }

  /// `rt_timer_free`, before the caller's reference goes: stops the timer;
  /// `drop(arg)` runs now, or after the running callback returns.
  package func free() {
    // A forked child runs no callback of an inherited runtime (Fork.swift).
    if runtime.isInheritedByFork {
      _ = Unmanaged.passRetained(self)
      return
    }
    let (stale, dropNow): (TaskCell?, Bool) = state.withLock { s in
      let stale = s.pending
      s.pending = nil
      s.generation &+= 1
      s.armed = false
      s.freed = true
      return (stale, s.runner == nil)
    }
    _ = stale?.cancel()
    if dropNow { dropFn?(arg) }
  }

  /// `rt_timer_due_in`: ns until the next firing (0 if it is due), or nil
  /// if the timer is not armed.
  public func dueIn() -> UInt64? {
    let due: UInt64? = state.withLock { s in
      guard s.armed else { return nil }
      return Self.due(s.base, s.period, s.next)
    }
    guard let due else { return nil }
    let now = monotonicNow()
    return due > now ? due - now : 0
  }

  public struct Info: Sendable {
    public var base, period, fired, skipped, lastDue: UInt64
    public var armed, running: Bool
  }

  /// `rt_timer_info`.
  public var info: Info {
    state.withLock { s in
      Info(
        base: s.base, period: s.period, fired: s.fired, skipped: s.skipped, lastDue: s.lastDue,
        armed: s.armed, running: s.runner != nil)
    }
  }

  private static func due(_ base: UInt64, _ period: UInt64, _ index: UInt64) -> UInt64 {
    let (offset, o1) = period.multipliedReportingOverflow(by: index)
    let (due, o2) = base.addingReportingOverflow(offset)
    return o1 || o2 ? .max : due
  }

  /// Under the lock, with no firing pending or running: schedules firing
  /// `next`, or, if its time has passed, the latest firing whose time has
  /// passed, skipping those before it.
  private func scheduleNext(_ s: inout State, afterFiring: Bool = false) -> RuntimeError? {
    // On a worker, after a callback: a reserve used since the worker's
    // last refill is refilled first, so that an earlier failure of this
    // thread does not refuse the next firing (`Allocation`).
    if afterFiring { Allocation.refillIfUsed() }
    var due = Self.due(s.base, s.period, s.next)
    let now = monotonicNow()
    if s.period > 0, due <= now, s.next > 0 {
      let latest = (now - s.base) / s.period
      s.skipped &+= latest - s.next
      s.next = latest
      due = Self.due(s.base, s.period, latest)
    }
    let generation = s.generation
    let cell = TaskCell(
      .swift(
        run: { [self] in
          fire(generation)
          return nil
        },
        drop: { [self] in firingDropped(generation) }),
      runtime: runtime, state: .timer)
    // Under the lock: a stop must find the firing either in the heap or
    // not yet made. The timer lock is taken before the heap's, never after.
    if case .failure(let error) = runtime.schedule(cell, due: due, wakeOne: afterFiring) {
      s.armed = false
      return error
    }
    s.pending = cell
    return nil
  }

  /// A firing's run on a worker.
  private func fire(_ generation: UInt64) {
    let started: Bool = state.withLock { s in
      guard s.generation == generation, s.armed else { return false }
      s.pending = nil
      s.lastDue = Self.due(s.base, s.period, s.next)
      s.fired &+= 1
      s.runner = currentThreadToken()
      if s.period == 0 { s.armed = false } else { s.next &+= 1 }
      return true
    }
    guard started else { return }
    fn(arg)
    let dropNow: Bool = state.withLock { s in
      s.runner = nil
      if s.freed { return true }
      guard s.armed else { return false }
      // The runtime's shutdown does not wait for future firings: once
      // admission closed, the timer stops.
      if runtime.admission.isClosed {
        s.armed = false
        return false
      }
      _ = scheduleNext(&s, afterFiring: true)
      return false
    }
    if dropNow { dropFn?(arg) }
  }

  /// A firing was dropped (a shutdown) or cancelled (by `start`, `stop`
  /// or `free`, which let go of it already).
  private func firingDropped(_ generation: UInt64) {
    state.withLock { s in
      guard s.generation == generation, s.runner == nil else { return }
      s.pending = nil
      s.armed = false
    }
  }
}
