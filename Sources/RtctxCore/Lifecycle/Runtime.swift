import Synchronization

/// A runtime: its workers, queues, timers and ledger, and its life.
///
/// A C `rt_handle_t` is a retained reference to this object, so handles
/// keep it alive after shutdown and can be refused cleanly.
///
/// Shutdown, in the steps `rt_shutdown` documents (include/rtctx.h), each
/// a `Lifecycle` state entered through `advance(to:)`:
///
/// 1. `.draining`: admission closes. Callers outside the workers are
///    refused from now on; the runtime's own tasks may still spawn, so work
///    in flight can finish.
/// 2. Every accepted task runs: wait until no job is queued or running;
///    timers falling due meanwhile run. If a timeout elapses first,
///    `.dropping`: admission is sealed (nobody may spawn any more), the
///    pending timers are dropped, every job not yet started is dropped
///    (workers drop what they pop from then on, and this thread empties
///    the queues), and the running ones are waited for. Then the timers
///    close, under their lock and only while nothing is in flight, and
///    those still pending are dropped.
/// 3. `.stopping`: admission is sealed and the workers are told to exit;
///    each runs `onThreadStop`, and all are joined.
/// 4. `.stopped`: every drop has run; the outcome says whether the timeout
///    dropped anything. The C layer then frees the caller's reference.
///
/// A forked child's copy of a running runtime (Fork.swift) never moves:
/// its lifecycle lock may be held by a thread that stayed in the parent,
/// so it is recognised through the fork registry instead.
public final class RuntimeCore: @unchecked Sendable {
  /// Where the runtime is in its life. Changed only by `advance(to:)`.
  enum Lifecycle {
    /// `start` is starting the workers.
    case starting
    case running(threads: [OSThread])
    /// Steps 1 and 2: admission closed, draining.
    case draining(threads: [OSThread])
    /// Step 2 after the timeout: sealed, dropping what has not started.
    case dropping(threads: [OSThread])
    /// Step 3: sealed, workers told to exit and being joined.
    case stopping
    /// Step 4 (or a start that failed): no thread left, every drop ran.
    case stopped(droppedByTimeout: Bool)
  }

  /// What workers read of the lifecycle, without the lock: one byte,
  /// written only by `advance(to:)`, so the cache line stays shared and
  /// the check after each job costs a plain load.
  enum Phase: UInt8 {
    case running = 0, draining = 1, dropping = 2, stopping = 3
  }

  /// How `shutdown(timeout:)` ended.
  public enum ShutdownOutcome: Sendable, Equatable {
    /// Every accepted task ran (pending timers were dropped); stopped.
    case completed
    /// The timeout elapsed: tasks not yet started were dropped; stopped.
    case timedOut
    /// Refused: called on one of the runtime's own workers, which would
    /// wait for itself. Nothing changed.
    case onOwnWorker
    /// Refused: another shutdown began first. Nothing changed.
    case alreadyShutDown
    /// Refused: this is a forked child's copy, whose workers stayed in the
    /// parent (Fork.swift). Nothing changed, and it is never reclaimed.
    case inheritedByFork
  }

  /// What the C API checks a handle against (see ObjectTag.swift).
  package let tag = ObjectTag(.runtime)
  public let config: RuntimeConfig
  public let workerCount: Int
  let workers: [WorkerState]
  /// In the worker slot of the blocking threads (BlockingPool.swift).
  let blockingState: WorkerState
  let blocking: BlockingPool
  /// Nil when `strandedAfter` is `.max` (Monitor.swift).
  let monitor: Monitor?
  let inject: InjectQueue
  let timers = Timers()
  let signals = SignalSlots()
  /// Loops not yet freed (Loop.swift).
  let loops = LoopRegistry()
  let parking: Parking
  let admission = Admission()
  let ledger: Ledger
  let phase = PaddedAtomic<UInt8>(Phase.running.rawValue)
  let startedWorkers = FutexWord()
  /// Bumped by each worker that runs out of work while the runtime drains.
  let drainEvent = FutexWord()
  private let lifecycle = Lock(Lifecycle.starting)
  /// Set once by `start`, joined by `shutdown`.
  private var monitorThread: OSThread?

