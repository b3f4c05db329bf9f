import Synchronization

/// One worker: its local queue and counters. The thread-local worker slot
/// points here while a thread runs the worker's loop.
///
/// A worker is not a thread: a task that enters a blocking region
/// (`rt_blocking_begin`) hands its worker to a spare thread, which runs
/// the loop from then on (BlockingPool.swift). `epoch` tells the thread
/// that handed it off that it no longer owns the worker.
///
/// Each runtime also has one shared state with `ownsQueue` false, in the
/// slot of its blocking threads (the pool's, and those in a region): they
/// are the runtime's threads (its tasks run there), but own no queue.
final class WorkerState: @unchecked Sendable {
  let index: Int
  let local: LocalQueue
  /// False for the blocking threads' shared state: spawns from them go to
  /// the inject queue, and nothing runs jobs on them but their own.
  let ownsQueue: Bool
  let counters = WorkerCounters()
  /// The runtime this worker belongs to, as an address: compared on every
  /// spawn to tell the runtime's own tasks from outsiders, never retained.
  var runtimeAddress: UnsafeMutableRawPointer?
  /// Owner-only: counts jobs, to look at the inject queue and the timers
  /// now and then even while the local queue has work.
  var tick: UInt32 = 0
  /// Bumped by the owner when it hands the worker to another thread; each
  /// owner remembers the value it took the worker at.
  let epoch = Atomic<UInt32>(0)
  /// Owner-only: how many joins on this thread's stack run other jobs
  /// while they wait (TaskCell.join).
  var helpDepth = 0
  /// Owner-only: the innermost joinable task running on this thread's
  /// stack; each links to the one below (`TaskCell.below`). A join on one
  /// of them would wait for its own caller.
  var runningCell: Unmanaged<TaskCell>?
  /// How many jobs a worker takes off the inject ring at once.
  static let batchSize = 8

  init(index: Int, queueCapacity: Int, ownsQueue: Bool = true) {
    self.index = index
    self.ownsQueue = ownsQueue
    local = LocalQueue(capacity: queueCapacity)
  }

  var runtime: RuntimeCore { Unmanaged<RuntimeCore>.fromOpaque(runtimeAddress!).takeUnretainedValue() }

  /// The worker whose loop the calling thread runs, of any runtime; nil on
  /// other threads, blocking ones included.
  static var currentQueueOwner: WorkerState? {
    guard let slot = ThreadSlots.worker else { return nil }
    let worker = Unmanaged<WorkerState>.fromOpaque(slot).takeUnretainedValue()
    return worker.ownsQueue ? worker : nil
  }

  /// Owner-only: whether `cell` runs on this thread's stack, below the caller.
  func isRunning(_ cell: TaskCell) -> Bool {
    var next = runningCell
    while let current = next {
      if current.toOpaque() == Unmanaged.passUnretained(cell).toOpaque() { return true }
      next = current._withUnsafeGuaranteedRef { $0.below }
    }
    return false
  }
}

/// The loop each worker thread runs.
///
/// Find work: own queue first (children, warm in cache), the inject queue
/// every 61st job so outsiders are not starved, then the inject queue, its
/// overflow (a batch at a time), then stealing half of another worker's
/// queue. Without work, search for a few tens of microseconds (spinning
/// is cheaper than a futex sleep and wake when work comes back that soon,
/// and dearer when it does not), then sleep until notified or the next
/// timer is due.
extension RuntimeCore {
  /// At most this many overflow jobs move to a local queue at once (it
  /// must fit: local queues hold at least as many).
  static let overflowBatch = 128

  func workerMain(_ worker: WorkerState) {
    // The worker slot makes this runtime current on this thread, and marks
    // the thread as one of its workers (inline block_on, EDEADLK).
    ThreadSlots.worker = Unmanaged.passUnretained(worker).toOpaque()
    defer { ThreadSlots.worker = nil }
    // A reserve before the first job: a worker never dies of an allocation.
    Allocation.begin()

    let epoch = worker.epoch.load(ordering: .relaxed)
    config.onThreadStart?()
    // Releasing: whatever the start hook did is visible to rt_new's caller.
    startedWorkers.atomic.pointee.add(1, ordering: .releasing)
    startedWorkers.wakeAll()

    // (The start hook may have entered a blocking region, handing the
    // worker off before its loop began.)
    if worker.epoch.load(ordering: .relaxed) != epoch || !runWorker(worker) {
      // A task of this thread handed the worker to a spare thread: this
      // thread is one of the blocking pool's now.
      serveBlocking()
    }
    config.onThreadStop?()
  }

