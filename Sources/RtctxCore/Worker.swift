/// The loop each worker thread runs.
///
/// Work first; due timers between tasks and before sleeping; a short spin
/// before parking, because work often arrives within microseconds of the
/// last task and a futex sleep plus wake costs far more than the spin.
extension RuntimeCore {
  private static let spinsBeforePark = 64
  private static let tasksBetweenTimerChecks = 32

  func workerMain() {
    // The worker slot makes this runtime current on this thread, and marks
    // the thread as one of its workers (inline block_on, EDEADLK).
    ThreadSlots.worker = Unmanaged.passUnretained(self).toOpaque()
    defer { ThreadSlots.worker = nil }

    config.onThreadStart?()
    // Releasing: whatever the start hook did is visible to rt_new's caller.
    startedWorkers.atomic.pointee.add(1, ordering: .releasing)
    startedWorkers.wakeAll()

    var sinceTimerCheck = 0
    while true {
      if let job = queue.pop() {
        execute(job)
        sinceTimerCheck += 1
        if sinceTimerCheck >= Self.tasksBetweenTimerChecks {
          sinceTimerCheck = 0
          fireDueTimers()
        }
        continue
      }
      sinceTimerCheck = 0
      if fireDueTimers() { continue }
      if stopping.load(ordering: .acquiring) { break }
      if spinForWork() { continue }

      let due = timers.nextDue.load(ordering: .relaxed)
      parking.park(deadline: due == .max ? nil : due) {
        queue.length.load(ordering: .sequentiallyConsistent) > 0
          || timers.nextDue.load(ordering: .sequentiallyConsistent) < due
          || stopping.load(ordering: .sequentiallyConsistent)
      }
    }

    config.onThreadStop?()
  }

  private func spinForWork() -> Bool {
    for _ in 0..<Self.spinsBeforePark {
      if queue.length.load(ordering: .relaxed) > 0 { return true }
    }
    return false
  }
}
