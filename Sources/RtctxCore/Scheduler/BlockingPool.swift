import Synchronization

/// The runtime's blocking threads: where `rt_spawn_blocking` jobs run, and
/// where a worker goes when its task blocks.
///
/// Two things ask it for a thread:
///
/// - A blocking job: handed to an idle thread, or to a new one while fewer
///   than `maxBlockingThreads` exist, else queued (first in, first out)
///   for the next thread that finishes one.
/// - A hand-off: a task on a worker that enters a blocking region gives
///   its worker (queue, counters, parking slot) to a blocking thread, which
///   runs the worker's loop from then on, while the task blocks on the
///   thread it had. That thread is a blocking thread from then on: once
///   its task returns it serves this pool (tokio's `block_in_place` works
///   the same way). A hand-off never waits: with no idle thread and the
///   cap reached, it is refused and the task blocks its worker, as without
///   a region.
///
/// So the workers always number `workerCount` and each runs on exactly one
/// thread; the cap counts the other threads: those running blocking jobs,
/// those whose task is in (or after) a region, and the idle ones, which
/// exit after `blockingKeepAlive` without work.
///
/// The pool's threads carry the runtime's shared `blockingState` in their
/// worker slot: they are the runtime's threads (`rt_handle_current()`, a
/// spawn while draining), but own no queue.
final class BlockingPool: Sendable {
  enum Work {
    case job(Job)
    case adopt(WorkerState)
  }

  /// An idle thread's mailbox: a thread handing it work writes `work`
  /// under the pool's lock, then sets the word and wakes it.
  final class Idler: @unchecked Sendable {
    let word = FutexWord()
    var work: Work?
  }

  struct State {
    /// Queued blocking jobs, oldest at `head`.
    var queue: [Job] = []
    var head = 0
    var idle: [Idler] = []
    /// Threads that own no worker: the cap counts these.
    var threads = 0
    /// Blocking spawns between their check for a thread and their queueing:
    /// while any is pending, no idle thread leaves, and `queue` keeps room
    /// for each of them (`Array.makeRoom`).
    var pending = 0
    /// Threads started without work that have not yet come for some: a
    /// job queued meanwhile is theirs, not a reason for another thread.
    var starting = 0
    /// Threads the pool started, joined at shutdown; those that left on
    /// their own are joined by the next start.
    var started: [(serial: Int, thread: OSThread)] = []
    var exited: [Int] = []
    var nextSerial = 0
    var stopping = false

    var queued: Int { queue.count - head }

    mutating func popJob() -> Job? {
      guard head < queue.count else { return nil }
      let job = queue[head]
      head += 1
      if head == queue.count {
        queue.removeAll(keepingCapacity: true)
        head = 0
      }
      return job
    }
  }

  let state = Lock(State())
  /// `State.threads` and `.peak`, for `stats` without the lock (a forked
  /// child reads stats, and may have inherited the lock held).
  let threadCount = Atomic<Int>(0)
  let peakCount = Atomic<Int>(0)
  let maxThreads: Int
  let keepAlive: UInt64

  /// Every change of `State.threads`, under the lock.
  func count(_ pool: inout State, _ delta: Int) {
    pool.threads += delta
    threadCount.store(pool.threads, ordering: .relaxed)
    if pool.threads > peakCount.load(ordering: .relaxed) { peakCount.store(pool.threads, ordering: .relaxed) }
  }

  init(maxThreads: Int, keepAlive: UInt64) {
    self.maxThreads = maxThreads
    self.keepAlive = keepAlive
  }

}

extension RuntimeCore {
  // MARK: Blocking jobs