  private init(config: RuntimeConfig) {
    self.config = config
    // Each worker's queue is a large allocation: after a failed one (see
    // `Allocation`), building more would only drain this thread's reserve
    // for a runtime that `start` discards anyway.
    var built: [WorkerState] = []
    for index in 0..<config.resolvedWorkers {
      if Allocation.failed { break }
      built.append(WorkerState(index: index, queueCapacity: config.localCapacity))
    }
    workers = built
    workerCount = built.count
    blockingState = WorkerState(index: -1, queueCapacity: 2, ownsQueue: false)
    blocking = BlockingPool(maxThreads: config.resolvedMaxBlockingThreads, keepAlive: config.blockingKeepAlive)
    monitor = config.strandedAfter == .max ? nil : Monitor(strandedAfter: config.strandedAfter)
    inject = InjectQueue(capacity: config.injectCapacity)
    parking = Parking(workers: workerCount)
    ledger = Ledger(capacity: config.queueCapacity)
  }

  deinit {
    // Workers hold the runtime until they are joined, so only a runtime
    // that stopped (or never started) can be freed.
    lifecycle.withLock { state in
      guard case .stopped = state else { preconditionFailure("rtctx: a runtime was freed while \(state.name)") }
    }
    tag.clear()
  }

  /// Starts a runtime and returns once every worker ran its start hook;
  /// nil for a bad configuration or if the system refused a thread (the
  /// workers already started are then stopped and joined).
  public static func start(_ config: RuntimeConfig) -> RuntimeCore? {
    guard (0...RuntimeConfig.maxWorkers).contains(config.workers), config.queueCapacity >= 0,
      config.maxBlockingThreads >= 0
    else { return nil }
    precondition(config.localCapacity >= RuntimeCore.overflowBatch, "rtctx: local queues must hold an overflow batch")
    let runtime = RuntimeCore(config: config)
    runtime.blockingState.runtimeAddress = Unmanaged.passUnretained(runtime).toOpaque()
    var threads: [OSThread] = []
    // Out of memory (`Allocation`) stops the start like a refused thread.
    for worker in runtime.workers where !Allocation.failed {
      worker.runtimeAddress = Unmanaged.passUnretained(runtime).toOpaque()
      guard let thread = config.startThread(config.workerName(worker.index), {
        runtime.workerMain(worker)
      }) else { break }
      threads.append(thread)
    }
    // Acquiring: pairs with each worker's releasing count after its hook.
    while true {
      let started = runtime.startedWorkers.atomic.pointee.load(ordering: .acquiring)
      if started == threads.count { break }
      runtime.startedWorkers.wait(whileEqualTo: started)
    }
    var monitorThread: OSThread?
    if threads.count == runtime.workerCount, !Allocation.failed, let monitor = runtime.monitor {
      monitorThread = config.startThread(config.monitorThreadName, { runtime.monitorMain(monitor) })
    }
    guard threads.count == runtime.workerCount, monitorThread != nil || runtime.monitor == nil,
      runtime.workerCount == config.resolvedWorkers, !Allocation.failed
    else {
      if let monitorThread {
        runtime.monitor?.stop()
        monitorThread.join()
      }
      runtime.advance(to: .stopping)
      runtime.joinWorkers(threads)
      runtime.advance(to: .stopped(droppedByTimeout: false))
      return nil
    }
    runtime.monitorThread = monitorThread
    runtime.advance(to: .running(threads: threads))
    Fork.register(runtime)
    return runtime
  }

  // MARK: Lifecycle

  /// The one place the lifecycle changes: `next` maps the current state
  /// to the one to enter, or nil to stay (then nothing happens and nil is
  /// returned). Each state's side effects on what other threads see (the
  /// admission word, the workers' phase) are made here, in the order the
  /// steps need; an edge the steps do not take is a bug and stops the
  /// process.
  @discardableResult
  private func advance(_ next: (Lifecycle) -> Lifecycle?) -> Lifecycle? {
    let entered: Lifecycle? = lifecycle.withLock { state in
      guard let next = next(state) else { return nil }
      switch (state, next) {
      case (.starting, .running), (.starting, .stopping),
        (.running, .draining), (.draining, .dropping), (.draining, .stopping),
        (.dropping, .stopping), (.stopping, .stopped):
        break
      default:
        preconditionFailure("rtctx: the lifecycle cannot go from \(state.name) to \(next.name)")
      }
      state = next
      return next
    }
    // Sequentially consistent: a worker that reads the new phase, or a
    // caller refused by the admission word, is ordered after everything
    // the shutdown thread did before this step.
    switch entered {
    case nil, .starting, .running, .stopped:
      break
    case .draining:
      publish(.draining)
      admission.close()
    case .dropping:
      admission.seal()
      publish(.dropping)
    case .stopping:
      admission.seal()
      publish(.stopping)
      parking.notifyAll()
    }
    return entered
  }

