import Synchronization

/// A slot made ahead of time that a signal handler posts to: what
/// `rt_signal_slot_t` points at, rtctx's `uv_async_t`.
///
/// `post` is the one thing a signal handler runs, and it is
/// async-signal-safe: atomics on memory allocated with the slot and its
/// runtime, and a futex wake, a raw syscall. It takes no lock (the handler
/// may have interrupted the lock's holder), allocates nothing, counts no
/// reference and logs nothing.
///
/// How a post reaches a worker:
///
/// 1. `post` sets `pending` in the slot's state word. Only a post that
///    finds the slot idle goes on; the others coalesce into the run owed.
/// 2. It rings the parking lot's doorbell (`SignalDoorbell.ring`): raises
///    the bell and wakes a sleeping worker through its futex word.
/// 3. A worker that hears the bell (where it looks for due timers, and in
///    its last check before sleeping) lowers it under the registry's lock
///    and admits one run for each slot posted and idle: an ordinary job,
///    counted in the stats and drained by a shutdown.
/// 4. A run clears `pending` as it starts, and queues itself once more if
///    a post came during it. So runs of one slot never overlap, never
///    outnumber the posts, and the last post is always followed by the
///    start of a run.
///
/// A shutdown closes the registry (`SignalSlots.close`) only once the bell
/// is down and nothing is in flight, so a post that answered true runs
/// before `rt_shutdown` returns. `arg` is dropped once, in `deinit`: after
/// the slot was freed and no run of it is queued or running.
public final class SignalSlot: PostedWork, @unchecked Sendable {
  /// Posted since the last run started.
  private static let pendingBit: UInt32 = 1
  /// A run is admitted, queued or running.
  private static let queuedBit: UInt32 = 2
  /// Freed: the run that is queued or running is the last.
  private static let freedBit: UInt32 = 4

  /// What the C API checks a slot against (see ObjectTag.swift).
  package let tag = ObjectTag(.signalSlot)
  /// What `rt_signal_slot_free` takes back, once (see ObjectTag.swift).
  package let callerReference = CallerReference()
  let runtime: RuntimeCore
  private let fn: CTaskFn
  private let arg: UnsafeMutableRawPointer?
  /// Nil once a failed `make` gave `arg` back to its caller.
  private var dropFn: CDropFn?
  /// All a post touches, as raw pointers: the slot's state word, the
  /// runtime's admission word and its doorbell.
  private let state: UnsafeMutablePointer<Atomic<UInt32>>
  private let admission: UnsafeMutablePointer<Atomic<UInt64>>
  private let doorbell: SignalDoorbell

  private init(runtime: RuntimeCore, fn: @escaping CTaskFn, arg: UnsafeMutableRawPointer?, drop: CDropFn?) {
    self.runtime = runtime
    self.fn = fn
    self.arg = arg
    self.dropFn = drop
    state = .allocate(capacity: 1)
    state.initialize(to: Atomic(0))
    admission = runtime.admission.rawWord
    doorbell = runtime.parking.doorbell
  }

  deinit {
    dropFn?(arg)
    tag.clear()
    state.deinitialize(count: 1)
    state.deallocate()
  }

  /// `rt_signal_slot_new`: nil, `arg` untouched, if the runtime refuses
  /// the caller (shut down or shutting down, or inherited by fork()).
  public static func make(
    on runtime: RuntimeCore, _ fn: @escaping CTaskFn, _ arg: UnsafeMutableRawPointer?, drop: CDropFn?
  ) -> SignalSlot? {
    if runtime.refusesCaller { return nil }
    let slot = SignalSlot(runtime: runtime, fn: fn, arg: arg, drop: drop)
    // Out of memory (`Allocation`) refuses the slot like a shutdown.
    guard !Allocation.failed, runtime.signals.add(slot) else {
      slot.dropFn = nil  // refused: `arg` stays the caller's
      return nil
    }
    return slot
  }

