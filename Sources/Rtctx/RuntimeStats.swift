import RtctxCore

/// A runtime's counters (the Swift face of `rt_stats_t`), read with
/// `Handle.stats`. The cumulative ones (`spawned`, `completed`, `dropped`,
/// `rejected`, `executorFallbacks`, `strandTurns`) never go down between
/// two reads on one thread; the gauges (`queued`, `timers`, `strands`,
/// `groups`) are recent values while tasks run. After a finished shutdown,
/// `spawned == completed + dropped` and `queued == 0`, `timers == 0`.
public struct RuntimeStats: Sendable, Equatable {
  /// Worker threads (the configured count, also after shutdown).
  public var workers: Int
  /// Tasks accepted: spawns (blocking ones too), timers, `blockOn` calls,
  /// async jobs, C trampoline calls.
  public var spawned: UInt64
  /// Accepted tasks that ran to the end.
  public var completed: UInt64
  /// Accepted tasks that never ran (cancelled, or dropped by a shutdown).
  public var dropped: UInt64
  /// Accepted and not yet started, timers excluded.
  public var queued: UInt64
  /// Timers not yet due.
  public var timers: UInt64
  /// Spawns, `blockOn` calls, async jobs and trampoline calls refused
  /// (`.shutDown`, `.queueFull`).
  public var rejected: UInt64
  /// True once shutdown started.
  public var isShutdown: Bool
  /// Async jobs this runtime refused or dropped (it had shut down, or a
  /// shutdown timeout dropped them), which then ran on the global
  /// concurrent executor instead of being lost. Swift only: C's
  /// `rt_stats_t` has no such field.
  public var executorFallbacks: UInt64
  /// Strands alive (made and not yet freed).
  public var strands: UInt64
  /// Times a strand got a worker (a turn runs up to 64 of its jobs while
  /// other work waits).
  public var strandTurns: UInt64
  /// Groups alive (made and not yet freed).
  public var groups: UInt64
  /// Threads beyond the workers now: running blocking jobs, in (or after)
  /// a blocking region, or idle in the blocking pool.
  public var blockingThreads: UInt64
  /// The most ``blockingThreads`` there ever were at once.
  public var blockingThreadsPeak: UInt64
  /// `Handle.spawnBlocking` jobs accepted (counted in ``spawned`` too).
  public var blockingSpawned: UInt64
  /// Blocking regions opened on this runtime's threads by
  /// `withBlockingRegion` (or C's `rt_blocking_begin`); nested ones are
  /// not counted.
  public var blockingRegions: UInt64
  /// Regions whose worker moved to a spare thread (C's `handoffs`).
  public var handOffs: UInt64
  /// Jobs the monitor moved off a worker stuck in one task (see
  /// `strandedAfter`).
  public var strandedMoved: UInt64
  /// Jobs of this runtime that its workers ran inside joins while waiting
  /// (`JoinHandle.value` without a timeout, `blockOn` onto another
  /// runtime; not in a blocking region).
  public var joinsHelped: UInt64

  init(_ stats: RuntimeCore.Stats, executorFallbacks: UInt64) {
    workers = stats.workers
    spawned = stats.spawned
    completed = stats.completed
    dropped = stats.dropped
    queued = stats.queued
    timers = stats.timers
    rejected = stats.rejected
    isShutdown = stats.shutdown
    self.executorFallbacks = executorFallbacks
    strands = stats.strands
    strandTurns = stats.strandTurns
    groups = stats.groups
    blockingThreads = stats.blockingThreads
    blockingThreadsPeak = stats.blockingThreadsPeak
    blockingSpawned = stats.blockingSpawned
    blockingRegions = stats.blockingRegions
    handOffs = stats.handOffs
    strandedMoved = stats.strandedMoved
    joinsHelped = stats.joinsHelped
  }
}
