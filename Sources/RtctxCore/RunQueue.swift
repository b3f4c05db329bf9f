import Synchronization

/// A growable FIFO ring of jobs.
struct Ring: ~Copyable {
  private var slots: UnsafeMutablePointer<Job>
  private var capacity: Int
  private var head = 0
  private(set) var count = 0

  init(capacity: Int = 256) {
    self.capacity = capacity
    slots = .allocate(capacity: capacity)
  }

  deinit {
    for i in 0..<count { (slots + (head + i) % capacity).deinitialize(count: 1) }
    slots.deallocate()
  }

  mutating func push(_ job: Job) {
    if count == capacity { grow() }
    (slots + (head + count) % capacity).initialize(to: job)
    count += 1
  }

  mutating func pop() -> Job? {
    guard count > 0 else { return nil }
    let job = (slots + head).move()
    head = (head + 1) % capacity
    count -= 1
    return job
  }

  private mutating func grow() {
    let bigger = UnsafeMutablePointer<Job>.allocate(capacity: capacity * 2)
    for i in 0..<count { (bigger + i).moveInitialize(from: slots + (head + i) % capacity, count: 1) }
    slots.deallocate()
    slots = bigger
    capacity *= 2
    head = 0
  }
}

/// The queue that every thread pushes to and every worker pops from.
///
/// A mutex around a ring: simple and exact (the bounded check and the push
/// are one critical section). `length` mirrors the count for the lock-free
/// "is there work?" check of parking workers.
final class RunQueue: Sendable {
  private let ring = Mutex(Ring())
  let length = Atomic<Int>(0)

  /// Pushes unless `limit` (> 0) jobs are already queued.
  func push(_ job: Job, limit: Int = 0) -> Bool {
    ring.withLock { ring in
      if limit > 0 && ring.count >= limit { return false }
      ring.push(job)
      // Sequentially consistent: pairs with the parking worker's
      // sleepers-then-length check (see Parking.swift).
      length.add(1, ordering: .sequentiallyConsistent)
      return true
    }
  }

  func pop() -> Job? {
    if length.load(ordering: .relaxed) == 0 { return nil }
    return ring.withLock { ring in
      let job = ring.pop()
      if job != nil { length.subtract(1, ordering: .relaxed) }
      return job
    }
  }
}
