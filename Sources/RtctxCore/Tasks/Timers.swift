import Synchronization

/// Pending timers: a min-heap by due time, then by arrival, so that timers
/// due at the same instant start in the order they were set.
///
/// Workers fire due timers between tasks and before they sleep, and sleep
/// no longer than the earliest due time (`nextDue`).
///
/// The heap is indexed: each cell knows its position (`TaskCell.timerSlot`,
/// kept up to date on every move, under the lock), so a cancel takes its
/// entry out at once, in O(log n), instead of leaving it, and the cell and
/// its argument with it, until the original due time. Setting a timeout and
/// cancelling it is the common case, and a stale entry of a one-hour timer
/// would otherwise hold about 160 bytes for that hour.
///
/// Who takes an entry out: `remove` (a cancel that won the cell's CAS),
/// `fireDue` or `close`, each under the lock, and each marks the cell
/// `notInHeap`, so the entry leaves exactly once and its retain is let go
/// exactly once. Which of them also runs or drops the task is decided by
/// the cell's state CAS, apart from the lock: `fireDue` and `close` may pop
/// a cell a cancel already claimed (and only release it); `remove` then
/// finds it gone.
final class Timers: Sendable {
  struct Entry {
    let due: UInt64
    let seq: UInt64
    /// The heap's one retain of the cell.
    let cell: Unmanaged<TaskCell>

    func before(_ other: Entry) -> Bool {
      due != other.due ? due < other.due : seq < other.seq
    }
  }

  /// `TaskCell.timerSlot` of a cell with no entry in the heap.
  static let notInHeap = -1

  private struct Heap {
    var entries: [Entry] = []
    var nextSeq: UInt64 = 0
    var closed = false

    /// Puts `entry` at `i` and tells its cell where it is.
    private mutating func place(_ entry: Entry, at i: Int) {
      entries[i] = entry
      entry.cell._withUnsafeGuaranteedRef { $0.timerSlot = i }
    }

    /// Moves the entry at `i` towards the root while it comes first.
    private mutating func siftUp(_ i: Int) {
      let moving = entries[i]
      var i = i
      while i > 0 {
        let parent = (i - 1) / 2
        guard moving.before(entries[parent]) else { break }
        place(entries[parent], at: i)
        i = parent
      }
      place(moving, at: i)
    }

    /// Moves the entry at `i` towards the leaves while a child comes first.
    private mutating func siftDown(_ i: Int) {
      let moving = entries[i]
      var i = i
      while true {
        let l = 2 * i + 1, r = l + 1
        var m = l
        if l >= entries.count { break }
        if r < entries.count && entries[r].before(entries[l]) { m = r }
        guard entries[m].before(moving) else { break }
        place(entries[m], at: i)
        i = m
      }
      place(moving, at: i)
    }

    /// Room for one more entry, if the system has the memory for it (see
    /// `Allocation.probe`): asked before a timer is accepted, so that the
    /// push after it does not grow the array out of the reserve.
    mutating func makeRoom() -> Bool {
      guard entries.count == entries.capacity, entries.capacity > 0 else { return true }
      let doubled = entries.capacity * 2
      return Allocation.granted(bytes: doubled * MemoryLayout<Entry>.stride) { entries.reserveCapacity(doubled) }
    }

    mutating func push(_ entry: Entry) {
      entries.append(entry)
      siftUp(entries.count - 1)
    }

    /// Takes out the entry at `i`: the last one fills the hole and moves
    /// up or down from there.
    mutating func remove(at i: Int) -> Entry {
      let removed = entries[i]
      let last = entries.removeLast()
      if i < entries.count {
        place(last, at: i)
        if i > 0 && last.before(entries[(i - 1) / 2]) { siftUp(i) } else { siftDown(i) }
      }
      removed.cell._withUnsafeGuaranteedRef { $0.timerSlot = Timers.notInHeap }
      shrinkIfSparse()
      return removed
    }

    mutating func popFirst() -> Entry? {
      entries.isEmpty ? nil : remove(at: 0)
    }

