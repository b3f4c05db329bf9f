import CRtctxShim
import Synchronization

/// A worker's own queue: the tasks its tasks spawn.
///
/// Only the owning worker pushes (no atomic read-modify-write: a store of
/// `tail`); the owner pops and other workers steal from `head` with a
/// compare-and-swap. A task's children so stay on the worker that made
/// them, warm in its cache, until an idle worker steals half of them.
///
/// A reader copies a slot before its CAS on `head`; if the owner reused
/// that slot meanwhile, the owner had seen `head` move past it, so the
/// reader's CAS fails and the torn copy is thrown away. Slots are relaxed
/// atomics so that this benign race is also a defined one.
final class LocalQueue: @unchecked Sendable {
  private struct Slot: ~Copyable {
    let code = Atomic<UInt>(0)
    let payload = Atomic<UInt>(0)
  }

  let capacity: Int
  private let slots: UnsafeMutablePointer<Slot>
  /// False for the two-slot stand-in of a refused mapping.
  private let mapped: Bool
  private let mask: UInt
  private let head = PaddedAtomic<UInt>(0)
  private let tail = PaddedAtomic<UInt>(0)

  private var byteCount: Int { capacity * MemoryLayout<Slot>.stride }

  /// The slots are zeroed pages, which already read as empty slots
  /// (`Slot` is two atomic words, zero when unused): an idle worker's queue
  /// costs no resident memory until it is first used.
  init(capacity: Int) {
    precondition(capacity > 1 && capacity & (capacity - 1) == 0, "rtctx: a local queue's capacity must be a power of two")
    var capacity = capacity
    var memory = allocateZeroedPages(byteCount: capacity * MemoryLayout<Slot>.stride)
    mapped = memory != nil
    if memory == nil {
      // Out of memory: the runtime being built is discarded (`Allocation`);
      // two slots, from the reserve if need be, let it be torn down.
      Allocation.noteFailure()
      capacity = 2
      memory = calloc(capacity, MemoryLayout<Slot>.stride)
    }
    guard let memory else { fatalError("rtctx: out of memory for a worker's queue, and its reserve spent") }
    self.capacity = capacity
    mask = UInt(capacity - 1)
    slots = memory.bindMemory(to: Slot.self, capacity: capacity)
  }

  deinit {
    if mapped { freeZeroedPages(UnsafeMutableRawPointer(slots), byteCount: byteCount) } else { free(slots) }
  }

  private func write(_ job: Job, at index: UInt) {
    let slot = slots + Int(index & mask)
    slot.pointee.code.store(job.code, ordering: .relaxed)
    slot.pointee.payload.store(job.payload, ordering: .relaxed)
  }

  private func read(at index: UInt) -> Job {
    let slot = slots + Int(index & mask)
    return Job(code: slot.pointee.code.load(ordering: .relaxed),
               payload: slot.pointee.payload.load(ordering: .relaxed))
  }

  /// Owner only. False when full: the caller moves half out (`spillHalf`).
  func push(_ job: Job) -> Bool {
    let t = tail.word.pointee.load(ordering: .relaxed)
    // Acquiring: slots below head were fully read by their poppers.
    let h = head.word.pointee.load(ordering: .acquiring)
    if t &- h >= UInt(capacity) { return false }
    write(job, at: t)
    // Sequentially consistent: publishes the job (a releasing store would
    // do for that) and takes part in the parking handshake like a push to
    // the inject queue.
    tail.word.pointee.store(t &+ 1, ordering: .sequentiallyConsistent)
    return true
  }

  /// Owner only, on an empty queue: appends the jobs `fill` hands over
  /// (at most `capacity`), published to stealers with one store.
  @inline(__always)
  func refill(_ fill: (_ append: (Job) -> Void) -> Void) {
    let t = tail.word.pointee.load(ordering: .relaxed)
    var n: UInt = 0
    fill { job in
      write(job, at: t &+ n)
      n &+= 1
    }
    // Sequentially consistent, as in `push`.
    if n > 0 { tail.word.pointee.store(t &+ n, ordering: .sequentiallyConsistent) }
  }

  /// Any thread: the oldest job.
  func pop() -> Job? {
    var h = head.word.pointee.load(ordering: .acquiring)
    while true {
      // Acquiring: pairs with the owner's store of tail, so the slot read
      // below sees the job.
      let t = tail.word.pointee.load(ordering: .acquiring)
      if h == t { return nil }
      let job = read(at: h)
      let (won, seen) = head.word.pointee.compareExchange(
        expected: h, desired: h &+ 1, ordering: .acquiringAndReleasing)
      if won { return job }
      h = seen
    }
  }

  /// Owner only, when full: claims the older half and hands it to `sink`
  /// (the inject queue's overflow), making room.
  func spillHalf(_ sink: (UnsafeBufferPointer<Job>) -> Void) {
    withUnsafeTemporaryAllocation(of: Job.self, capacity: capacity / 2) { buffer in
      var h = head.word.pointee.load(ordering: .acquiring)
      while true {
        let t = tail.word.pointee.load(ordering: .relaxed)
        let n = (t &- h) / 2
        if n == 0 { return }
        for i in 0..<Int(n) { buffer[i] = read(at: h &+ UInt(i)) }
        let (won, seen) = head.word.pointee.compareExchange(
          expected: h, desired: h &+ n, ordering: .acquiringAndReleasing)
        if won {
          sink(UnsafeBufferPointer(rebasing: buffer[0..<Int(n)]))
          return
        }
        h = seen
      }
    }
  }

  /// Called by the owner of `self` (which must be empty) on a victim's
  /// queue: moves half of the victim's jobs here and returns one to run.
  func steal(from victim: LocalQueue) -> Job? {
    var h = victim.head.word.pointee.load(ordering: .acquiring)
    let myTail = tail.word.pointee.load(ordering: .relaxed)
    while true {
      let t = victim.tail.word.pointee.load(ordering: .acquiring)
      let available = t &- h
      if available == 0 { return nil }
      if available > UInt(capacity) {
        h = victim.head.word.pointee.load(ordering: .acquiring)  // h was stale
        continue
      }
      let n = available &- available / 2
      for i in 0..<n { write(victim.read(at: h &+ i), at: myTail &+ i) }
      let (won, seen) = victim.head.word.pointee.compareExchange(
        expected: h, desired: h &+ n, ordering: .acquiringAndReleasing)
      if won {
        // Keep the last for the caller; publish the rest as ours.
        let job = read(at: myTail &+ n &- 1)
        if n > 1 { tail.word.pointee.store(myTail &+ n &- 1, ordering: .sequentiallyConsistent) }
        return job
      }
      h = seen
    }
  }

  /// Any thread; exact only when quiet.
  var count: Int {
    let h = head.word.pointee.load(ordering: .sequentiallyConsistent)
    let t = tail.word.pointee.load(ordering: .sequentiallyConsistent)
    return t &- h > UInt(capacity) ? 0 : Int(t &- h)
  }
}
