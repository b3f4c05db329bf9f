import Synchronization

/// A group of jobs to wait for together, or be told about when all are
/// done: what `rt_group_t` points at (libdispatch's `dispatch_group`).
///
/// Each job is a `TaskCell` whose `onDone` hook is the group, so running,
/// cancelling, shutdown drops, the ledger and exactly-once all go through
/// the cell's single claim CAS as for any task. The group adds:
///
/// - `count`: one word, the jobs pending (accepted, not yet done) in the
///   low 32 bits and, above them, how many times that reached zero (the
///   epoch). A job leaving makes both moves in one CAS, so a notification
///   or a waiter that saw epoch E and jobs pending knows the group emptied
///   after it looked exactly when the epoch differs from E.
/// - `bell`: the futex waiters sleep on, rung when the group empties (and,
///   if a worker waits, when a job is added, so that it can help).
/// - under `state`'s lock (a leaf: nothing is called back under it): the
///   cells, for cancel and for workers that help; compacted when the group
///   empties and as it grows, so their number stays near the pending jobs;
///   and the notifications, waiting for an emptying or ready to run.
///
/// Notifications run one at a time, in registration order: the first ready
/// one is posted; when it ran (or was dropped) the next is. The runtime
/// owes them as it owes a timer that fell due: posted while it drains,
/// whoever empties the group; once sealed (a shutdown timeout), they are
/// dropped on the thread that emptied the group.
public final class GroupCore: TaskDoneHook, @unchecked Sendable {
  /// What the C API checks a group against (see ObjectTag.swift).
  package let tag = ObjectTag(.group)
  /// What the C release takes back, once (see ObjectTag.swift).
  package let callerReference = CallerReference()
  public let runtime: RuntimeCore

  private static let pendingMask: UInt64 = 0xFFFF_FFFF
  private static let epochOne: UInt64 = 1 << 32

  private let count = Atomic<UInt64>(0)
  private let bell = FutexWord()
  /// Threads in `wait` about to sleep or sleeping; `workerSleepers` those
  /// of them that are workers of the runtime (rung on each spawn).
  private let sleepers = Atomic<Int>(0)
  private let workerSleepers = Atomic<Int>(0)

  private struct State {
    var cells: [TaskCell] = []
    /// Compact `cells` when they reach this many.
    var compactAt = 64
    /// Spawns between their room in `cells` and their append (see
    /// `Array.makeRoom`): an accepted job's append, and the compaction it
    /// may start, never allocate out of the reserve.
    var promised = 0
    /// What a compaction copies the cells it keeps into: empty, with the
    /// capacity of `cells` (grown with it), so that a compaction after
    /// acceptance, or on a worker, allocates nothing. Out while the list it
    /// replaced is let go of outside the lock; then the larger stays.
    var spare: [TaskCell] = []
    /// Registered while jobs were pending, with the epoch they saw.
    var waiting: [(notification: Notification, epoch: UInt32)] = []
    /// Due, in registration order; the first is posted while `firing`.
    var ready: [Notification] = []
    var firing = false
  }

  private let state = Lock(State())

  public init(runtime: RuntimeCore) {
    self.runtime = runtime
    runtime.ledger.groupMade()
  }

  deinit {
    runtime.ledger.groupFreed()
    tag.clear()
  }

  /// Jobs accepted and not yet finished or dropped.
  public var pending: Int { Int(count.load(ordering: .relaxed) & Self.pendingMask) }