  /// `rt_signal_slot_post`, async-signal-safe. False if the runtime no
  /// longer takes work from outside its workers (a run may still have
  /// started, if a shutdown began during the call); true means a run
  /// starts after this call.
  public func post() -> Bool {
    if Admission.refusesOutsiders(admission) { return false }
    // Releasing: what the handler wrote before posting is seen by the run,
    // whose clearing of the bit acquires.
    let (old, _) = state.pointee.bitwiseOr(Self.pendingBit, ordering: .acquiringAndReleasing)
    if old == 0 { doorbell.ring() }
    // Checked again after the ring: a shutdown that closed admission
    // before this load hears the bell (or finds the slot pending) when it
    // closes the registry, so a true answer is never a lost post.
    return !Admission.refusesOutsiders(admission)
  }

  /// `rt_signal_slot_free`, before the caller's reference goes: no run is
  /// admitted from now on; one already queued or running finishes, and
  /// `arg` is dropped after it.
  package func free() {
    // A forked child's copy of the registry's lock may be held by a thread
    // that stayed in the parent (Fork.swift), and no drop callback runs in
    // a child: the slot is kept as it is, for ever.
    if runtime.isInheritedByFork {
      _ = Unmanaged.passRetained(self)
      return
    }
    state.pointee.bitwiseOr(Self.freedBit, ordering: .relaxed)
    runtime.signals.remove(self)
  }

  /// Under the registry's lock: claims the run a posted, idle slot is owed
  /// and admits it (in flight from here, so a shutdown waits for it). Nil
  /// if none is owed: not posted, or a queued or running run answers the
  /// post when it starts or ends.
  fileprivate func admitRun() -> Job? {
    let (claimed, _) = state.pointee.compareExchange(
      expected: Self.pendingBit, desired: Self.queuedBit, ordering: .acquiringAndReleasing)
    guard claimed else { return nil }
    let job = Job.posted(self)
    // Owed, like a due timer: admitted while the runtime drains.
    if runtime.admit(job, bounded: false, fromWorker: true, fallible: false) != nil {
      // Sealed by a shutdown timeout: the runtime runs nothing more (the
      // job was consumed), and the post it answers is dropped, which the
      // shutdown's answer must say (see `run`).
      runtime.ledger.owedWorkDroppedByShutdown()
      state.pointee.bitwiseAnd(~Self.queuedBit, ordering: .relaxed)
      return nil
    }
    return job
  }

  override public func run() {
    // Acquiring: sees what the handlers wrote before the posts this run
    // answers.
    state.pointee.bitwiseAnd(~Self.pendingBit, ordering: .acquiringAndReleasing)
    fn(arg)
    let (idle, seen) = state.pointee.compareExchange(
      expected: Self.queuedBit, desired: 0, ordering: .acquiringAndReleasing)
    if idle { return }
    // Posted during the run: one more, behind the work already queued.
    if seen & Self.freedBit != 0 {
      state.pointee.bitwiseAnd(~Self.queuedBit, ordering: .relaxed)
    } else if runtime.submit(.posted(self), bounded: false, owed: true) != nil {
      // Refused only once a shutdown timeout sealed the runtime: the post
      // that returned RT_OK gets no run, and the shutdown must not answer
      // RT_OK as if everything accepted had run. Counted before this run
      // ends, so before the drain that decides the answer sees it end.
      runtime.ledger.owedWorkDroppedByShutdown()
      state.pointee.bitwiseAnd(~Self.queuedBit, ordering: .relaxed)
    }
  }

  /// A shutdown timeout dropped the queued run: the runtime runs nothing
  /// more, so nothing is owed.
  override public func drop() {
    state.pointee.bitwiseAnd(~Self.queuedBit, ordering: .relaxed)
  }
}

/// A runtime's signal slots, for the workers to scan when the doorbell
/// rings.
final class SignalSlots: Sendable {
  private struct Registry {
    var slots: [SignalSlot] = []
    /// Set by the shutdown (step 2) once nothing posted is owed a run.
    var closed = false
    /// Where a scan collects its runs: capacity for every slot, grown when
    /// a slot is added (`Array.makeRoom`), so that a worker's scan never
    /// allocates. A scan takes it out and gives it back after queueing; a
    /// scan that finds it out leaves the bell up and sets `turnedAway`,
    /// and the scan holding it looks again.
    var scratch: [Job] = []
    var turnedAway = false
  }

