import Synchronization

/// The shared state of one joinable task: what `rt_task_t` points at.
///
/// Its life is one word, `status`, moved forward by compare-and-swap:
///
///     timer ──► queued ──► claimed ──► finished
///       │          │          └──────► dropped
///       └──────────┴──► claimed (by cancel or a shutdown) ──► dropped
///
/// Whoever moves it out of `timer` or `queued` into `claimed` owns the task
/// and is the only one to run or drop it: that single CAS is what makes
/// "runs exactly once or is dropped exactly once" hold between workers,
/// joiners running it inline, `rt_task_cancel` and shutdown. The word is
/// also the futex joiners sleep on; `waitersBit` tells the finisher that
/// someone sleeps, so an unjoined task never makes a wake syscall.
///
/// `onDone`, if set, is told once, by the thread that ran or dropped the
/// task, right after it published the final state (groups count their
/// jobs with it, Group.swift).
public final class TaskCell: @unchecked Sendable {
  enum State: UInt32 {
    case timer = 0, queued = 1, claimed = 2, finished = 3, dropped = 4
  }

  private static let waitersBit: UInt32 = 0x100
  private static let stateMask: UInt32 = 0xFF

  /// What the C API checks a task against (see ObjectTag.swift).
  package let tag = ObjectTag(.task)
  /// What the C release takes back, once (see ObjectTag.swift).
  package let callerReference = CallerReference()
  let body: TaskBody
  let runtime: RuntimeCore
  /// The strand the task runs on, if any: then it runs only in the
  /// strand's order, never inline in a join.
  let strand: StrandCore?
  /// The loop the task runs on, if any: then only its owner runs it.
  let loop: LoopCore?
  /// A job of the blocking pool (`rt_spawn_blocking`): it must not run on
  /// a worker loop, not even inline in a join there.
  let pooled: Bool
  private let status: FutexWord
  /// Written once by the finisher before its releasing store of `finished`;
  /// read only after an acquiring load saw `finished`.
  private var result: UnsafeMutableRawPointer?
  /// False while a claimer drops a task that is not in flight (a pending
  /// timer): a completion it posts must not be owed admission during a
  /// drain that may already have ended (Completion.swift). Written by the
  /// claimer before `dropClaimed`, read in its `onDone` hook.
  var endsInFlight = true
  /// The result, for an `onDone` hook of a task that finished.
  var finishedResult: UnsafeMutableRawPointer? { result }
  /// Set at creation, read and let go by the one thread that claimed the
  /// task (so the hook's object is not kept alive by a done cell).
  private var onDone: TaskDoneHook?
  /// While the task runs on a worker: the joinable task below it on the
  /// same thread's stack (`WorkerState.runningCell`), written and read by
  /// that thread only.
  var below: Unmanaged<TaskCell>?
  /// A timer's position in the timer heap, or `Timers.notInHeap`; read and
  /// written under the timer lock only (Timers.swift).
  var timerSlot = Timers.notInHeap

  init(
    _ body: TaskBody, runtime: RuntimeCore, state: State, strand: StrandCore? = nil,
    onDone: TaskDoneHook? = nil, pooled: Bool = false, loop: LoopCore? = nil
  ) {
    self.body = body
    self.runtime = runtime
    self.strand = strand
    self.loop = loop
    self.pooled = pooled
    self.status = FutexWord(state.rawValue)
    self.onDone = onDone
  }

  deinit { tag.clear() }

  var state: State {
    // Acquiring: a caller that sees `finished` goes on to read `result`.
    let raw = status.atomic.pointee.load(ordering: .acquiring) & Self.stateMask
    guard let state = State(rawValue: raw) else { preconditionFailure("rtctx: a task cell holds state \(raw)") }
    return state
  }

  public var isDone: Bool {
    let s = state
    return s == .finished || s == .dropped
  }

  /// Moves `from` → `to`, keeping the waiters bit. False if the task was
  /// not in `from` (someone else claimed, cancelled or promoted it).
  func transition(from: State, to: State) -> Bool {
    var current = status.atomic.pointee.load(ordering: .relaxed)
    while current & Self.stateMask == from.rawValue {
      let next = (current & Self.waitersBit) | to.rawValue
      // Acquiring-and-releasing: the claimer must see everything the
      // spawner wrote before queueing, and its claim must be ordered
      // before what it does with the task.
      let (done, seen) = status.atomic.pointee.compareExchange(
        expected: current, desired: next, ordering: .acquiringAndReleasing)
      if done { return true }
      current = seen
    }
    return false
  }

  /// Runs the body of a task this thread claimed, and publishes the result.
  func runClaimed() {
    result = body.run()
    publish(.finished)
  }

  /// Drops a task this thread claimed: its drop callback runs here.
  func dropClaimed() {
    body.drop()
    publish(.dropped)
  }

  private func publish(_ final: State) {
    // Releasing: joiners that see the final state also see `result` and
    // every effect of the body or the drop callback.
    let old = status.atomic.pointee.exchange(final.rawValue, ordering: .releasing)
    if old & Self.waitersBit != 0 { status.wakeAll() }
    if let hook = onDone {
      onDone = nil
      hook.taskDone(self, ran: final == .finished)
    }
  }

  /// How many joins may run other jobs nested in one another on one
  /// thread: each costs a few stack frames of the library plus the helped
  /// job's own.
  static let maxHelpDepth = 16