  private func advance(to next: Lifecycle) { advance { _ in next } }

  private func publish(_ next: Phase) {
    phase.word.pointee.store(next.rawValue, ordering: .sequentiallyConsistent)
  }

  /// What workers check after each job, and before they sleep: a plain
  /// load and a compare.
  @inline(__always)
  func inPhase(_ expected: Phase) -> Bool { phase.word.pointee.load(ordering: .relaxed) == expected.rawValue }

  /// Whether workers must exit (step 3). Acquiring (or stronger, for the
  /// parking handshake): a worker that sees it also sees every drop the
  /// shutdown thread made before.
  var isStopping: Bool { phase.word.pointee.load(ordering: .acquiring) == Phase.stopping.rawValue }
  var isStoppingSequentiallyConsistent: Bool {
    phase.word.pointee.load(ordering: .sequentiallyConsistent) == Phase.stopping.rawValue
  }

  /// `rt_shutdown` (timeout nil) and `rt_shutdown_timeout`: the steps
  /// atop this file.
  public func shutdown(timeout: UInt64?) -> ShutdownOutcome {
    // In a forked child no worker exists to drain or join (Fork.swift).
    if Fork.isInherited(self) { return .inheritedByFork }
    if isCurrentWorker || isRunningLoopJob { return .onOwnWorker }
    // Step 1, if no other shutdown began.
    let began = advance { state in
      guard case .running(let threads) = state else { return nil }
      return .draining(threads: threads)
    }
    guard case .draining(let threads) = began else { return .alreadyShutDown }
    // Step 2.
    let deadline = timeout.flatMap { Deadline.after(nanoseconds: $0) }
    if !waitDrained(deadline: deadline) {
      dropNotStarted(threads)
      _ = waitDrained(deadline: nil)
    }
    return finishShutdown(threads)
  }

  /// Step 2 after a timeout, or at once for a background shutdown: seals
  /// admission and drops every job and timer that has not started.
  private func dropNotStarted(_ threads: [OSThread]) {
    advance(to: .dropping(threads: threads))
    timers.close(if: { true })?.forEach { dropTimer(.task(retained: $0.cell)) }
    dropQueuedJobs()
    loops.all.forEach { $0.sweepForShutdown() }
    dropQueuedBlockingJobs { job in
      if dropQueued(job) { ledger.droppedByShutdown() } else { ledger.entryDoneElsewhere() }
    }
  }

  /// `rt_shutdown_background`: admission closes and everything not started
  /// is dropped (as after a timeout) on the calling thread, which returns
  /// then; the rest of the steps, waiting for the tasks already running and
  /// joining the threads, happen on a detached reaper thread. The reaper
  /// holds a reference to the runtime and lets it go last, so the runtime
  /// is freed once its last thread is done (and its last handle released).
  ///
  /// Why a reaper rather than threads that free the runtime themselves:
  /// the workers, the blocking pool and the monitor each hold the runtime
  /// until they are joined, and the ordinary steps 3 and 4 already know
  /// how to end them in order; one more thread, started before anything
  /// changes (so that a refused thread changes nothing), reuses them as
  /// they are. Called on one of the runtime's own threads it works too: that
  /// thread's task is one of the running ones.
  public func shutdownBackground() -> BackgroundShutdownOutcome {
    if Fork.isInherited(self) { return .inheritedByFork }
    // No thread for a shutdown refused anyway (checked again below, where
    // it counts: a racing shutdown may still win, and the reaper exits).
    guard case .running = lifecycle.withLock({ $0 }) else { return .alreadyShutDown }
    final class Go: @unchecked Sendable {
      /// 0 wait, 1 finish the shutdown, 2 exit (the shutdown was refused).
      let word = FutexWord(0)
      func tell(_ value: UInt32) {
        word.atomic.pointee.store(value, ordering: .releasing)
        word.wakeAll()
      }
    }
    let go = Go()
    // The reaper's closure holds `self` strongly: the reference it lets go last.
    guard let reaper = config.startThread(config.reaperThreadName, { [self] in
      while go.word.atomic.pointee.load(ordering: .acquiring) == 0 { go.word.wait(whileEqualTo: 0) }
      guard go.word.atomic.pointee.load(ordering: .acquiring) == 1,
        case .dropping(let threads) = lifecycle.withLock({ $0 })
      else { return }
      _ = waitDrained(deadline: nil)
      _ = finishShutdown(threads)
    }) else { return .noThread }
    reaper.detach()
    let began = advance { state in
      guard case .running(let threads) = state else { return nil }
      return .draining(threads: threads)
    }
    guard case .draining(let threads) = began else {
      go.tell(2)
      return .alreadyShutDown
    }
    dropNotStarted(threads)
    go.tell(1)
    return .started
  }

