import CRtctxShim
import Synchronization

/// The queue that threads outside the runtime push to and every worker
/// pops from.
///
/// A bounded lock-free ring (Dmitry Vyukov's MPMC array queue) takes the
/// traffic: a push or a pop is one compare-and-swap on its end of the ring
/// plus a store of the slot's sequence number. Each slot's sequence says
/// whose turn it is: `pos` means "free for the push at pos", `pos + 1`
/// "holds the job pushed at pos", `pos + capacity` "free for the next lap".
/// When the ring is full, jobs spill into `overflow`, a mutex-protected
/// chunked list, so the queue is unbounded without ever copying: no task
/// order is promised, so the two parts need not stay in order.
final class InjectQueue: @unchecked Sendable {
  /// A slot's job: relaxed atomics (plain moves on x86), ordered by the
  /// slot's sequence.
  private struct Slot: ~Copyable {
    let code: Atomic<UInt>
    let payload: Atomic<UInt>
  }

  /// Each slot's sequence number, in an array of its own, 32 bits wide:
  /// a slot then costs 16 + 4 bytes, not 24 (what a burst leaves resident
  /// of the ring). Stored as the low 32 bits of the sequence minus the
  /// slot's index, so that the all-zero memory `calloc` hands out already
  /// reads as the initial sequence: the ring's pages are touched only as
  /// the ring fills, and an idle runtime does not pay for its capacity.
  /// The full sequence is rebuilt next to the position it is compared
  /// with (`sequence(at:)`), which it never differs from by 2^31 or more.
  private let sequences: UnsafeMutablePointer<Atomic<UInt32>>
  private let slots: UnsafeMutablePointer<Slot>
  private let mask: UInt
  private let head = PaddedAtomic<UInt>(0)
  private let tail = PaddedAtomic<UInt>(0)
  /// Taken after `Timers.heap` when both are held (Sys.swift, `Lock`).
  private let overflow = Lock(Overflow())
  private let overflowCount = PaddedAtomic<Int>(0)

  /// Jobs that went to the overflow list, ever: what tests check to know
  /// they reached it.
  package var overflowed: Int { overflowPushes.load(ordering: .relaxed) }
  private let overflowPushes = Atomic<Int>(0)

  /// `firstPosition` is for tests only: a ring that starts just below a
  /// multiple of 2^32 crosses its 32-bit sequences' wrap within a few laps.
  init(capacity: Int, firstPosition: UInt = 0) {
    precondition(capacity > 1 && capacity & (capacity - 1) == 0, "rtctx: the inject ring's capacity must be a power of two")
    var capacity = capacity
    var jobs = calloc(capacity, MemoryLayout<Slot>.stride)
    var stored = calloc(capacity, MemoryLayout<Atomic<UInt32>>.stride)
    if jobs == nil || stored == nil {
      // Out of memory: the runtime being built is discarded (`Allocation`
      // is set); a ring of two, from the reserve, lets it be torn down.
      free(jobs)
      free(stored)
      capacity = 2
      jobs = calloc(capacity, MemoryLayout<Slot>.stride)
      stored = calloc(capacity, MemoryLayout<Atomic<UInt32>>.stride)
    }
    guard let jobs, let stored else { fatalError("rtctx: out of memory for the run queue, and its reserve spent") }
    mask = UInt(capacity - 1)
    slots = jobs.assumingMemoryBound(to: Slot.self)
    sequences = stored.assumingMemoryBound(to: Atomic<UInt32>.self)
    if firstPosition != 0 {
      head.word.pointee.store(firstPosition, ordering: .relaxed)
      tail.word.pointee.store(firstPosition, ordering: .relaxed)
      // Each slot is free for the first position at or after
      // `firstPosition` that maps to it.
      for index in 0...mask {
        var first = (firstPosition & ~mask) | index
        if first < firstPosition { first &+= mask &+ 1 }
        setSequence(first, at: first)
      }
    }
  }

  deinit {
    free(slots)
    free(sequences)
  }