  /// Runs `worker`'s loop on this thread: true once the runtime stops,
  /// false if a job of this thread handed the worker to another thread.
  func runWorker(_ worker: WorkerState) -> Bool {
    var searching = false
    while true {
      if let job = findWork(worker) {
        if searching {
          searching = false
          // The last searcher to find work hands the search on, but only
          // if there is more: waking a worker for nothing costs a syscall
          // on this task's path.
          if parking.stopSearching() && mayHaveWork() { parking.notify() }
        }
        if !execute(job, on: worker) { return false }
        continue
      }
      // Out of work: a fresh reserve if this thread used its own (off the
      // task path; a task's own calls into the library refill it too).
      Allocation.refillIfUsed()
      if !inPhase(.running) { drainProgressed() }
      if fireDueTimers() { continue }
      if isStopping { break }
      if !searching { searching = parking.startSearching() }
      if searching {
        if searchBriefly(worker) { continue }
        searching = false
        _ = parking.stopSearching()
      }
      let due = timers.nextDue.load(ordering: .relaxed)
      searching = parking.sleep(index: worker.index, deadline: due == .max ? nil : due) {
        mayHaveWork()
          || timers.nextDue.load(ordering: .sequentiallyConsistent) < due
          || isStoppingSequentiallyConsistent
      }
    }
    if searching { _ = parking.stopSearching() }
    return true
  }

  /// Wakes a shutdown that waits for the drain to look again.
  func drainProgressed() {
    drainEvent.atomic.pointee.add(1, ordering: .releasing)
    drainEvent.wakeAll()
  }

  /// A join on `worker`'s thread runs one queued job of this runtime while
  /// it waits; false if none was found. `stillOwner` is false if that job
  /// handed the worker away (the join then only waits).
  func helpOnce(_ worker: WorkerState) -> (ran: Bool, stillOwner: Bool) {
    // In a forked child, nothing of an inherited runtime runs (Fork.swift).
    if isInheritedByFork { return (false, false) }
    guard let job = findWork(worker) else { return (false, true) }
    // The helped job runs as it would on its own: outside the joiner's
    // strand, entered contexts and blocking region.
    let strand = ThreadSlots.strand, context = ThreadSlots.context, region = ThreadSlots.regionDepth
    let loop = ThreadSlots.loop
    ThreadSlots.strand = nil
    ThreadSlots.loop = nil
    ThreadSlots.context = nil
    ThreadSlots.regionDepth = 0
    worker.helpDepth += 1
    let owner = execute(job, on: worker)
    if owner { worker.helpDepth -= 1 }
    ThreadSlots.strand = strand
    ThreadSlots.loop = loop
    ThreadSlots.context = context
    ThreadSlots.regionDepth = region
    ledger.helpedJoin()
    return (true, owner)
  }

  @inline(__always)
  private func findWork(_ worker: WorkerState) -> Job? {
    worker.tick &+= 1
    if worker.tick % 61 == 0 {
      if let job = inject.pop() { return job }
      fireDueTimers()
    }
    if let job = worker.local.pop() { return job }
    // A batch goes through the local queue, where idle workers can steal
    // it: a job parked behind a long task on this worker would otherwise
    // wait (or deadlock, if that task waits for it) while others idle.
    let local = worker.local
    var taken = 0
    local.refill { append in taken = inject.popBatch(max: WorkerState.batchSize, into: append) }
    if taken > 1 { parking.notify() }
    if taken > 0, let job = local.pop() { return job }
    return findWorkSlowly(worker)
  }

  private func findWorkSlowly(_ worker: WorkerState) -> Job? {
    let moved = inject.popOverflowBatch(max: Self.overflowBatch) { job in
      // Room for the batch: this worker's queue was empty a moment ago,
      // only its owner pushes, and the batch is smaller than the queue.
      let pushed = worker.local.push(job)
      precondition(pushed, "rtctx: an overflow batch did not fit an empty local queue")
    }
    if moved > 0 {
      return worker.local.pop()
    }
    // Steal, starting after ourselves so that victims spread out.
    for offset in 1..<max(workerCount, 1) {
      let victim = workers[(worker.index + offset) % workerCount]
      if let job = worker.local.steal(from: victim.local) { return job }
    }
    return nil
  }