  /// How `shutdownBackground()` ended.
  public enum BackgroundShutdownOutcome: Sendable, Equatable {
    /// Admission is sealed, what had not started was dropped; the reaper
    /// finishes the rest.
    case started
    /// Refused: another shutdown began first. Nothing changed.
    case alreadyShutDown
    /// Refused: a forked child's copy (Fork.swift). Nothing changed.
    case inheritedByFork
    /// Refused: the system would not start the reaper thread. Nothing changed.
    case noThread
  }

  /// Steps 2 (the end) to 4, once no job is in flight.
  private func finishShutdown(_ threads: [OSThread]) -> ShutdownOutcome {
    // What signal handlers posted before this shutdown began runs
    // (SignalSlot.swift); then no run is admitted any more.
    while !signals.close(on: self, if: { inFlight == 0 }) { _ = waitDrained(deadline: nil) }
    while true {
      if let pending = timers.close(if: { inFlight == 0 }) {
        pending.forEach { dropTimer(.task(retained: $0.cell)) }
        break
      }
      _ = waitDrained(deadline: nil)
    }
    // Step 3.
    advance(to: .stopping)
    monitor?.stop()
    stopBlockingThreads()
    joinWorkers(threads)
    joinBlockingThreads()
    monitorThread?.join()
    releaseSurplusWakeUps()
    // Step 4.
    precondition(inFlight == 0, "rtctx: a job is still in flight after the workers stopped")
    let timedOut = ledger.anyDroppedByTimeout
    loops.close()
    advance(to: .stopped(droppedByTimeout: timedOut))
    Fork.unregister(self)
    return timedOut ? .timedOut : .completed
  }

  /// True inside a job of one of this runtime's loops (Loop.swift): that
  /// job is in flight, so a shutdown here would wait for itself.
  private var isRunningLoopJob: Bool {
    guard let loop = ThreadSlots.loop else { return false }
    return Unmanaged<LoopCore>.fromOpaque(loop)._withUnsafeGuaranteedRef { $0.runtime === self }
  }

  private func joinWorkers(_ threads: [OSThread]) {
    threads.forEach { $0.join() }
  }

  /// Jobs accepted and not yet done with (see `Ledger.inFlight`).
  var inFlight: UInt64 { ledger.inFlight(workers) { admission.accepted } }

  private func waitDrained(deadline: UInt64?) -> Bool {
    // Nobody else runs the jobs of the loops this thread owns (Loop.swift).
    let owned = loops.owned
    while true {
      let event = drainEvent.atomic.pointee.load(ordering: .acquiring)
      if inFlight == 0 { return true }
      if owned.reduce(0, { $0 + $1.runPending(max: .max) }) > 0 { continue }
      if !drainEvent.wait(whileEqualTo: event, deadline: deadline) { return inFlight == 0 }
    }
  }

  /// The shutdown thread's share of dropping: it empties every queue,
  /// while the workers drop whatever they pop.
  private func dropQueuedJobs() {
    func dropOne(_ job: Job) {
      if job.isStrandWakeUp {
        // Not a job: the strand's own jobs are dropped and counted one by one.
        if case .strand(let strand) = job.take() { strand.dropAll(dropOne) }
        return
      }
      if dropQueued(job) { ledger.droppedByShutdown() } else { ledger.entryDoneElsewhere() }
    }
    while let job = inject.pop() { dropOne(job) }
    while inject.popOverflowBatch(max: 256, into: dropOne) > 0 {}
    for worker in workers { while let job = worker.local.pop() { dropOne(job) } }
  }

