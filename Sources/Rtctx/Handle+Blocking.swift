import RtctxCore

extension Handle {
  /// Queues `body` to run once on the runtime's blocking pool and returns a
  /// join handle for its result (`rt_spawn_blocking`): for work that blocks
  /// (a file read, a database client, a long system call), so that it never
  /// occupies a worker. Errors `body` throws come out of `JoinHandle.value`.
  ///
  /// The pool is separate from the workers: it starts a thread when a job
  /// arrives and none is idle, up to the runtime's `maxBlockingThreads`;
  /// beyond that, jobs wait in order for the next free thread. Idle threads
  /// exit after `blockingKeepAlive`. Otherwise the job is a task like one
  /// of ``task(_:)``: it runs exactly once or is dropped, can be joined and
  /// cancelled before it starts, counts against `queueCapacity`, and a
  /// shutdown waits for it (or, after a timeout, drops it if not started).
  /// In `body`, ``current`` is this runtime, and spawns go to the workers'
  /// shared queue.
  ///
  /// A join of a blocking job that has not started yet never runs it on a
  /// worker (joins of other queued tasks run them inline there): the join
  /// waits, running other queued jobs meanwhile, until a blocking thread
  /// ran it. On a blocking thread, such a join runs it inline.
  ///
  /// - Throws: `RuntimeError.shutDown` once shutdown began (unless called
  ///   from this runtime's own tasks) or in a forked child's copy of the
  ///   runtime, `RuntimeError.queueFull` when the runtime's `queueCapacity`
  ///   is reached, `RuntimeError.outOfMemory` if the pool had no thread and
  ///   the system refused to start one. On a throw, `body` never runs.
  @discardableResult
  public func spawnBlocking<T: Sendable>(
    _ body: @escaping @Sendable () throws -> T
  ) throws(RuntimeError) -> JoinHandle<T> {
    try JoinHandle.spawning(body) { core.spawnBlocking($0, joinable: true) }
  }
}

/// Runs `body`, which blocks, in a blocking region of the calling thread
/// (`rt_blocking_begin` … `rt_blocking_end`), and returns what it returns
/// or rethrows what it throws. The region ends on every way out of `body`.
///
/// On a worker of a runtime, the worker itself (its queue, and the loop
/// that runs it) moves at once to a spare thread of the runtime's blocking
/// pool, so the tasks queued behind this one run meanwhile, even on a
/// runtime with one worker; `body` then blocks on this thread as long as
/// it likes. The thread belongs to the pool from then on: the rest of the
/// task runs there (spawns from it go to the shared queue), and when the
/// task returns the thread serves the pool; it does not take the worker
/// back. A hand-off takes a few microseconds: for waits shorter than that,
/// just wait.
///
/// - If no thread is free within `maxBlockingThreads`, or the runtime is
///   past a shutdown timeout, the worker stays and waits with `body`; its
///   queued jobs still move to other workers after `strandedAfter`.
/// - On a blocking thread (in ``Handle/spawnBlocking(_:)``, or after an
///   earlier region), and in a region already (regions nest), nothing
///   needs to move; `body` just runs.
/// - Off every runtime's threads (a thread of your own, the main thread,
///   Swift's global executor), there is nothing to protect: `body` just
///   runs, and no region is counted.
///
/// Blocking joins in the region (`JoinHandle.value`, `Group.wait`) wait
/// without helping: they run no queued jobs while they wait.
///
/// - Parameter body: runs on the calling thread, once.
public func withBlockingRegion<R>(_ body: () throws -> R) rethrows -> R {
  // Off the runtimes' threads `begin` opens no region, so there is none to end.
  guard case .success = BlockingRegion.begin() else { return try body() }
  defer {
    let ended = BlockingRegion.end()
    precondition(ended, "withBlockingRegion: the body ended a region it did not begin (an extra rt_blocking_end)")
  }
  return try body()
}