  /// Whether any queue may hold a job: the parking handshake's re-check.
  func mayHaveWork() -> Bool {
    if inject.mayHaveWork { return true }
    for worker in workers where worker.local.count > 0 { return true }
    return false
  }

  /// How long an idle worker searches before it sleeps. Bounded by time,
  /// not by rounds: a round of `sched_yield` costs anything from a
  /// fraction of a microsecond to a time slice, and 512 of them made a
  /// worker burn about 0.25 ms of CPU for each lone timer firing or
  /// request. Work that comes back within this window (a round trip, a
  /// burst of spawns) is still found without a futex sleep and wake.
  static let searchNanoseconds: UInt64 = 50_000

  /// Searches for up to `searchNanoseconds`: true once a queue may hold
  /// work, a timer fell due, a signal slot was posted or the runtime
  /// stops; false when the time ran out (the caller then sleeps).
  private func searchBriefly(_ worker: WorkerState) -> Bool {
    let bell = parking.signalBell.word
    let start = monotonicNow()
    var round = 0
    while true {
      if mayHaveWork() || inPhase(.stopping) || bell.pointee.load(ordering: .relaxed) { return true }
      let now = monotonicNow()
      if timers.nextDue.load(ordering: .relaxed) <= now { return true }
      if now &- start >= Self.searchNanoseconds { return false }
      Spin.pause(round)
      round &+= 1
    }
  }

  /// Runs one popped job, or drops it once a shutdown timeout sealed the
  /// runtime; the ledger counts either. A strand's wake-up is not a job:
  /// the strand runs (or drops) its jobs through here, one by one.
  ///
  /// Returns false if the job handed `worker` to another thread (a
  /// blocking region): the caller must not touch the worker again, and
  /// what is left of the job's accounting goes to the shared counters,
  /// since the worker's own now belong to its new thread.
  @inline(__always)
  func execute(_ job: Job, on worker: WorkerState) -> Bool {
    let counters = worker.counters
    let epoch = worker.epoch.load(ordering: .relaxed)
    if inPhase(.dropping) { return executeDropping(job, on: worker, epoch: epoch) }
    switch job.take() {
    case .fn(let fn, let arg):
      ledger.claimed(by: counters)
      fn(arg)
    case .posted(let work):
      ledger.claimed(by: counters)
      work.run()
    case .task(let cell):
      // Skipped if a joiner ran it inline or it was cancelled.
      guard cell.transition(from: .queued, to: .claimed) else {
        ledger.entryDone(by: counters)
        return true
      }
      ledger.claimed(by: counters)
      cell.below = worker.runningCell
      worker.runningCell = Unmanaged.passUnretained(cell)
      cell.runClaimed()
      if worker.epoch.load(ordering: .relaxed) == epoch { worker.runningCell = cell.below }
    case .strand(let strand):
      return strandTurn(strand, on: worker, epoch: epoch)
    }
    if worker.epoch.load(ordering: .relaxed) != epoch { return ranAfterHandOff() }
    ledger.ran(by: counters)
    ledger.entryDone(by: counters)
    return true
  }

  // Out of line, the rare paths of `execute`; the strand's turn also breaks
  // the cycle execute → turn → execute, which would keep the inliner from
  // inlining `execute` into the worker loop.

  @inline(never)
  private func strandTurn(_ strand: StrandCore, on worker: WorkerState, epoch: UInt32) -> Bool {
    strand.wokenUp(on: worker)
    return worker.epoch.load(ordering: .relaxed) == epoch
  }

  @inline(never)
  private func ranAfterHandOff() -> Bool {
    ledger.ranAfterHandOff()
    // No worker may be left to see that this was the last job in flight.
    if !inPhase(.running) { drainProgressed() }
    return false
  }

  @inline(never)
  private func executeDropping(_ job: Job, on worker: WorkerState, epoch: UInt32) -> Bool {
    if job.isStrandWakeUp {
      if case .strand(let strand) = job.take() { return strandTurn(strand, on: worker, epoch: epoch) }
      return true
    }
    if dropQueued(job) { ledger.droppedByWorker(worker.counters) }
    ledger.entryDone(by: worker.counters)
    return true
  }
}
