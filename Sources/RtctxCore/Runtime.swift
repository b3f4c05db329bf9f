import Synchronization

/// A running runtime: its workers, queue, timers and counters.
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
///    spawn any more), drop every job not yet started, and wait for the
///    running ones.
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

  public let config: RuntimeConfig
  public let workerCount: Int
  let queue = RunQueue()
  let timers = Timers()
  let parking = Parking()
  let admission = Admission()
  let counters = Counters()
  let stopping = Atomic<Bool>(false)
  let startedWorkers = FutexWord()
  private let lifecycle = Mutex(Lifecycle.running(threads: []))
  /// Jobs dropped because a shutdown timeout elapsed (not pending timers).
  private let droppedByTimeout = Atomic<UInt64>(0)

  private init(config: RuntimeConfig) {
    self.config = config
    self.workerCount = config.resolvedWorkers
  }

  /// Starts a runtime and returns once every worker ran its start hook;
  /// nil for a bad configuration or if the system refused a thread (the
  /// workers already started are then stopped and joined).
  public static func start(_ config: RuntimeConfig) -> RuntimeCore? {
    guard (0...RuntimeConfig.maxWorkers).contains(config.workers), config.queueCapacity >= 0
    else { return nil }
    let runtime = RuntimeCore(config: config)
    var threads: [OSThread] = []
    for index in 0..<runtime.workerCount {
      guard let thread = OSThread.start(name: "\(config.threadName)-\(index)", { runtime.workerMain() })
      else { break }
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
    return runtime
  }

  /// True on the worker threads of this runtime.
  public var isCurrentWorker: Bool {
    ThreadSlots.worker == Unmanaged.passUnretained(self).toOpaque()
  }

  // MARK: Accepting work

  /// Queues a job. `bounded` applies the configured queue capacity.
  func submit(_ job: Job, bounded: Bool) -> RuntimeError? {
    guard admission.enter(fromWorker: isCurrentWorker) else {
      counters.rejectedOne()
      return .shutDown
    }
    guard queue.push(job, limit: bounded ? config.queueCapacity : 0) else {
      admission.leave()
      counters.rejectedOne()
      return .queueFull
    }
    counters.acceptedQueued()
    parking.wakeOne()
    return nil
  }

  /// `rt_spawn`.
  public func spawn(_ fn: @escaping CTaskFn, _ arg: UnsafeMutableRawPointer?) -> RuntimeError? {
    submit(.fn(fn, arg), bounded: true)
  }

  /// `rt_spawn_full` (`delay` nil) and `rt_spawn_after`; returns the join
  /// handle's cell when `joinable`. Only `rt_spawn_full` is bounded by the
  /// queue capacity; a timer is never refused for a full queue, even with
  /// delay 0.
  public func spawn(
    _ body: TaskBody, after delay: UInt64? = nil, joinable: Bool
  ) -> Result<TaskCell?, RuntimeError> {
    let job: Job
    var cell: TaskCell? = nil
    switch body {
    case .c(let fn, let arg, let drop) where !joinable:
      job = .call(fn, arg, drop)
    default:
      cell = TaskCell(body, runtime: self, state: (delay ?? 0) == 0 ? .queued : .timer)
      job = .task(cell!)
    }
    guard let delay, delay > 0 else {
      if let error = submit(job, bounded: delay == nil) { return .failure(error) }
      return .success(cell)
    }
    // A delay too far to represent never falls due (dropped at shutdown).
    return schedule(job, due: Deadline.after(nanoseconds: delay) ?? .max).map { cell }
  }

  private func schedule(_ job: Job, due: UInt64) -> Result<Void, RuntimeError> {
    // A timer is accepted while admission is open; if the drain already
    // closed the timers, it is refused there.
    guard !admission.isSealed, !admission.isClosed || isCurrentWorker,
      let earliest = timers.add(due: due, job: job, onAccepted: counters.acceptedTimer)
    else {
      counters.rejectedOne()
      return .failure(.shutDown)
    }
    if earliest { parking.wakeAllSleeping() }
    return .success(())
  }

  /// Queues `body` to run once, whatever the queue capacity (trampoline
  /// calls, executor jobs): no join handle.
  public func post(_ body: TaskBody) -> RuntimeError? {
    switch body {
    case .c(let fn, let arg, let drop): submit(.call(fn, arg, drop), bounded: false)
    case .swift: submit(.task(TaskCell(body, runtime: self, state: .queued)), bounded: false)
    }
  }

  /// `rt_block_on`: runs `body` on a worker and waits; inline on a worker
  /// of this runtime.
  public func blockOn(_ body: TaskBody) -> Result<UnsafeMutableRawPointer?, RuntimeError> {
    if isCurrentWorker { return .success(body.run()) }
    let cell = TaskCell(body, runtime: self, state: .queued)
    if let error = submit(.task(cell), bounded: false) { return .failure(error) }
    return cell.join(deadline: nil)
  }

  // MARK: Running work (workers)

  /// Runs one popped job, or drops it once a shutdown timeout sealed the
  /// runtime.
  func execute(_ job: Job) {
    defer { admission.leave() }
    if admission.isSealed {
      if drop(job) { droppedByTimeout.add(1, ordering: .relaxed) }
      return
    }
    switch job {
    case .fn(let fn, let arg):
      counters.dequeued()
      fn(arg)
    case .call(let fn, let arg, _):
      counters.dequeued()
      _ = fn(arg)
    case .task(let cell):
      // A cell is skipped if a joiner ran it inline or it was cancelled.
      guard cell.transition(from: .queued, to: .claimed) else { return }
      counters.dequeued()
      cell.runClaimed()
    }
    counters.completed()
  }

  /// Drops a queued job that never started; false if a cell was already
  /// claimed by someone else.
  private func drop(_ job: Job) -> Bool {
    switch job {
    case .fn:
      counters.dequeued()
    case .call(_, let arg, let drop):
      counters.dequeued()
      drop?(arg)
    case .task(let cell):
      guard cell.transition(from: .queued, to: .claimed) else { return false }
      counters.dequeued()
      cell.dropClaimed()
    }
    counters.droppedOne()
    return true
  }

  /// Drops a timer that never fell due.
  private func dropTimer(_ job: Job) {
    switch job {
    case .fn:
      counters.timerGone()
    case .call(_, let arg, let drop):
      counters.timerGone()
      drop?(arg)
    case .task(let cell):
      guard cell.transition(from: .timer, to: .claimed) else { return }
      counters.timerGone()
      cell.dropClaimed()
    }
    counters.droppedOne()
  }

  /// Moves due timers to the run queue; true if any moved.
  @discardableResult
  func fireDueTimers() -> Bool {
    if timers.nextDue.load(ordering: .relaxed) == .max { return false }
    var moved = 0
    timers.fireDue(now: monotonicNow()) { job in
      if case .task(let cell) = job, !cell.transition(from: .timer, to: .queued) {
        return  // cancelled while pending
      }
      // The runtime owes a due timer its run even while draining.
      admission.force()
      counters.timerDue()
      _ = queue.push(job)
      moved += 1
    }
    if moved > 1 { parking.wakeOne() }
    return moved > 0
  }

  // MARK: Shutdown

  /// `rt_shutdown` (timeout nil) and `rt_shutdown_timeout`.
  public func shutdown(timeout: UInt64?) -> Result<Void, RuntimeError> {
    if isCurrentWorker { return .failure(.wouldDeadlock) }
    let threads: [OSThread]? = lifecycle.withLock { state in
      guard case .running(let threads) = state else { return nil }
      state = .shuttingDown
      return threads
    }
    guard let threads else { return .failure(.shutDown) }

    // Step 1.
    admission.close()
    // Step 2.
    let deadline = timeout.flatMap { Deadline.after(nanoseconds: $0) }
    if !admission.waitDrained(deadline: deadline) {
      admission.seal()
      while let job = queue.pop() {
        if drop(job) { droppedByTimeout.add(1, ordering: .relaxed) }
        admission.leave()
      }
      _ = admission.waitDrained(deadline: nil)
    }
    // Step 3.
    while true {
      if let pending = timers.close(if: { admission.inFlight == 0 }) {
        pending.forEach(dropTimer)
        break
      }
      _ = admission.waitDrained(deadline: nil)
    }
    // Step 4.
    admission.seal()
    stopWorkers(threads)
    lifecycle.withLock { $0 = .stopped }
    return droppedByTimeout.load(ordering: .relaxed) > 0 ? .failure(.timedOut) : .success(())
  }

  private func stopWorkers(_ threads: [OSThread]) {
    stopping.store(true, ordering: .sequentiallyConsistent)
    parking.wakeAll()
    threads.forEach { $0.join() }
  }

  // MARK: Observing

  public struct Stats: Sendable {
    public var workers: Int
    public var spawned, completed, dropped, queued, timers, rejected: UInt64
    public var shutdown: Bool
  }

  public var stats: Stats {
    let stopped = lifecycle.withLock { if case .running = $0 { false } else { true } }
    let queued = counters.queued.load(ordering: .relaxed)
    // Counters move independently; a passing negative reads as zero.
    return Stats(
      workers: workerCount,
      spawned: counters.spawned.load(ordering: .relaxed),
      completed: counters.completedCount.load(ordering: .relaxed),
      dropped: counters.droppedCount.load(ordering: .relaxed),
      queued: queued > UInt64(Int64.max) ? 0 : queued,
      timers: counters.timers.load(ordering: .relaxed),
      rejected: counters.rejected.load(ordering: .relaxed),
      shutdown: stopped)
  }
}