  /// The sequence of `pos`'s slot, as a full position near `pos`.
  @inline(__always)
  private func sequence(at pos: UInt) -> UInt {
    let index = pos & mask
    let low = sequences[Int(index)].load(ordering: .acquiring) &+ UInt32(truncatingIfNeeded: index)
    return pos &+ UInt(bitPattern: Int(Int32(bitPattern: low &- UInt32(truncatingIfNeeded: pos))))
  }

  @inline(__always)
  private func setSequence(_ sequence: UInt, at pos: UInt) {
    let index = pos & mask
    sequences[Int(index)].store(UInt32(truncatingIfNeeded: sequence &- index), ordering: .releasing)
  }

  /// Pushes a job; never fails.
  @inline(__always)
  func push(_ job: Job) {
    if !tryPushRing(job) { pushOverflow(job) }
  }

  @inline(never)
  private func pushOverflow(_ job: Job) {
    overflow.withLock { $0.push(job) }
    overflowPushes.add(1, ordering: .relaxed)
    // Sequentially consistent, like the ring's CAS: parking pairs with it.
    overflowCount.word.pointee.add(1, ordering: .sequentiallyConsistent)
  }

  /// Pushes a batch that a worker moves out of its full local queue.
  func pushOverflow(_ jobs: UnsafeBufferPointer<Job>) {
    overflow.withLock { list in for job in jobs { list.push(job) } }
    overflowPushes.add(jobs.count, ordering: .relaxed)
    overflowCount.word.pointee.add(jobs.count, ordering: .sequentiallyConsistent)
  }

  @inline(__always)
  private func tryPushRing(_ job: Job) -> Bool {
    var pos = tail.word.pointee.load(ordering: .relaxed)
    while true {
      let slot = slots + Int(pos & mask)
      // Acquiring: the slot's previous job was fully read by its popper.
      let sequence = sequence(at: pos)
      let lag = Int(bitPattern: sequence &- pos)
      if lag == 0 {
        // Sequentially consistent: a worker about to sleep counts itself
        // as a sleeper, then looks at the ring; this push, then its check
        // for sleepers, must not both miss (see Parking.swift).
        let (won, seen) = tail.word.pointee.compareExchange(
          expected: pos, desired: pos &+ 1, ordering: .sequentiallyConsistent)
        if won {
          slot.pointee.code.store(job.code, ordering: .relaxed)
          slot.pointee.payload.store(job.payload, ordering: .relaxed)
          // Releasing: the popper that sees pos + 1 sees the job.
          setSequence(pos &+ 1, at: pos)
          return true
        }
        pos = seen
      } else if lag < 0 {
        return false  // full: the slot still holds the job of the last lap
      } else {
        pos = tail.word.pointee.load(ordering: .relaxed)
      }
    }
  }

  /// Takes up to `max` jobs off the ring with one CAS, handing each to
  /// `sink`; returns how many. A worker that takes several at once pays
  /// for the contended head once, not once a job.
  @inline(__always)
  func popBatch(max: Int, into sink: (Job) -> Void) -> Int {
    var pos = head.word.pointee.load(ordering: .relaxed)
    while true {
      // Count the ready slots from `pos` on. Acquiring, as in popRing.
      var ready = 0
      while ready < max {
        if sequence(at: pos &+ UInt(ready)) != pos &+ UInt(ready) &+ 1 { break }
        ready += 1
      }
      if ready == 0 {
        let sequence = sequence(at: pos)
        // Ahead of us: another popper took `pos`; look again. Else empty.
        if Int(bitPattern: sequence &- (pos &+ 1)) > 0 {
          pos = head.word.pointee.load(ordering: .relaxed)
          continue
        }
        return 0
      }
      let (won, seen) = head.word.pointee.compareExchange(
        expected: pos, desired: pos &+ UInt(ready), ordering: .relaxed)
      if !won {
        pos = seen
        continue
      }
      // The slots were ready when counted and head was at `pos`: they are
      // ours, and no pusher touches them until we hand them back.
      for i in 0..<UInt(ready) {
        let slot = slots + Int((pos &+ i) & mask)
        sink(Job(code: slot.pointee.code.load(ordering: .relaxed),
                 payload: slot.pointee.payload.load(ordering: .relaxed)))
        setSequence(pos &+ i &+ mask &+ 1, at: pos &+ i)
      }
      return ready
    }
  }