  /// `rt_spawn_blocking`: a task for the blocking pool, with the same
  /// admission, join handle, cancellation and shutdown as `rt_spawn_full`.
  public func spawnBlocking(_ body: TaskBody, joinable: Bool) -> Result<TaskCell?, RuntimeError> {
    // A forked child's copy of the pool's lock may be held (Fork.swift).
    if isInheritedByFork {
      ledger.refused()
      return .failure(.shutDown)
    }
    let cell = TaskCell(body, runtime: self, state: .queued, pooled: true)
    let job = Job.task(cell)
    // A thread first, so that an accepted job always has one to run it: if
    // the system refuses the first thread, nothing was accepted.
    let reserved: Bool = blocking.state.withLock { pool in
      // Room in the queue for every pending spawn (each may append once
      // it is accepted), so that the append allocates nothing.
      guard pool.queue.makeRoom(for: pool.pending + 1) else { return false }
      pool.pending += 1
      if pool.threads > 0 || pool.stopping { return true }
      if startBlockingThread(&pool, first: nil) { return true }
      pool.pending -= 1
      return false
    }
    guard reserved else {
      _ = job.take()
      ledger.refused()
      return .failure(.outOfMemory)
    }
    if let error = admit(job, bounded: true, fromWorker: isCurrentWorker) {
      blocking.state.withLock { $0.pending -= 1 }
      return .failure(error)
    }
    ledger.blockingSpawned()
    let idler: BlockingPool.Idler? = blocking.state.withLock { pool in
      pool.pending -= 1
      if let idler = pool.idle.popLast() {
        idler.work = .job(job)
        return idler
      }
      pool.queue.append(job)
      // A new thread if the cap allows and no starting one will take it;
      // if the system refuses it, the threads that exist take the job in
      // turn (there is at least one).
      if pool.queued > pool.starting && pool.threads < blocking.maxThreads {
        _ = startBlockingThread(&pool, first: nil)
      }
      return nil
    }
    if let idler { wakeIdler(idler) }
    return .success(joinable ? cell : nil)
  }

  // MARK: Hand-offs

  /// `rt_blocking_begin` on a worker: gives `worker` to a blocking thread
  /// and moves the calling thread to the pool. False if none is free and
  /// the cap is reached, or the runtime is past draining: nothing changed.
  func handOff(_ worker: WorkerState) -> Bool {
    // Not in a forked child either: its copy of the pool's lock may be held.
    guard inPhase(.running) || inPhase(.draining), !isInheritedByFork else { return false }
    // Before the new owner can see the worker: this thread's joins stop
    // using it (`execute` compares epochs), and its stack of running
    // tasks is its own, not the worker's.
    let epoch = worker.epoch.load(ordering: .relaxed)
    let below = worker.runningCell, depth = worker.helpDepth
    worker.epoch.store(epoch &+ 1, ordering: .relaxed)
    worker.runningCell = nil
    worker.helpDepth = 0
    ThreadSlots.worker = Unmanaged.passUnretained(blockingState).toOpaque()
    enum Taker { case idle(BlockingPool.Idler), new, none }
    let taker: Taker = blocking.state.withLock { pool in
      if pool.stopping { return .none }
      if let idler = pool.idle.popLast() {
        // An idle thread becomes the worker, this one a blocking thread.
        idler.work = .adopt(worker)
        return .idle(idler)
      }
      guard pool.threads < blocking.maxThreads else { return .none }
      blocking.count(&pool, 1)  // this thread
      if startBlockingThread(&pool, first: .adopt(worker), owning: true) { return .new }
      blocking.count(&pool, -1)
      return .none
    }
    switch taker {
    case .none:
      // Undone before anyone else saw it.
      ThreadSlots.worker = Unmanaged.passUnretained(worker).toOpaque()
      worker.helpDepth = depth
      worker.runningCell = below
      worker.epoch.store(epoch, ordering: .relaxed)
      return false
    case .idle(let idler):
      wakeIdler(idler)
    case .new:
      break
    }
    ledger.handedOff()
    return true
  }

  // MARK: The pool's threads