    /// An array never gives its storage back by itself: after a burst of
    /// timers set and cancelled, it would keep the burst's size forever.
    /// Halving when a quarter is used keeps removal amortized O(1) extra.
    private mutating func shrinkIfSparse() {
      guard entries.capacity > 1024, entries.count < entries.capacity / 4,
        // Shrinking is optional: never out of the reserve (`Allocation`).
        Allocation.probe(bytes: entries.count * 2 * MemoryLayout<Entry>.stride)
      else { return }
      var smaller: [Entry] = []
      smaller.reserveCapacity(entries.count * 2)
      smaller.append(contentsOf: entries)
      entries = smaller
    }

    var firstDue: UInt64 { entries.first?.due ?? .max }
  }

  /// Taken before `InjectQueue.overflow` when both are held (Sys.swift, `Lock`).
  private let heap = Lock(Heap())
  /// The earliest due time, `UInt64.max` when none: lets a worker skip the
  /// lock (and the clock) when no timer is pending.
  let nextDue = Atomic<UInt64>(.max)

  /// See `Heap.makeRoom`; false if the system had no memory.
  func makeRoom() -> Bool { heap.withLock { $0.makeRoom() } }

  /// Adds a timer for `cell` (`onAccepted` runs under the lock, before it
  /// can fire); the heap takes its own retain. Returns whether it is now
  /// the earliest, or nil if the timers were closed by a finished drain.
  func add(due: UInt64, cell: TaskCell, onAccepted: () -> Void) -> Bool? {
    heap.withLock { heap in
      if heap.closed { return nil }
      onAccepted()
      heap.push(Entry(due: due, seq: heap.nextSeq, cell: .passRetained(cell)))
      heap.nextSeq += 1
      let earliest = heap.firstDue == due
      // Sequentially consistent: pairs with parking, like a queue push.
      nextDue.store(heap.firstDue, ordering: .sequentiallyConsistent)
      return earliest
    }
  }

  /// Takes `cell`'s entry out, if it is still in the heap, and lets go of
  /// the heap's retain: for a cancel that claimed the cell. False if
  /// `fireDue` or `close` took the entry first (they release it then).
  @discardableResult
  func remove(_ cell: TaskCell) -> Bool {
    let removed: Entry? = heap.withLock { heap in
      let slot = cell.timerSlot
      guard slot != Self.notInHeap else { return nil }
      let entry = heap.remove(at: slot)
      // Relaxed, like `fireDue`: a later due time only wakes a sleeper
      // early, for nothing.
      nextDue.store(heap.firstDue, ordering: .relaxed)
      return entry
    }
    // Outside the lock; never the last reference, the caller holds one.
    removed?.cell.release()
    return removed != nil
  }

  /// Removes the timers due at `now`, in order, and hands each (as a job
  /// owning the heap's retain) to `fire` while the lock is held, so that a
  /// drain that closes the timers (also under the lock) sees either the
  /// timer or the task it became.
  func fireDue(now: UInt64, _ fire: (Job) -> Void) {
    guard nextDue.load(ordering: .relaxed) <= now else { return }
    heap.withLock { heap in
      while heap.firstDue <= now, let entry = heap.popFirst() {
        fire(.task(retained: entry.cell))
      }
      nextDue.store(heap.firstDue, ordering: .relaxed)
    }
  }

  /// Closes the timers if `canClose()` holds under the lock, and returns
  /// the timers still pending, for the caller to drop; nil if not closed.
  /// The entries come out in heap order, in the heap's own array: closing
  /// allocates nothing, so a shutdown never runs out of memory here.
  func close(if canClose: () -> Bool) -> [Entry]? {
    heap.withLock { heap in
      guard canClose() else { return nil }
      heap.closed = true
      let pending = heap.entries
      heap.entries = []
      for entry in pending { entry.cell._withUnsafeGuaranteedRef { $0.timerSlot = Timers.notInHeap } }
      nextDue.store(.max, ordering: .relaxed)
      return pending
    }
  }
}
