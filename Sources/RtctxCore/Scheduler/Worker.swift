import Synchronization

/// One worker: its local queue and counters. The thread-local worker slot
/// points here while the worker's thread runs.
final class WorkerState: @unchecked Sendable {
  let index: Int
  let local: LocalQueue
  let counters = WorkerCounters()
  /// The runtime this worker belongs to, as an address: compared on every
  /// spawn to tell the runtime's own tasks from outsiders, never retained.
  var runtimeAddress: UnsafeMutableRawPointer?
  /// Owner-only: counts jobs, to look at the inject queue and the timers
  /// now and then even while the local queue has work.
  var tick: UInt32 = 0
  /// How many jobs a worker takes off the inject ring at once.
  static let batchSize = 8

  init(index: Int, queueCapacity: Int) {
    self.index = index
    local = LocalQueue(capacity: queueCapacity)
  }
}

/// The loop each worker thread runs.
///
/// Find work: own queue first (children, warm in cache), the inject queue
/// every 61st job so outsiders are not starved, then the inject queue, its
/// overflow (a batch at a time), then stealing half of another worker's
/// queue. Without work, search for a while (spinning is cheaper than a
/// futex sleep and wake when work comes back within microseconds), then
/// sleep until notified or the next timer is due.
extension RuntimeCore {
  /// At most this many overflow jobs move to a local queue at once (it
  /// must fit: local queues hold at least as many).
  static let overflowBatch = 128

  func workerMain(_ worker: WorkerState) {
    // The worker slot makes this runtime current on this thread, and marks
    // the thread as one of its workers (inline block_on, EDEADLK).
    ThreadSlots.worker = Unmanaged.passUnretained(worker).toOpaque()
    defer { ThreadSlots.worker = nil }

    config.onThreadStart?()
    // Releasing: whatever the start hook did is visible to rt_new's caller.
    startedWorkers.atomic.pointee.add(1, ordering: .releasing)
    startedWorkers.wakeAll()

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
        execute(job, on: worker)
        continue
      }
      if !inPhase(.running) {
        drainEvent.atomic.pointee.add(1, ordering: .releasing)
        drainEvent.wakeAll()
      }
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
    config.onThreadStop?()
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

  private func searchBriefly(_ worker: WorkerState) -> Bool {
    let due = timers.nextDue.load(ordering: .relaxed)
    return spinBriefly {
      mayHaveWork() || inPhase(.stopping) || (due != .max && due <= monotonicNow())
    }
  }

  /// Runs one popped job, or drops it once a shutdown timeout sealed the
  /// runtime; the ledger counts either. A strand's wake-up is not a job:
  /// the strand runs (or drops) its jobs through here, one by one.
  @inline(__always)
  func execute(_ job: Job, on worker: WorkerState) {
    let counters = worker.counters
    if inPhase(.dropping) {
      if job.isStrandWakeUp {
        if case .strand(let strand) = job.take() { strand.wokenUp(on: worker) }
        return
      }
      if dropQueued(job) { ledger.droppedByWorker(counters) }
    } else {
      switch job.take() {
      case .fn(let fn, let arg):
        ledger.claimed(by: counters)
        fn(arg)
        ledger.ran(by: counters)
      case .posted(let work):
        ledger.claimed(by: counters)
        work.run()
        ledger.ran(by: counters)
      case .task(let cell):
        // Skipped if a joiner ran it inline or it was cancelled.
        if cell.transition(from: .queued, to: .claimed) {
          ledger.claimed(by: counters)
          cell.runClaimed()
          ledger.ran(by: counters)
        }
      case .strand(let strand):
        strand.wokenUp(on: worker)
        return
      }
    }
    ledger.entryDone(by: counters)
  }
}
