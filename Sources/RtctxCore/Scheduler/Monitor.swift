import Synchronization

/// Frees work stranded behind a task that runs long.
///
/// A job queued on a worker waits for that worker's current task, and
/// other workers take it only once their own queues run dry: a task that
/// blocks (a mutex, `read()`, a condition variable the runtime knows
/// nothing of) would hold its queue for as long as the others have work.
/// So one thread per runtime watches the workers: a worker whose count of
/// started jobs has not moved for `strandedAfter` nanoseconds while its
/// queue holds jobs is stuck in one task, and its queued jobs move to the
/// inject queue, which every worker reads (at least every 61st job), and a
/// worker is woken for them.
///
/// The bound: a job queued behind a task that started at `s` is moved by
/// `s + strandedAfter + 2 × period` (the change of the count is seen one
/// period late at worst, and the stall one period late), then starts on
/// the next worker to look: at once if one is idle.
///
/// It costs the workers nothing but one load per push onto a local queue:
/// the counts it reads are theirs already (`WorkerCounters.claimed`). It
/// wakes every `period` only while some local queue holds jobs, and sleeps
/// on a futex otherwise, until a push to a local queue finds it asleep.
/// The sleep handshake is the parking one: the monitor stores `asleep`
/// and then reads the queues; a pusher stores the queue's tail and then
/// reads `asleep`; all sequentially consistent, so one sees the other.
final class Monitor: Sendable {
  let strandedAfter: UInt64
  let period: UInt64
  /// 1 while the monitor sleeps without a deadline; its futex word.
  let asleep = FutexWord()
  let stopping = Atomic<Bool>(false)

  init(strandedAfter: UInt64) {
    self.strandedAfter = strandedAfter
    period = max(strandedAfter / 2, 50_000)
  }

  /// A push onto a local queue, after its tail store.
  @inline(__always)
  func noteLocalWork() {
    if asleep.atomic.pointee.load(ordering: .sequentiallyConsistent) != 0 { wake() }
  }

  @inline(never)
  private func wake() {
    if asleep.atomic.pointee.exchange(0, ordering: .sequentiallyConsistent) != 0 { asleep.wake(1) }
  }

  func stop() {
    stopping.store(true, ordering: .sequentiallyConsistent)
    asleep.atomic.pointee.store(0, ordering: .sequentiallyConsistent)
    asleep.wakeAll()
  }
}

extension RuntimeCore {
  func monitorMain(_ monitor: Monitor) {
    Allocation.begin()
    var seen = [UInt64](repeating: .max, count: workerCount)
    var since = [UInt64](repeating: 0, count: workerCount)
    while !monitor.stopping.load(ordering: .acquiring) {
      Allocation.refillIfUsed()
      let now = monotonicNow()
      var anyQueued = false
      var moved = 0
      for worker in workers {
        let started = worker.counters.claimed.load(ordering: .relaxed)
        let queued = worker.local.count > 0
        anyQueued = anyQueued || queued
        if started != seen[worker.index] {
          seen[worker.index] = started
          since[worker.index] = now
        } else if queued && now &- since[worker.index] >= monitor.strandedAfter {
          moved += moveStranded(worker)
          since[worker.index] = now
        }
      }
      if moved > 0 {
        ledger.movedStranded(moved)
        parking.notify()
      }
      if anyQueued {
        _ = monitor.asleep.wait(whileEqualTo: 0, deadline: Deadline.after(nanoseconds: monitor.period))
        continue
      }
      // Nothing queued anywhere: sleep until a push, unless one came
      // between the look above and the store below.
      monitor.asleep.atomic.pointee.store(1, ordering: .sequentiallyConsistent)
      if workers.contains(where: { $0.local.count > 0 }) || monitor.stopping.load(ordering: .sequentiallyConsistent) {
        monitor.asleep.atomic.pointee.store(0, ordering: .relaxed)
        continue
      }
      _ = monitor.asleep.wait(whileEqualTo: 1)
      // Counts seen before the sleep are stale: start the stall clocks anew.
      for index in seen.indices { seen[index] = .max }
    }
  }

  /// Moves every job queued on `worker` to the inject queue, oldest
  /// first; any thread may take from a local queue's head.
  private func moveStranded(_ worker: WorkerState) -> Int {
    var moved = 0
    while let job = worker.local.pop() {
      inject.push(job)
      moved += 1
    }
    return moved
  }
}
