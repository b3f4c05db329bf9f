import Synchronization

/// Pending timers: a min-heap by due time, then by arrival, so that timers
/// due at the same instant start in the order they were set.
///
/// Workers fire due timers between tasks and before they sleep, and sleep
/// no longer than the earliest due time (`nextDue`).
final class Timers: Sendable {
  struct Entry {
    let due: UInt64
    let seq: UInt64
    let job: Job

    func before(_ other: Entry) -> Bool {
      due != other.due ? due < other.due : seq < other.seq
    }
  }

  private struct Heap {
    var entries: [Entry] = []
    var nextSeq: UInt64 = 0
    var closed = false

    mutating func push(_ entry: Entry) {
      entries.append(entry)
      var i = entries.count - 1
      while i > 0 {
        let parent = (i - 1) / 2
        guard entries[i].before(entries[parent]) else { break }
        entries.swapAt(i, parent)
        i = parent
      }
    }

    mutating func popFirst() -> Entry? {
      guard !entries.isEmpty else { return nil }
      entries.swapAt(0, entries.count - 1)
      let first = entries.removeLast()
      var i = 0
      while true {
        let l = 2 * i + 1, r = l + 1
        var m = i
        if l < entries.count && entries[l].before(entries[m]) { m = l }
        if r < entries.count && entries[r].before(entries[m]) { m = r }
        if m == i { break }
        entries.swapAt(i, m)
        i = m
      }
      return first
    }

    var firstDue: UInt64 { entries.first?.due ?? .max }
  }

  /// Taken before `InjectQueue.overflow` when both are held (Sys.swift, `Lock`).
  private let heap = Lock(Heap())
  /// The earliest due time, `UInt64.max` when none: lets a worker skip the
  /// lock (and the clock) when no timer is pending.
  let nextDue = Atomic<UInt64>(.max)

  /// Adds a timer (`onAccepted` runs under the lock, before it can fire).
  /// Returns whether it is now the earliest, or nil if the
  /// timers were closed by a finished drain.
  func add(due: UInt64, job: Job, onAccepted: () -> Void) -> Bool? {
    heap.withLock { heap in
      if heap.closed { return nil }
      onAccepted()
      heap.push(Entry(due: due, seq: heap.nextSeq, job: job))
      heap.nextSeq += 1
      let earliest = heap.firstDue == due
      // Sequentially consistent: pairs with parking, like a queue push.
      nextDue.store(heap.firstDue, ordering: .sequentiallyConsistent)
      return earliest
    }
  }

  /// Removes the timers due at `now`, in order, and hands each to `fire`
  /// while the lock is held, so that a drain that closes the timers (also
  /// under the lock) sees either the timer or the task it became.
  func fireDue(now: UInt64, _ fire: (Job) -> Void) {
    guard nextDue.load(ordering: .relaxed) <= now else { return }
    heap.withLock { heap in
      while heap.firstDue <= now, let entry = heap.popFirst() {
        fire(entry.job)
      }
      nextDue.store(heap.firstDue, ordering: .relaxed)
    }
  }

  /// Closes the timers if `canClose()` holds under the lock, and returns
  /// the timers still pending, for the caller to drop; nil if not closed.
  func close(if canClose: () -> Bool) -> [Job]? {
    heap.withLock { heap in
      guard canClose() else { return nil }
      heap.closed = true
      var pending: [Job] = []
      while let entry = heap.popFirst() { pending.append(entry.job) }
      nextDue.store(.max, ordering: .relaxed)
      return pending
    }
  }
}