  /// After the workers exit, the queues can hold only strand wake-ups that
  /// a worker's inline drain made surplus (Strand.swift): every job was
  /// done with before step 3. Each holds a retain of its strand.
  private func releaseSurplusWakeUps() {
    func release(_ job: Job) {
      precondition(job.isStrandWakeUp, "rtctx: a job was left in a run queue after the workers stopped")
      _ = job.take()
    }
    while let job = inject.pop() { release(job) }
    while inject.popOverflowBatch(max: 256, into: release) > 0 {}
    for worker in workers { while let job = worker.local.pop() { release(job) } }
  }

  /// Drops a queued job that never started; false if its cell was already
  /// claimed elsewhere. The caller counts it.
  func dropQueued(_ job: Job) -> Bool {
    switch job.take() {
    case .fn:
      return true
    case .posted(let work):
      work.drop()
      return true
    case .task(let cell):
      guard cell.transition(from: .queued, to: .claimed) else { return false }
      cell.dropClaimed()
      return true
    case .strand:
      preconditionFailure("rtctx: a strand's wake-up was dropped as a job")
    }
  }

  /// Drops a timer that never fell due.
  private func dropTimer(_ job: Job) {
    guard case .task(let cell) = job.take(), cell.transition(from: .timer, to: .claimed) else { return }
    ledger.timerGone()
    cell.endsInFlight = false
    cell.dropClaimed()
    ledger.droppedElsewhere()
  }

  // MARK: The calling thread

  /// The calling thread's worker, if it is one of this runtime's.
  /// Unretained: a worker lives as long as its runtime, and a spawn from
  /// outside should not pay for reference counting a nil.
  @inline(__always)
  var currentWorkerUnretained: Unmanaged<WorkerState>? {
    guard let slot = ThreadSlots.worker else { return nil }
    let worker = Unmanaged<WorkerState>.fromOpaque(slot)
    let mine = worker._withUnsafeGuaranteedRef {
      $0.runtimeAddress == Unmanaged.passUnretained(self).toOpaque()
    }
    return mine ? worker : nil
  }

  /// True on the threads of this runtime: its workers and its blocking
  /// threads (where its tasks run too).
  public var isCurrentWorker: Bool { currentWorkerUnretained != nil }

  /// True on the threads that run this runtime's worker loops (not its
  /// blocking threads): where waiting could hold up queued work.
  public var isCurrentWorkerLoop: Bool { currentQueueOwner != nil }

  /// The calling thread's worker if it runs one of this runtime's worker
  /// loops (not a blocking thread): the one whose queue it may use.
  @inline(__always)
  var currentQueueOwner: Unmanaged<WorkerState>? {
    guard let worker = currentWorkerUnretained, worker._withUnsafeGuaranteedRef({ $0.ownsQueue }) else { return nil }
    return worker
  }

  // MARK: Accepting work

  /// Queues a job. `bounded` applies the configured queue capacity; `owed`
  /// admits it while draining whoever calls (work the runtime already
  /// accepted, like a group's notification), refusing it only once sealed.
  /// A job refused is consumed here (its cell or box released, never run),
  /// so the caller only reports the error.
  @inline(__always)
  func submit(_ job: Job, bounded: Bool, owed: Bool = false) -> RuntimeError? {
    let worker = currentWorkerUnretained
    if let error = admit(job, bounded: bounded, fromWorker: owed || worker != nil, fallible: !owed) { return error }
    enqueue(job, worker: worker)
    return nil
  }

  /// Counts a job in (and reserves its queue capacity), or refuses and
  /// consumes it. A strand admits its jobs here, then queues them itself.
  /// The commit point of every spawn: `fallible` (all but work the runtime
  /// owes, and a signal handler's post, which allocates nothing) refuses
  /// the job if an allocation for it failed (`Allocation`).
  @inline(__always)
  func admit(_ job: Job, bounded: Bool, fromWorker: Bool, fallible: Bool = true) -> RuntimeError? {
    if fallible && Allocation.failed { return refuse(job, .outOfMemory) }
    if bounded {
      if !ledger.bound.reserve() { return refuse(job, .queueFull) }
    } else {
      ledger.bound.reserveAlways()
    }
    guard admission.enter(fromWorker: fromWorker) else {
      ledger.bound.release()
      return refuse(job, .shutDown)
    }
    return nil
  }