  /// Waits until the task finished or was dropped, or `deadline` passed.
  ///
  /// On a thread of the task's runtime, a task still queued is claimed and
  /// run inline instead: the worker would otherwise wait on itself. Not a
  /// strand's task: that would run it out of the strand's order; nor a
  /// blocking job on a worker loop, which the join helps meanwhile.
  ///
  /// Without a deadline, on a worker (of any runtime), the join helps: it
  /// runs that worker's queued jobs while the task runs elsewhere, so the
  /// worker's queue is never stranded behind a join (a task the joined
  /// one waits for may sit there). Up to `maxHelpDepth` helping joins nest
  /// on one thread; deeper ones only wait. A join on a task that this
  /// thread itself is running, further down its stack, could never end:
  /// `.wouldDeadlock`.
  public func join(deadline: UInt64?) -> Result<UnsafeMutableRawPointer?, RuntimeError> {
    if runtime.isInheritedByFork { return joinInherited() }
    var helper = deadline == nil ? WorkerState.currentQueueOwner : nil
    if let helper, helper.isRunning(self) { return .failure(.wouldDeadlock) }
    // Only the owner runs a loop's job: waiting for it there never ends.
    if deadline == nil, let loop, loop.isOwnedByCaller, !isDone, !loop.isClosed { return .failure(.wouldDeadlock) }
    // In a region whose hand-off was refused the thread still owns its
    // worker, but the task asked to wait without running anything (it may
    // hold a lock a queued job takes).
    if ThreadSlots.regionDepth > 0 { helper = nil }
    if deadline != nil || !runtime.isCurrentWorker {
      _ = spinBriefly { isDone || (deadline.map { monotonicNow() >= $0 } ?? false) }
    }
    // How long a helping join sleeps before it looks at the queues again,
    // doubling while there is nothing to help with.
    var poll: UInt64 = 50_000
    while true {
      let raw = status.atomic.pointee.load(ordering: .acquiring)
      switch State(rawValue: raw & Self.stateMask)! {
      case .finished:
        return .success(result)
      case .dropped:
        return .failure(.cancelled)
      // Not a blocking job on a worker loop: it would block the worker.
      // (On a blocking thread it may: a job joining another at a cap of
      // one thread would wait for itself otherwise.)
      case .queued where strand == nil && loop == nil && runtime.isCurrentWorker && !(pooled && runtime.isCurrentWorkerLoop):
        if transition(from: .queued, to: .claimed) {
          runtime.ledger.claimedElsewhere()
          runInline(on: helper)
          runtime.ledger.ranElsewhere()
          return .success(result)
        }
        continue
      case .timer, .queued, .claimed:
        // A forked child has no worker to finish it (Fork.swift).
        if runtime.isInheritedByFork { return .failure(.shutDown) }
        if let deadline, monotonicNow() >= deadline { return .failure(.timedOut) }
        if let worker = helper, worker.helpDepth < Self.maxHelpDepth {
          let (ran, stillOwner) = worker.runtime.helpOnce(worker)
          if !stillOwner { helper = nil }
          if ran {
            poll = 50_000
            continue
          }
        }
        var wakeBy = deadline
        if runtime.isCurrentWorker, raw & Self.stateMask == State.timer.rawValue {
          // Workers fire timers; if every worker joined a timer, none
          // would. So this one fires them too, and wakes when one is due.
          if runtime.fireDueTimers() { continue }
          wakeBy = min(deadline ?? .max, runtime.nextTimerDue)
        }
        if helper != nil {
          wakeBy = min(wakeBy ?? .max, Deadline.after(nanoseconds: poll) ?? .max)
          poll = min(poll * 2, 1_000_000)
        }
        if raw & Self.waitersBit == 0 {
          // Relaxed: the futex wait below re-reads the word in the kernel.
          let (set, _) = status.atomic.pointee.compareExchange(
            expected: raw, desired: raw | Self.waitersBit, ordering: .relaxed)
          if !set { continue }
        }
        status.wait(whileEqualTo: raw | Self.waitersBit, deadline: wakeBy)
      }
    }
  }

  /// A join in a forked child whose runtime's workers stayed in the
  /// parent (Fork.swift): answers at once, before any inline run or spin,
  /// since nothing here can ever finish the task.
  private func joinInherited() -> Result<UnsafeMutableRawPointer?, RuntimeError> {
    switch state {
    case .finished: .success(result)
    case .dropped: .failure(.cancelled)
    case .timer, .queued, .claimed: .failure(.shutDown)
    }
  }

  /// Runs a task this thread claimed in a join; on a worker it is on the
  /// worker's stack of running tasks meanwhile (cycle detection).
  private func runInline(on worker: WorkerState?) {
    guard let worker else { return runClaimed() }
    let epoch = worker.epoch.load(ordering: .relaxed)
    below = worker.runningCell
    worker.runningCell = Unmanaged.passUnretained(self)
    runClaimed()
    if worker.epoch.load(ordering: .relaxed) == epoch { worker.runningCell = below }
  }

  /// `rt_task_cancel`: drops the task here if it has not started.
  public func cancel() -> Result<Void, RuntimeError> {
    // In a forked child its drop would run here and its fn in the parent.
    if runtime.isInheritedByFork { return .failure(.shutDown) }
    claim: while true {
      switch state {
      case .queued:
        if transition(from: .queued, to: .claimed) { runtime.ledger.claimedElsewhere(); break claim }
      case .timer:
        if transition(from: .timer, to: .claimed) {
          runtime.timerCancelled(self)
          endsInFlight = false
          break claim
        }
      case .claimed, .finished, .dropped:
        return .failure(.busy)
      }
    }
    dropClaimed()
    runtime.ledger.droppedElsewhere()
    return .success(())
  }
}

/// What a task tells, once, when it is done: it ran, or it was dropped
/// (`ran` false). Called on the thread that ran or dropped it, after its
/// joiners can see the outcome; must not block.
open class TaskDoneHook: @unchecked Sendable {
  public init() {}
  open func taskDone(_ cell: TaskCell, ran: Bool) {}
}