  /// Starts a blocking thread (under the pool's lock, so that its handle
  /// is listed before it can exit). `owning`: it starts by adopting a
  /// worker, so it does not count as a blocking thread.
  private func startBlockingThread(
    _ pool: inout BlockingPool.State, first: BlockingPool.Work?, owning: Bool = false
  ) -> Bool {
    // Threads that left on their own have exited, or are about to.
    for serial in pool.exited {
      if let at = pool.started.firstIndex(where: { $0.serial == serial }) {
        pool.started.remove(at: at).thread.join()
      }
    }
    pool.exited.removeAll()
    let serial = pool.nextSerial
    guard let thread = config.startThread(config.blockingThreadName(serial), { [self] in
      blockingThreadMain(first: first, serial: serial)
    }) else { return false }
    pool.nextSerial += 1
    pool.started.append((serial, thread))
    if first == nil { pool.starting += 1 }
    if !owning { blocking.count(&pool, 1) }
    return true
  }

  private func blockingThreadMain(first: BlockingPool.Work?, serial: Int) {
    ThreadSlots.worker = Unmanaged.passUnretained(blockingState).toOpaque()
    Allocation.begin()
    config.onThreadStart?()
    // Unless the runtime stopped while this thread ran the worker it began with.
    if let first {
      if runBlocking(first) { serveBlocking() }
    } else {
      serveBlocking(starting: true)
    }
    ThreadSlots.worker = nil
    config.onThreadStop?()
    blocking.state.withLock { $0.exited.append(serial) }
  }

  /// A blocking thread's loop: runs what the pool hands it until the
  /// runtime stops, or it idled for the keep-alive.
  func serveBlocking(starting: Bool = false) {
    let idler = BlockingPool.Idler()
    var starting = starting
    while let work = nextBlockingWork(idler, starting: starting) {
      Allocation.refillIfUsed()
      starting = false
      if !runBlocking(work) { return }
    }
  }

  /// False once the runtime stopped (this thread ran a worker until then).
  private func runBlocking(_ work: BlockingPool.Work) -> Bool {
    switch work {
    case .job(let job):
      runBlockingJob(job)
      return true
    case .adopt(let worker):
      ThreadSlots.worker = Unmanaged.passUnretained(worker).toOpaque()
      let stopped = runWorker(worker)
      ThreadSlots.worker = Unmanaged.passUnretained(blockingState).toOpaque()
      return !stopped
    }
  }

  /// The next work for an idle thread: a queued job, or what a spawn or a
  /// hand-off gives it while it waits. Nil when it should exit: the
  /// runtime stops, or nothing came for the keep-alive.
  private func nextBlockingWork(_ idler: BlockingPool.Idler, starting: Bool) -> BlockingPool.Work? {
    let pool = blocking
    var starting = starting
    while true {
      let ready: BlockingPool.Work?? = pool.state.withLock { pool in
        if starting {
          pool.starting -= 1
          starting = false
        }
        if pool.stopping {
          blocking.count(&pool, -1)
          return .some(nil)
        }
        if let job = pool.popJob() { return .some(.job(job)) }
        idler.work = nil
        idler.word.atomic.pointee.store(0, ordering: .relaxed)
        pool.idle.append(idler)
        return .none
      }
      if let ready { return ready }
      let deadline = Deadline.after(nanoseconds: pool.keepAlive)
      while idler.word.atomic.pointee.load(ordering: .acquiring) == 0 {
        if !idler.word.wait(whileEqualTo: 0, deadline: deadline) { break }
      }
      let woken: BlockingPool.Work?? = pool.state.withLock { pool in
        if let work = idler.work {
          idler.work = nil
          return .some(work)
        }
        // Not handed anything: leave the idle list, then look again.
        if let at = pool.idle.firstIndex(where: { $0 === idler }) { pool.idle.remove(at: at) }
        if pool.stopping {
          blocking.count(&pool, -1)
          return .some(nil)
        }
        let expired = deadline.map { monotonicNow() >= $0 } ?? false
        if expired && pool.queued == 0 && pool.pending == 0 {
          blocking.count(&pool, -1)
          return .some(nil)
        }
        return .none
      }
      if let woken { return woken }
    }
  }