  private let registry = Lock(Registry())

  fileprivate func add(_ slot: SignalSlot) -> Bool {
    registry.withLock { registry in
      if registry.closed { return false }
      // Refused with the flag set, nothing changed, if the system has no
      // memory for the registry or for a scan of it.
      guard registry.slots.makeRoom(for: 1),
        registry.scratch.makeRoom(for: registry.slots.count + 1 - registry.scratch.count)
      else { return false }
      registry.slots.append(slot)
      return true
    }
  }

  /// The caller's reference still holds `slot`, so its drop never runs
  /// under the lock.
  fileprivate func remove(_ slot: SignalSlot) {
    registry.withLock { registry in
      // Searched from the newest, and the last moved into the hole: a
      // program that frees its slots newest first pays O(1) each.
      guard let at = registry.slots.lastIndex(where: { $0 === slot }) else { return }
      registry.slots.swapAt(at, registry.slots.count - 1)
      registry.slots.removeLast()
    }
  }

  /// If the doorbell rang: lowers it and queues a run for each slot posted
  /// and idle. True if it queued any. What workers call where they fire
  /// due timers: unless the bell rang, one relaxed load.
  @inline(__always)
  func queuePosted(on runtime: RuntimeCore) -> Bool {
    if !runtime.parking.signalBell.word.pointee.load(ordering: .relaxed) { return false }
    return queueAll(on: runtime, closing: false, if: { false }).queued
  }

  /// The shutdown's step 2 (Runtime.swift): closes the registry if the
  /// bell is down and `drained()` holds, both under the registry's lock,
  /// so that no worker admits a run after it; else queues what was posted
  /// and returns false, to be called again once drained.
  func close(on runtime: RuntimeCore, if drained: () -> Bool) -> Bool {
    queueAll(on: runtime, closing: true, if: drained).closed
  }

  /// Admits the runs owed under the lock (where, `closing`, it closes the
  /// registry instead if none is owed and `drained()` holds), and queues
  /// them after it.
  @inline(never)
  private func queueAll(
    on runtime: RuntimeCore, closing: Bool, if drained: () -> Bool
  ) -> (queued: Bool, closed: Bool) {
    let bell = runtime.parking.signalBell.word
    let worker = runtime.currentWorkerUnretained
    var closed = false, queued = false, round = 0
    while true {
      var taken: [Job]? = registry.withLock { registry in
        if registry.closed { return [] }
        // Another scan holds the buffer (or a slot was added meanwhile
        // and the buffer it left is short): that scan looks again.
        guard registry.scratch.capacity >= registry.slots.count else {
          registry.turnedAway = true
          return nil
        }
        // Sequentially consistent: pairs with the posts' checks of the
        // admission word (see `SignalSlot.post`).
        let rang = bell.pointee.exchange(false, ordering: .sequentiallyConsistent)
        var jobs: [Job] = []
        swap(&jobs, &registry.scratch)
        if rang {
          for slot in registry.slots {
            if let job = slot.admitRun() { jobs.append(job) }
          }
        }
        if closing, jobs.isEmpty, drained() {
          registry.closed = true
          closed = true
        }
        return jobs
      }
      // Moved out, so that the buffer is unique and empties in place.
      guard var jobs = taken.take() else {
        // A worker's scan leaves the runs to the one that holds the
        // buffer; the shutdown must know, so it waits its turn.
        if !closing { return (queued, closed) }
        Spin.pause(round)
        round += 1
        continue
      }
      for job in jobs { runtime.enqueue(job, worker: worker) }
      queued = queued || !jobs.isEmpty
      jobs.removeAll(keepingCapacity: true)
      let again: Bool = registry.withLock { registry in
        // The larger buffer stays; a slot added during the scan may
        // have left one already.
        if jobs.capacity > registry.scratch.capacity { swap(&jobs, &registry.scratch) }
        defer { registry.turnedAway = false }
        return registry.turnedAway && !closed
      }
      // `jobs`, the smaller buffer, is freed here, outside the lock.
      if !again { return (queued, closed) }
    }
  }
}
