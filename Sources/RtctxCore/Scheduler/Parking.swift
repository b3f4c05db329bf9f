import Synchronization

/// How idle workers sleep and how new work wakes them, with as few
/// syscalls as the work allows.
///
/// A worker with nothing to do first *searches* (spins over the queues for
/// a while), then *sleeps* on its own futex word, listed in `idle`.
/// Whoever makes work visible calls `notify()`, which does nothing while a
/// worker is searching (that worker will find it) or nobody sleeps, and
/// otherwise moves exactly one sleeper from `idle` to searching and wakes
/// it. A woken worker that finds work notifies again if it was the last
/// searcher, so wakes ripple out one at a time as long as work remains,
/// instead of every push paying for a syscall.
///
/// The lost-wakeup handshake: a worker going to sleep first counts itself
/// in `sleepers` and then looks at the queues once more; a pusher first
/// makes its job visible and then reads `searching` and `sleepers`. All
/// four are sequentially consistent, so one of the two sees the other.
final class Parking: @unchecked Sendable {
  private let searching = PaddedAtomic<Int>(0)
  private let sleepers = PaddedAtomic<Int>(0)
  private let idle = Lock<[Int]>([])
  private let words: [Parker]
  /// At most this many workers search at once: on a small machine a
  /// searching worker would otherwise take the core the pusher needs.
  let maxSearching: Int
  /// Raised by a signal handler's post (`SignalDoorbell`), lowered by the
  /// worker that queues what was posted (SignalSlot.swift). The last check
  /// before a sleep reads it, so no worker sleeps through a post.
  let signalBell = PaddedAtomic<Bool>(false)
  /// The parkers' futex words as raw pointers, for `SignalDoorbell`.
  private let ringWords: UnsafeMutablePointer<UnsafeMutablePointer<Atomic<UInt32>>>

  final class Parker: Sendable {
    /// 0 asleep or about to be, 1 woken by `notify`, 2 rung by a signal
    /// handler (`SignalDoorbell.ring`).
    let word = FutexWord()
  }

  static let rungBySignal: UInt32 = 2

  init(workers: Int) {
    words = (0..<workers).map { _ in Parker() }
    maxSearching = max(1, workers / 2)
    ringWords = .allocate(capacity: max(words.count, 1))
    for (i, parker) in words.enumerated() { (ringWords + i).initialize(to: parker.word.atomic) }
  }

  deinit { ringWords.deallocate() }

  /// What a signal handler may touch of the parking lot.
  var doorbell: SignalDoorbell { SignalDoorbell(bell: signalBell.word, words: ringWords, count: words.count) }

  // MARK: Worker side

  /// Tries to become a searcher; false if enough workers search already.
  func startSearching() -> Bool { searching.increment(below: maxSearching) }

  /// A searcher found work. Returns true if it was the last searcher: the
  /// caller then calls `notify()` so that remaining work gets a worker.
  func stopSearching() -> Bool {
    searching.word.pointee.subtract(1, ordering: .sequentiallyConsistent).newValue == 0
  }

  /// Sleeps worker `index` until notified or `deadline`, unless
  /// `hasWork()` holds once it counts as a sleeper. The caller must not be
  /// searching. Returns with the worker counted as searching if it was
  /// notified, else not searching.
  func sleep(index: Int, deadline: UInt64?, hasWork: () -> Bool) -> Bool {
    let parker = words[index]
    parker.word.atomic.pointee.store(0, ordering: .relaxed)
    idle.withLock { idle in
      idle.append(index)
      sleepers.word.pointee.add(1, ordering: .sequentiallyConsistent)
    }
    if !hasWork() && !signalBell.word.pointee.load(ordering: .sequentiallyConsistent) {
      while parker.word.atomic.pointee.load(ordering: .acquiring) == 0 {
        if !parker.word.wait(whileEqualTo: 0, deadline: deadline) { break }
      }
    }
    // Leave the idle list, unless a notifier already took us out of it
    // (it then counted us as searching and set, or will set, our word).
    let removed = idle.withLock { idle in
      guard let at = idle.firstIndex(of: index) else { return false }
      idle.remove(at: at)
      sleepers.word.pointee.subtract(1, ordering: .relaxed)
      return true
    }
    if removed { return false }
    // A notifier owns our wake: wait for its store so that the next sleep
    // does not see a stale 1 (a signal's 2 is not that store).
    while true {
      let seen = parker.word.atomic.pointee.load(ordering: .acquiring)
      if seen == 1 { break }
      parker.word.wait(whileEqualTo: seen)
    }
    return true
  }

  // MARK: Pusher side

  /// Work became visible: make sure some worker will look at it.
  @inline(__always)
  func notify() {
    if searching.word.pointee.load(ordering: .sequentiallyConsistent) > 0 { return }
    if sleepers.word.pointee.load(ordering: .sequentiallyConsistent) == 0 { return }
    wakeOne()
  }

  @inline(never)
  private func wakeOne() {
    let woken: Int? = idle.withLock { idle in
      // Re-check under the lock: another notifier may have woken someone.
      guard !idle.isEmpty, searching.word.pointee.load(ordering: .relaxed) == 0 else { return nil }
      let index = idle.removeLast()
      sleepers.word.pointee.subtract(1, ordering: .relaxed)
      searching.word.pointee.add(1, ordering: .sequentiallyConsistent)
      return index
    }
    if let woken { wake(woken) }
  }

  /// Wakes every sleeper (shutdown, or a timer due earlier than they sleep
  /// towards). Each is counted as searching here, as `wakeOne` counts the
  /// one it wakes, so their `sleep` returns true and each gives the count
  /// back when it finds work or stops searching.
  func notifyAll() {
    let all: [Int] = idle.withLock { idle in
      let all = idle
      idle.removeAll()
      sleepers.word.pointee.subtract(all.count, ordering: .relaxed)
      searching.word.pointee.add(all.count, ordering: .sequentiallyConsistent)
      return all
    }
    all.forEach(wake)
  }

  var hasSleepers: Bool { sleepers.word.pointee.load(ordering: .sequentiallyConsistent) > 0 }

  private func wake(_ index: Int) {
    let parker = words[index]
    // Releasing: the woken worker sees the state that made us wake it.
    parker.word.atomic.pointee.store(1, ordering: .releasing)
    parker.word.wake(1)
  }
}

/// The parking lot as a signal handler sees it (SignalSlot.swift): raw
/// pointers into memory allocated with the runtime, so ringing takes no
/// lock, allocates nothing and counts no reference.
struct SignalDoorbell: @unchecked Sendable {
  let bell: UnsafeMutablePointer<Atomic<Bool>>
  let words: UnsafeMutablePointer<UnsafeMutablePointer<Atomic<UInt32>>>
  let count: Int

  /// Raises the bell, then wakes one sleeping worker. The idle list is
  /// under a lock, so the sleepers are found by their words instead: 0 is
  /// a worker asleep or about to be, and a CAS to 2 wakes it without
  /// taking the entry `notify` owns (a worker whose word is 2 leaves the
  /// idle list itself). One that was not asleep yet (the futex woke
  /// nobody) sees the 2 or the bell before it sleeps, so the next one is
  /// tried until a sleeper woke; a worker that is running finds the bell
  /// where it looks for due timers.
  func ring() {
    bell.pointee.store(true, ordering: .sequentiallyConsistent)
    for i in 0..<count {
      let word = words[i]
      let (rung, _) = word.pointee.compareExchange(
        expected: 0, desired: Parking.rungBySignal, ordering: .sequentiallyConsistent)
      if rung && FutexWord.wakeOneFromSignalHandler(word) > 0 { return }
    }
  }
}
