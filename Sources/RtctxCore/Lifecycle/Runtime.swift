import Synchronization

/// A running runtime: its workers, queues, timers and counters.
///
/// A C `rt_handle_t` is a retained reference to this object, so handles
/// keep it alive after shutdown and can answer `.shutDown`.
///
/// Shutdown, in the steps `rt_shutdown` documents:
///
/// 1. Close admission: callers outside the workers are refused from now on;
///    the runtime's own tasks may still spawn, so work in flight can finish.
/// 2. Drain: wait until no job is queued or running. Timers falling due
///    meanwhile run. If a timeout elapses first: seal admission (nobody may
///    spawn any more), drop the pending timers, drop every job not yet
///    started (workers drop what they pop from then on, and this thread
///    empties the queues), and wait for the running ones.
/// 3. Close the timers, under their lock and only while nothing is in
///    flight, and drop those still pending.
/// 4. Seal admission and stop the workers; each runs `onThreadStop`, and
///    all are joined. Every drop has run; the lifecycle is `.stopped`.
public final class RuntimeCore: @unchecked Sendable {
  enum Lifecycle {
    case running(threads: [OSThread])
    case shuttingDown
    case stopped
  }

  /// What workers check after each job; written only by shutdown, so the
  /// cache line stays shared and the check costs a plain load.
  enum Phase: UInt8 {
    case running = 0, draining = 1, dropping = 2
  }

  /// What the C API checks a handle against (see ObjectTag.swift).
  package let tag = ObjectTag(.runtime)
  public let config: RuntimeConfig
  public let workerCount: Int
  let workers: [WorkerState]
  let inject = InjectQueue()
  let timers = Timers()
  let parking: Parking
  let admission = Admission()
  let bound: QueueBound
  let counters = Counters()
  let phase = PaddedAtomic<UInt8>(Phase.running.rawValue)
  let stopping = Atomic<Bool>(false)
  let startedWorkers = FutexWord()
  /// Bumped by each worker that runs out of work while the runtime drains.
  let drainEvent = FutexWord()
  private let lifecycle = Lock(Lifecycle.running(threads: []))
  /// Jobs dropped because a shutdown timeout elapsed (not pending timers).
  private let droppedByTimeout = Atomic<UInt64>(0)

  private init(config: RuntimeConfig) {
    self.config = config
    workerCount = config.resolvedWorkers
    workers = (0..<workerCount).map { WorkerState(index: $0) }
    parking = Parking(workers: workerCount)
    bound = QueueBound(capacity: config.queueCapacity)
  }

  deinit { tag.clear() }