  private static func pending(_ word: UInt64) -> UInt64 { word & pendingMask }
  private static func epoch(_ word: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: word >> 32) }

  // MARK: Jobs

  /// `rt_group_spawn`: like `rt_spawn_full` without a join handle, bounded
  /// by the queue capacity. A job refused was not queued and its body is
  /// not called.
  /// With `strand`, the job runs on that strand, in its order
  /// (`rt_group_strand_spawn`); the strand must be on the group's runtime.
  public func spawn(_ body: TaskBody, on strand: StrandCore? = nil) -> RuntimeError? {
    if let strand, strand.runtime !== runtime { return .invalidArgument }
    if runtime.isInheritedByFork { return .shutDown }
    // Room first: refused here, nothing was counted or built.
    let roomy = state.withLock { s -> Bool in
      guard s.cells.makeRoom(for: s.promised + 1), s.spare.makeRoom(for: s.cells.capacity) else { return false }
      s.promised += 1
      return true
    }
    if !roomy {
      runtime.ledger.refused()
      return .outOfMemory
    }
    // Counted before it can run, so that its leaving never passes zero.
    let (old, _) = count.add(1, ordering: .relaxed)
    precondition(Self.pending(old) < Self.pendingMask, "rtctx: a group holds 2^32 - 1 pending jobs")
    let cell = TaskCell(body, runtime: runtime, state: .queued, strand: strand, onDone: self)
    let refused =
      if let strand { strand.submit(.task(cell), bounded: true) } else { runtime.submit(.task(cell), bounded: true) }
    if let error = refused {
      state.withLock { $0.promised -= 1 }
      leave()
      return error
    }
    var compacted: [TaskCell]? = state.withLock { s in
      s.promised -= 1
      s.cells.append(cell)
      return s.cells.count >= s.compactAt ? Self.compact(&s) : nil
    }
    giveBack(&compacted)
    // Sequentially consistent, against a helping worker's registration.
    if workerSleepers.load(ordering: .sequentiallyConsistent) > 0 { ring() }
    return nil
  }

  override public func taskDone(_ cell: TaskCell, ran: Bool) { leave() }

  /// One job is done with (ran, dropped, or refused after it was counted).
  private func leave() {
    // Acquiring and releasing: the CASes of all jobs form one chain, and a
    // waiter that reads zero with an acquiring load sees every job's effects.
    var current = count.load(ordering: .relaxed)
    while true {
      var next = current &- 1
      if Self.pending(next) == 0 { next &+= Self.epochOne }
      let (done, seen) = count.compareExchange(
        expected: current, desired: next, ordering: .acquiringAndReleasing)
      if done {
        if Self.pending(next) == 0 { emptied() }
        return
      }
      current = seen
    }
  }

  /// The group just emptied: due notifications become ready, done cells go.
  private func emptied() {
    var old: [TaskCell]? = state.withLock { s in
      let now = count.load(ordering: .acquiring)
      promote(&s, now)
      return Self.pending(now) == 0 ? Self.compact(&s) : nil
    }
    giveBack(&old)
    pump()
    ring()
  }

  /// Keeps the cells not done; returns the old list, for the caller to
  /// let go of after the lock: the last release of a cell frees its body,
  /// whose Swift closures may hold objects with a `deinit` of their own.
  private static func compact(_ s: inout State) -> [TaskCell] {
    var kept: [TaskCell] = []
    swap(&kept, &s.spare)
    for cell in s.cells where !cell.isDone { kept.append(cell) }
    let old = s.cells
    s.cells = kept
    s.compactAt = max(64, s.cells.count * 2)
    return old
  }

  /// A list `compact` or `cancel` replaced: its cells let go of here,
  /// outside the lock, and its buffer kept as the spare if it is larger.
  private func giveBack(_ taken: inout [TaskCell]?) {
    // Moved out, so that the buffer is unique and empties in place.
    guard var list = taken.take() else { return }
    list.removeAll(keepingCapacity: true)
    state.withLock { s in
      if list.capacity > s.spare.capacity { swap(&list, &s.spare) }
    }
  }

  private func ring() {
    bell.atomic.pointee.add(1, ordering: .sequentiallyConsistent)
    if sleepers.load(ordering: .sequentiallyConsistent) > 0 { bell.wakeAll() }
  }

  // MARK: Cancel

  /// `rt_group_cancel`: drops, here, every job of the group not yet
  /// started; how many.
  public func cancel() -> Result<Int, RuntimeError> {
    if runtime.isInheritedByFork { return .failure(.shutDown) }
    var old: [TaskCell]?
    let claimed: [TaskCell] = state.withLock { s in
      var claimed: [TaskCell] = [], kept: [TaskCell] = []
      swap(&kept, &s.spare)  // as in `compact`
      for cell in s.cells {
        if cell.transition(from: .queued, to: .claimed) {
          claimed.append(cell)
        } else if !cell.isDone {
          kept.append(cell)
        }
      }
      old = s.cells
      s.cells = kept
      s.compactAt = max(64, kept.count * 2)
      return claimed
    }
    giveBack(&old)
    // Outside the lock: drop callbacks may use the group.
    for cell in claimed {
      runtime.ledger.claimedElsewhere()
      cell.dropClaimed()
      runtime.ledger.droppedElsewhere()
    }
    return .success(claimed.count)
  }

  // MARK: Waiting

  /// `rt_group_wait`: until the group was empty at some moment since the
  /// call began, or `deadline` passed; `deadline` now or earlier only
  /// polls. On a worker of the group's runtime, queued jobs of the group
  /// are claimed and run here first (unless a shutdown timeout is dropping
  /// them): the worker would otherwise wait on itself.
  public func wait(deadline: UInt64?) -> Result<Void, RuntimeError> {
    let start = count.load(ordering: .acquiring)
    if Self.pending(start) == 0 { return .success(()) }
    func emptiedSinceStart() -> Bool {
      let now = count.load(ordering: .acquiring)
      return Self.pending(now) == 0 || Self.epoch(now) != Self.epoch(start)
    }
    func expired() -> Bool { deadline.map { monotonicNow() >= $0 } ?? false }
    if expired() { return .failure(.timedOut) }
    // A forked child has no worker to finish them (Fork.swift).
    if runtime.isInheritedByFork { return .failure(.shutDown) }
    let onWorker = runtime.isCurrentWorker
    if !onWorker { _ = spinBriefly { emptiedSinceStart() || expired() } }
    var cursor = 0
    while true {
      if emptiedSinceStart() { return .success(()) }
      if expired() { return .failure(.timedOut) }
      let helping = onWorker && (runtime.inPhase(.running) || runtime.inPhase(.draining))
      if helping, let cell = claimQueued(from: &cursor) {
        runInline(cell)
        continue
      }
      // A strand job is never run out of its strand's order: the waiter
      // drains the strand instead, if no other thread holds it.
      if helping, let cell = queuedStrandCell(), let strand = cell.strand,
        let worker = runtime.currentQueueOwner,
        worker._withUnsafeGuaranteedRef({ strand.helpDrain(on: $0, until: cell) })
      {
        continue
      }
      // Registered before the bell is read, and the bell read before the
      // last look: a ring after that look wakes the futex (see `ring`).
      sleepers.add(1, ordering: .sequentiallyConsistent)
      if helping { workerSleepers.add(1, ordering: .sequentiallyConsistent) }
      let rung = bell.atomic.pointee.load(ordering: .sequentiallyConsistent)
      var found: TaskCell?
      if !emptiedSinceStart() {
        if helping { found = claimQueued(from: &cursor) }
        if found == nil { bell.wait(whileEqualTo: rung, deadline: deadline) }
      }
      if helping { workerSleepers.subtract(1, ordering: .sequentiallyConsistent) }
      sleepers.subtract(1, ordering: .sequentiallyConsistent)
      if let found { runInline(found) }
    }
  }

  /// A queued cell of the group, claimed: the first from `cursor` on, then
  /// from the start. Indices move when the list is compacted; a cell
  /// skipped then is found by the next pass.
  private func claimQueued(from cursor: inout Int) -> TaskCell? {
    state.withLock { s in
      let n = s.cells.count
      if n == 0 { return nil }
      let first = min(cursor, n)
      // From the cursor on, then from the start: a helper that claims job
      // after job passes over each done cell once.
      for i in first..<n where s.cells[i].strand == nil && s.cells[i].transition(from: .queued, to: .claimed) {
        cursor = i + 1
        return s.cells[i]
      }
      for i in 0..<first where s.cells[i].strand == nil && s.cells[i].transition(from: .queued, to: .claimed) {
        cursor = i + 1
        return s.cells[i]
      }
      cursor = 0
      return nil
    }
  }

  /// A strand job of the group still queued, not claimed.
  private func queuedStrandCell() -> TaskCell? {
    state.withLock { s in s.cells.first { $0.strand != nil && $0.state == .queued } }
  }

  /// As a join on a worker runs a queued task: its queue entry, popped
  /// later, is stale.
  private func runInline(_ cell: TaskCell) {
    runtime.ledger.claimedElsewhere()
    cell.runClaimed()
    runtime.ledger.ranElsewhere()
  }

  // MARK: Notifications

  /// `rt_group_notify_full`: `body` runs once on a worker when the group
  /// next empties (queued at once, behind earlier ones, if empty now), or
  /// is dropped once if the runtime can no longer run it. Refused, with
  /// nothing kept, as a spawn by the caller would be (`force` accepts it
  /// anyway: the Swift API's async wait, whose drop also resumes it).
  /// The body's result is ignored.
  public func notify(_ body: TaskBody, force: Bool = false) -> RuntimeError? {
    if runtime.isInheritedByFork { return .shutDown }
    if !force && runtime.refusesCaller { return .shutDown }
    let notification = Notification(body, group: self)
    state.withLock { s in
      let now = count.load(ordering: .acquiring)
      promote(&s, now)
      if Self.pending(now) == 0 {
        s.ready.append(notification)
      } else {
        s.waiting.append((notification, Self.epoch(now)))
      }
    }
    pump()
    return nil
  }

  /// Moves the waiting notifications whose emptying came (the epoch moved
  /// past theirs) to the ready ones, keeping their order.
  private func promote(_ s: inout State, _ now: UInt64) {
    let epoch = Self.epoch(now)
    var due = 0
    while due < s.waiting.count && s.waiting[due].epoch != epoch { due += 1 }
    if due == 0 { return }
    s.ready.append(contentsOf: s.waiting[..<due].map { $0.notification })
    s.waiting.removeFirst(due)
  }

  /// Posts the first ready notification unless one is out already; drops
  /// every ready one, in order, once the runtime refuses them.
  fileprivate func pump() {
    let first: Notification? = state.withLock { s in
      guard !s.firing, let first = s.ready.first else { return nil }
      s.firing = true
      s.ready.removeFirst()
      return first
    }
    guard let first else { return }
    if runtime.submit(.posted(first), bounded: false, owed: true) == nil { return }
    // Sealed: this one and every later one is refused too.
    var refused = [first]
    state.withLock { s in
      refused += s.ready
      s.ready.removeAll()
      s.firing = false
    }
    for notification in refused { notification.body.drop() }
    // Ready ones added meanwhile, if any, are refused the same way.
    if state.withLock({ s in !s.firing && !s.ready.isEmpty }) { pump() }
  }

  /// The notification out ran or was dropped: the next may go.
  fileprivate func notificationDone() {
    state.withLock { $0.firing = false }
    pump()
  }
}

/// One notification: the posted job itself, which lets the group post the
/// next once it is done.
private final class Notification: PostedWork, @unchecked Sendable {
  let body: TaskBody
  /// Until it ran or was dropped; the group lets go of it first.
  private var group: GroupCore?

  init(_ body: TaskBody, group: GroupCore) {
    self.body = body
    self.group = group
  }

  override func run() {
    _ = body.run()
    finish()
  }

  override func drop() {
    body.drop()
    finish()
  }

  private func finish() {
    let group = self.group
    self.group = nil
    group?.notificationDone()
  }
}

extension RuntimeCore {
  /// `rt_group_new`: nil when the runtime refuses the caller.
  public func makeGroup() -> GroupCore? {
    if refusesCaller { return nil }
    return GroupCore(runtime: self)
  }
}