  /// Whether a spawn by the calling thread would be refused now (shut down,
  /// or shutting down and the caller is not one of the runtime's tasks, or
  /// inherited by fork()), without counting anything in: what
  /// `rt_strand_new`, `rt_group_new` and `rt_apply` check up front.
  package var refusesCaller: Bool { isInheritedByFork || admission.refuses(fromWorker: isCurrentWorker) }

  /// Puts an admitted job (or a strand's wake-up) in a run queue and wakes
  /// a worker for it.
  @inline(__always)
  func enqueue(_ job: Job, worker: Unmanaged<WorkerState>?) {
    if let worker, worker._withUnsafeGuaranteedRef({ $0.ownsQueue }) {
      // A task's children stay on its worker until someone steals them
      // (or the monitor moves them, if the task runs long).
      worker._withUnsafeGuaranteedRef { pushLocal(job, on: $0) }
      monitor?.noteLocalWork()
    } else {
      inject.push(job)
    }
    parking.notify()
  }

  @inline(never)
  private func refuse(_ job: Job, _ error: RuntimeError) -> RuntimeError {
    _ = job.take()
    ledger.refused()
    return error
  }

  private func pushLocal(_ job: Job, on worker: WorkerState) {
    if !worker.local.push(job) {
      worker.local.spillHalf { inject.pushOverflow($0) }
      let pushed = worker.local.push(job)
      precondition(pushed, "rtctx: a local queue is full right after spilling half of it")
    }
  }

  /// `rt_spawn`.
  @inline(__always)
  public func spawn(_ fn: @escaping CTaskFn, _ arg: UnsafeMutableRawPointer?) -> RuntimeError? {
    submit(.fn(fn, arg), bounded: true)
  }

  /// A Swift closure, fire and forget (`Handle.spawn`): bounded like
  /// `rt_spawn`, and as cheap as a job with a body can be.
  public func spawn(_ body: @escaping @Sendable () -> Void) -> RuntimeError? {
    submit(.posted(PostedClosure(body)), bounded: true)
  }

  /// `rt_spawn_full` (`delay` nil) and `rt_spawn_after`; returns the join
  /// handle's cell when `joinable`. Only `rt_spawn_full` is bounded by the
  /// queue capacity; a timer is never refused for a full queue, even with
  /// delay 0.
  public func spawn(
    _ body: TaskBody, after delay: UInt64? = nil, joinable: Bool
  ) -> Result<TaskCell?, RuntimeError> {
    let cell = TaskCell(body, runtime: self, state: (delay ?? 0) == 0 ? .queued : .timer)
    guard let delay, delay > 0 else {
      if let error = submit(.task(cell), bounded: delay == nil) { return .failure(error) }
      return .success(joinable ? cell : nil)
    }
    return schedule(cell, after: delay).map { joinable ? cell : nil }
  }

  /// Adds a timer for `cell` (in state `timer`); the heap keeps it only
  /// if accepted.
  func schedule(_ cell: TaskCell, after delay: UInt64) -> Result<Void, RuntimeError> {
    // A delay too far to represent never falls due (dropped at shutdown).
    schedule(cell, due: Deadline.after(nanoseconds: delay) ?? .max)
  }

  /// As `schedule(_:after:)`, at a time on the monotonic clock (a repeating
  /// timer's next multiple of its period, RepeatingTimer.swift).
  ///
  /// `wakeOne`: the earliest timer wakes one sleeping worker (unless one
  /// searches already) rather than all: for a repeating timer's next
  /// firing, scheduled on a worker, which looks at the timers itself
  /// before it sleeps; the one woken covers the case where that worker
  /// stays busy. Waking every worker at every firing cost more CPU than
  /// the firing itself.
  func schedule(_ cell: TaskCell, due: UInt64, wakeOne: Bool = false) -> Result<Void, RuntimeError> {
    // The commit point of a timer, as `admit` is of a queued job.
    if !timers.makeRoom() || Allocation.failed {
      ledger.refused()
      return .failure(.outOfMemory)
    }
    // A timer is accepted while admission is open; if the drain already
    // closed the timers, it is refused there.
    guard !admission.isSealed, !admission.isClosed || isCurrentWorker,
      let earliest = timers.add(due: due, cell: cell, onAccepted: ledger.timerAccepted)
    else {
      ledger.refused()
      return .failure(.shutDown)
    }
    if earliest && wakeOne {
      parking.notify()
    } else if earliest && parking.hasSleepers {
      parking.notifyAll()
    }
    return .success(())
  }