  /// Pops a job from the ring, else a job from the overflow.
  func pop() -> Job? {
    if let job = popRing() { return job }
    if overflowCount.word.pointee.load(ordering: .relaxed) == 0 { return nil }
    return popOverflow()
  }

  private func popRing() -> Job? {
    var pos = head.word.pointee.load(ordering: .relaxed)
    while true {
      let slot = slots + Int(pos & mask)
      // Acquiring: pairs with the pusher's releasing store of pos + 1.
      let sequence = sequence(at: pos)
      let lag = Int(bitPattern: sequence &- (pos &+ 1))
      if lag == 0 {
        let (won, seen) = head.word.pointee.compareExchange(
          expected: pos, desired: pos &+ 1, ordering: .relaxed)
        if won {
          let job = Job(
            code: slot.pointee.code.load(ordering: .relaxed),
            payload: slot.pointee.payload.load(ordering: .relaxed))
          // Releasing: the next lap's pusher writes only after our reads.
          setSequence(pos &+ mask &+ 1, at: pos)
          return job
        }
        pos = seen
      } else if lag < 0 {
        return nil  // empty, or the next push is still being written
      } else {
        pos = head.word.pointee.load(ordering: .relaxed)
      }
    }
  }

  private func popOverflow() -> Job? {
    let job = overflow.withLock { $0.pop() }
    if job != nil { overflowCount.word.pointee.subtract(1, ordering: .relaxed) }
    return job
  }

  /// Moves up to `max` overflow jobs out at once, for a worker's local
  /// queue: one lock for many jobs.
  func popOverflowBatch(max: Int, into sink: (Job) -> Void) -> Int {
    if overflowCount.word.pointee.load(ordering: .relaxed) == 0 { return 0 }
    let moved = overflow.withLock { list in
      var moved = 0
      while moved < max, let job = list.pop() {
        sink(job)
        moved += 1
      }
      return moved
    }
    if moved > 0 { overflowCount.word.pointee.subtract(moved, ordering: .relaxed) }
    return moved
  }

  /// Whether a job may be waiting. Sequentially consistent: the second
  /// half of the parking handshake.
  var mayHaveWork: Bool {
    tail.word.pointee.load(ordering: .sequentiallyConsistent)
      != head.word.pointee.load(ordering: .sequentiallyConsistent)
      || overflowCount.word.pointee.load(ordering: .sequentiallyConsistent) > 0
  }
}

/// An unbounded FIFO of jobs in 4096-job chunks: growing never copies, and
/// a queued job costs its 16 bytes plus 1/4096 of a chunk header.
struct Overflow: ~Copyable {
  private final class Chunk {
    static let size = 4096
    let jobs = UnsafeMutablePointer<Job>.allocate(capacity: size)
    var next: Chunk?
    deinit { jobs.deallocate() }
  }

  private var first: Chunk?
  private var last: Chunk?
  private var readIndex = 0
  private var writeIndex = Chunk.size

  mutating func push(_ job: Job) {
    if writeIndex == Chunk.size {
      let chunk = Chunk()
      if let last { last.next = chunk } else { first = chunk; readIndex = 0 }
      last = chunk
      writeIndex = 0
    }
    (last!.jobs + writeIndex).initialize(to: job)
    writeIndex += 1
  }

  mutating func pop() -> Job? {
    guard let chunk = first else { return nil }
    if chunk === last && readIndex == writeIndex {
      // Empty: keep the chunk for the next push.
      readIndex = 0
      writeIndex = 0
      return nil
    }
    let job = chunk.jobs[readIndex]
    readIndex += 1
    if readIndex == Chunk.size {
      first = chunk.next
      if first == nil { last = nil; writeIndex = Chunk.size }
      readIndex = 0
    }
    return job
  }
}