  /// Starts a runtime and returns once every worker ran its start hook;
  /// nil for a bad configuration or if the system refused a thread (the
  /// workers already started are then stopped and joined).
  public static func start(_ config: RuntimeConfig) -> RuntimeCore? {
    guard (0...RuntimeConfig.maxWorkers).contains(config.workers), config.queueCapacity >= 0
    else { return nil }
    let runtime = RuntimeCore(config: config)
    var threads: [OSThread] = []
    for worker in runtime.workers {
      worker.runtimeAddress = Unmanaged.passUnretained(runtime).toOpaque()
      guard let thread = OSThread.start(name: config.threadName + "-" + String(worker.index), {
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
    guard threads.count == runtime.workerCount else {
      runtime.admission.seal()
      runtime.stopWorkers(threads)
      return nil
    }
    runtime.lifecycle.withLock { $0 = .running(threads: threads) }
    Fork.register(runtime)
    return runtime
  }

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

  /// True on the worker threads of this runtime.
  public var isCurrentWorker: Bool { currentWorkerUnretained != nil }

  // MARK: Accepting work

  /// Queues a job. `bounded` applies the configured queue capacity.
  @inline(__always)
  func submit(_ job: Job, bounded: Bool) -> RuntimeError? {
    if bound.isActive && !bound.reserve(force: !bounded) { return refuse(.queueFull) }
    let worker = currentWorkerUnretained
    guard admission.enter(fromWorker: worker != nil) else {
      if bound.isActive { bound.release() }
      return refuse(.shutDown)
    }
    if let worker {
      // A task's children stay on its worker until someone steals them.
      worker._withUnsafeGuaranteedRef { pushLocal(job, on: $0) }
    } else {
      inject.push(job)
    }
    parking.notify()
    return nil
  }

  @inline(never)
  private func refuse(_ error: RuntimeError) -> RuntimeError {
    counters.rejected.add(1, ordering: .relaxed)
    return error
  }

  private func pushLocal(_ job: Job, on worker: WorkerState) {
    if !worker.local.push(job) {
      worker.local.spillHalf { inject.pushOverflow($0) }
      _ = worker.local.push(job)
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
    let job = Job.closure(ClosureBox(body))
    let error = submit(job, bounded: true)
    if error != nil { _ = job.take() }
    return error
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
      let job = Job.task(cell)
      if let error = submit(job, bounded: delay == nil) {
        _ = job.take()  // refused: give back the queue's retain of the cell
        return .failure(error)
      }
      return .success(joinable ? cell : nil)
    }
    // A delay too far to represent never falls due (dropped at shutdown).
    let due = Deadline.after(nanoseconds: delay) ?? .max
    return schedule(.task(cell), due: due).map { joinable ? cell : nil }
  }

  private func schedule(_ job: Job, due: UInt64) -> Result<Void, RuntimeError> {
    // A timer is accepted while admission is open; if the drain already
    // closed the timers, it is refused there.
    guard !admission.isSealed, !admission.isClosed || isCurrentWorker,
      let earliest = timers.add(due: due, job: job, onAccepted: {
        counters.timersAccepted.add(1, ordering: .relaxed)
      })
    else {
      _ = job.take()  // releases the cell
      counters.rejected.add(1, ordering: .relaxed)
      return .failure(.shutDown)
    }
    if earliest && parking.hasSleepers { parking.notifyAll() }
    return .success(())
  }

  /// Queues `body` to run once, whatever the queue capacity (trampoline
  /// calls, executor jobs): no join handle.
  public func post(_ body: TaskBody) -> RuntimeError? {
    let job = Job.task(TaskCell(body, runtime: self, state: .queued))
    let error = submit(job, bounded: false)
    if error != nil { _ = job.take() }
    return error
  }

  /// `rt_block_on`: runs `body` on a worker and waits; inline on a worker
  /// of this runtime.
  public func blockOn(_ body: TaskBody) -> Result<UnsafeMutableRawPointer?, RuntimeError> {
    if isCurrentWorker { return .success(body.run()) }
    let cell = TaskCell(body, runtime: self, state: .queued)
    let job = Job.task(cell)
    if let error = submit(job, bounded: false) {
      _ = job.take()
      return .failure(error)
    }
    return cell.join(deadline: nil)
  }

  // MARK: Claims off the workers

  /// A queued cell was claimed by a canceller or an inline joiner.
  func claimedElsewhere() {
    counters.claimedElsewhere.add(1, ordering: .relaxed)
    if bound.isActive { bound.release() }
  }

  // MARK: Timers

  /// Moves due timers to the run queue; true if any moved.
  @discardableResult
  func fireDueTimers() -> Bool {
    if timers.nextDue.load(ordering: .relaxed) == .max { return false }
    var moved = false
    timers.fireDue(now: monotonicNow()) { job in
      if let cell = job.cell, !cell.transition(from: .timer, to: .queued) {
        _ = job.take()  // cancelled while pending: release the heap's retain
        return
      }
      // The runtime owes a due timer its run, even while draining.
      admission.force()
      counters.timersFired.add(1, ordering: .relaxed)
      if bound.isActive { _ = bound.reserve(force: true) }
      inject.push(job)
      moved = true
    }
    if moved { parking.notify() }
    return moved
  }

  // MARK: Shutdown

  /// Jobs accepted and not yet done with. Reads the finished counts
  /// before the accepted count: both only grow, so a zero means that at
  /// the later read everything accepted had finished.
  var inFlight: UInt64 {
    var finished = counters.finishedElsewhere.load(ordering: .acquiring)
    for worker in workers { finished &+= worker.counters.finished.load(ordering: .acquiring) }
    return admission.accepted &- finished
  }

  private func waitDrained(deadline: UInt64?) -> Bool {
    while true {
      let event = drainEvent.atomic.pointee.load(ordering: .acquiring)
      if inFlight == 0 { return true }
      if !drainEvent.wait(whileEqualTo: event, deadline: deadline) { return inFlight == 0 }
    }
  }

  /// `rt_shutdown` (timeout nil) and `rt_shutdown_timeout`.
  public func shutdown(timeout: UInt64?) -> Result<Void, RuntimeError> {
    // In a forked child no worker exists to drain or join (Fork.swift).
    if Fork.isInherited(self) { return .failure(.shutDown) }
    if isCurrentWorker { return .failure(.wouldDeadlock) }
    let threads: [OSThread]? = lifecycle.withLock { state in
      guard case .running(let threads) = state else { return nil }
      state = .shuttingDown
      return threads
    }
    guard let threads else { return .failure(.shutDown) }

    // Step 1.
    phase.word.pointee.store(Phase.draining.rawValue, ordering: .sequentiallyConsistent)
    admission.close()
    // Step 2.
    let deadline = timeout.flatMap { Deadline.after(nanoseconds: $0) }
    if !waitDrained(deadline: deadline) {
      admission.seal()
      phase.word.pointee.store(Phase.dropping.rawValue, ordering: .sequentiallyConsistent)
      timers.close(if: { true })?.forEach(dropTimer)
      dropQueuedJobs()
      _ = waitDrained(deadline: nil)
    }
    // Step 3.
    while true {
      if let pending = timers.close(if: { inFlight == 0 }) {
        pending.forEach(dropTimer)
        break
      }
      _ = waitDrained(deadline: nil)
    }
    // Step 4.
    admission.seal()
    stopWorkers(threads)
    lifecycle.withLock { $0 = .stopped }
    Fork.unregister(self)
    return droppedByTimeout.load(ordering: .relaxed) > 0 ? .failure(.timedOut) : .success(())
  }

  /// The shutdown thread's share of dropping: it empties every queue,
  /// while the workers drop whatever they pop.
  private func dropQueuedJobs() {
    func dropOne(_ job: Job) {
      if dropQueued(job) {
        counters.claimedElsewhere.add(1, ordering: .relaxed)
        counters.droppedElsewhere.add(1, ordering: .relaxed)
        droppedByTimeout.add(1, ordering: .relaxed)
      }
      counters.finishedElsewhere.add(1, ordering: .releasing)
    }
    while let job = inject.pop() { dropOne(job) }
    while inject.popOverflowBatch(max: 256, into: dropOne) > 0 {}
    for worker in workers { while let job = worker.local.pop() { dropOne(job) } }
  }

  /// Drops a queued job that never started; false if its cell was already
  /// claimed elsewhere.
  func dropQueued(_ job: Job) -> Bool {
    switch job.take() {
    case .fn, .closure:
      break
    case .task(let cell):
      guard cell.transition(from: .queued, to: .claimed) else { return false }
      cell.dropClaimed()
    }
    if bound.isActive { bound.release() }
    return true
  }

  func noteDroppedByTimeout() { droppedByTimeout.add(1, ordering: .relaxed) }

  /// Drops a timer that never fell due.
  private func dropTimer(_ job: Job) {
    guard case .task(let cell) = job.take(), cell.transition(from: .timer, to: .claimed) else { return }
    counters.timersGone.add(1, ordering: .relaxed)
    cell.dropClaimed()
    counters.droppedElsewhere.add(1, ordering: .relaxed)
  }

  private func stopWorkers(_ threads: [OSThread]) {
    stopping.store(true, ordering: .sequentiallyConsistent)
    parking.notifyAll()
    threads.forEach { $0.join() }
  }

  // MARK: Observing

  public struct Stats: Sendable {
    public var workers: Int
    public var spawned, completed, dropped, queued, timers, rejected: UInt64
    public var shutdown: Bool
  }

  public var stats: Stats {
    // Admission, not the lifecycle lock: "shutdown" means outsiders are
    // refused, and a forked child, whose copy of the lock may be held by a
    // thread that stayed in the parent, reads it too (Fork.swift).
    let stopped = admission.isClosed
    var completed = counters.completedElsewhere.load(ordering: .relaxed)
    var dropped = counters.droppedElsewhere.load(ordering: .relaxed)
    var claimedByWorkers: UInt64 = 0
    for worker in workers {
      completed &+= worker.counters.completed.load(ordering: .relaxed)
      dropped &+= worker.counters.dropped.load(ordering: .relaxed)
      claimedByWorkers &+= worker.counters.claimed.load(ordering: .relaxed)
    }
    let claimed = claimedByWorkers &+ counters.claimedElsewhere.load(ordering: .relaxed)
    let accepted = admission.accepted
    let timersAccepted = counters.timersAccepted.load(ordering: .relaxed)
    let timersFired = counters.timersFired.load(ordering: .relaxed)
    let timersGone = counters.timersGone.load(ordering: .relaxed)
    // Counters move independently while tasks run; a passing negative
    // reads as zero.
    func nonNegative(_ value: UInt64) -> UInt64 { value > UInt64(Int64.max) ? 0 : value }
    return Stats(
      workers: workerCount,
      spawned: accepted &- timersFired &+ timersAccepted,
      completed: completed,
      dropped: dropped,
      queued: nonNegative(accepted &- claimed),
      timers: nonNegative(timersAccepted &- timersFired &- timersGone),
      rejected: counters.rejected.load(ordering: .relaxed),
      shutdown: stopped)
  }
}