  /// `rt_task_cancel` of a timer: the canceller won the cell's CAS out of
  /// `timer`, so the cell's heap entry goes now (unless a firing or the
  /// shutdown's close popped it first and just releases it), and with it
  /// the heap's reference to the cell and its argument.
  func timerCancelled(_ cell: TaskCell) {
    timers.remove(cell)
    ledger.timerGone()
  }

  /// Queues `work` to run once, whatever the queue capacity (executor
  /// jobs, trampoline calls): no join handle, no cell.
  public func post(_ work: PostedWork) -> RuntimeError? {
    submit(.posted(work), bounded: false)
  }

  /// As `post(_:)`, for a body with a drop callback.
  public func post(_ body: TaskBody) -> RuntimeError? {
    post(PostedBody(body))
  }

  /// `rt_block_on`: runs `body` on a worker and waits; inline on a worker
  /// of this runtime.
  public func blockOn(_ body: TaskBody) -> Result<UnsafeMutableRawPointer?, RuntimeError> {
    // First: a child forked by a task is "on a worker" too (Fork.swift).
    if isInheritedByFork { return .failure(.shutDown) }
    if isCurrentWorker { return .success(body.run()) }
    let cell = TaskCell(body, runtime: self, state: .queued)
    if let error = submit(.task(cell), bounded: false) { return .failure(error) }
    return cell.join(deadline: nil)
  }

  // MARK: Timers

  /// Moves due timers to the run queue, and queues the runs that signal
  /// handlers posted (SignalSlot.swift); true if any moved.
  @discardableResult
  func fireDueTimers() -> Bool {
    if signals.queuePosted(on: self) { return true }
    if timers.nextDue.load(ordering: .relaxed) == .max { return false }
    var moved = false
    // Queued after the timer lock is let go: a closed loop drops them.
    var forLoops: [Job] = []
    timers.fireDue(now: monotonicNow()) { job in
      if let cell = job.cell, !cell.transition(from: .timer, to: .queued) {
        _ = job.take()  // cancelled while pending: release the heap's retain
        return
      }
      // The runtime owes a due timer its run, even while draining: it is
      // in flight from here (`Ledger.inFlight` counts fired timers).
      ledger.timerFired()
      if job.cell?.loop != nil {
        forLoops.append(job)
        return
      } else if let strand = job.cell?.strand {
        // A strand's timer joins the strand's queue (Strand.swift).
        strand.enqueueAdmitted(job)
      } else {
        inject.push(job)
      }
      moved = true
    }
    if moved { parking.notify() }
    for job in forLoops { job.cell!.loop!.enqueueFired(job) }
    return moved || !forLoops.isEmpty
  }

  /// When the earliest pending timer falls due (`UInt64.max`: none).
  var nextTimerDue: UInt64 { timers.nextDue.load(ordering: .relaxed) }

  // MARK: Observing

  public struct Stats: Sendable {
    public var workers: Int
    public var spawned, completed, dropped, queued, timers, rejected: UInt64
    public var shutdown: Bool
    public var strands, strandTurns, groups: UInt64
    public var blockingThreads, blockingThreadsPeak: UInt64
    public var blockingSpawned, blockingRegions, handOffs, strandedMoved, joinsHelped: UInt64
  }

  public var stats: Stats {
    // Admission, not the lifecycle lock: "shutdown" means outsiders are
    // refused, and a forked child, whose copy of the lock may be held by a
    // thread that stayed in the parent, reads it too (Fork.swift).
    ledger.stats(
      workers, accepted: { admission.accepted }, shutdown: admission.isClosed,
      blockingThreads: blocking.threadCount.load(ordering: .relaxed),
      blockingThreadsPeak: blocking.peakCount.load(ordering: .relaxed))
  }
}

extension RuntimeCore.Lifecycle {
  /// For the messages of the lifecycle's preconditions.
  var name: StaticString {
    switch self {
    case .starting: "starting"
    case .running: "running"
    case .draining: "draining"
    case .dropping: "dropping"
    case .stopping: "stopping"
    case .stopped: "stopped"
    }
  }
}