  private func wakeIdler(_ idler: BlockingPool.Idler) {
    // Releasing: the woken thread reads `work`, written under the lock
    // before (the lock orders it too; this keeps the word's own contract).
    idler.word.atomic.pointee.store(1, ordering: .releasing)
    idler.word.wake(1)
  }

  /// Runs (or, after a shutdown timeout, drops) one blocking job; then
  /// takes queued ones while there are any.
  private func runBlockingJob(_ first: Job) {
    var next: Job? = first
    while let job = next {
      if inPhase(.dropping) {
        if dropQueued(job) { ledger.droppedByShutdown() } else { ledger.entryDoneElsewhere() }
      } else if case .task(let cell) = job.take() {
        if cell.transition(from: .queued, to: .claimed) {
          ledger.claimedElsewhere()
          cell.runClaimed()
          ledger.ranElsewhere()
        }
        ledger.entryDoneElsewhere()
      }
      if !inPhase(.running) { drainProgressed() }
      next = blocking.state.withLock { $0.popJob() }
    }
  }

  /// After a shutdown timeout: drops every queued blocking job.
  func dropQueuedBlockingJobs(_ drop: (Job) -> Void) {
    while let job = blocking.state.withLock({ $0.popJob() }) { drop(job) }
  }

  /// Shutdown step 3: idle threads exit, the others once they see
  /// `stopping`; then every thread the pool started is joined.
  func stopBlockingThreads() {
    let idle: [BlockingPool.Idler] = blocking.state.withLock { pool in
      pool.stopping = true
      let idle = pool.idle
      pool.idle.removeAll()
      return idle
    }
    for idler in idle { wakeIdler(idler) }
  }

  func joinBlockingThreads() {
    let threads = blocking.state.withLock { pool -> [OSThread] in
      let threads = pool.started.map { $0.thread }
      pool.started.removeAll()
      pool.exited.removeAll()
      return threads
    }
    threads.forEach { $0.join() }
  }
}

/// `rt_blocking_begin` / `rt_blocking_end`: a task says it is about to
/// block, and its worker's queue should not wait for it.
public enum BlockingRegion {
  public enum Entered: Sendable {
    /// The worker went to a spare thread; this thread blocks on its own.
    case handedOff
    /// Nothing to hand off: a blocking thread, or already in a region.
    case alreadyBlocking
    /// No thread was free within `maxBlockingThreads`, the runtime is
    /// past draining, or it was inherited by fork(): the worker stays, and waits with its task (the
    /// monitor still moves its queued jobs after `strandedAfter`).
    case noSpareThread
  }

  /// `.invalidArgument` off the runtimes' threads: nothing to protect.
  public static func begin() -> Result<Entered, RuntimeError> {
    let depth = ThreadSlots.regionDepth
    if depth > 0 {
      ThreadSlots.regionDepth = depth + 1
      return .success(.alreadyBlocking)
    }
    guard let slot = ThreadSlots.worker else { return .failure(.invalidArgument) }
    let worker = Unmanaged<WorkerState>.fromOpaque(slot).takeUnretainedValue()
    ThreadSlots.regionDepth = 1
    let runtime = worker.runtime
    runtime.ledger.regionEntered()
    guard worker.ownsQueue else { return .success(.alreadyBlocking) }
    return .success(runtime.handOff(worker) ? .handedOff : .noSpareThread)
  }

  /// False if the thread is in no region. The thread stays a blocking
  /// thread until its task returns: the worker is not taken back.
  public static func end() -> Bool {
    let depth = ThreadSlots.regionDepth
    guard depth > 0 else { return false }
    ThreadSlots.regionDepth = depth - 1
    return true
  }
}
