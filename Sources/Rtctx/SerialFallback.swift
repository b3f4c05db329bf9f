import RtctxCore
import Synchronization

/// What `Strand` and `Loop` share as Swift executors: a job that their
/// queue refuses or drops (a sealed runtime, a closed loop) must still run,
/// serially with the executor's other refused jobs, or the actor it
/// belongs to never resumes.
protocol FallingBackExecutor: SerialExecutor, AnyObject {
  /// Runs `job` on the executor's `SerialFallbackQueue`, and counts it.
  func runOnFallback(_ job: UnownedJob)
}

/// An actor's job in a strand's or loop's queue: run there, or, dropped,
/// on the executor's fallback queue.
final class FallibleExecutorJob<Executor: FallingBackExecutor>: PostedWork, @unchecked Sendable {
  let job: UnownedJob
  let executor: Executor

  init(_ job: UnownedJob, on executor: Executor) {
    self.job = job
    self.executor = executor
  }

  override func run() { job.runSynchronously(on: executor.asUnownedSerialExecutor()) }
  override func drop() { executor.runOnFallback(job) }
}

/// A serial queue over Swift's global executor: one drainer at a time, in
/// arrival order. Serial only among its own jobs, which is what the
/// executor's documentation says of its fallback.
final class SerialFallbackQueue: @unchecked Sendable {
  private struct State {
    var jobs: [UnownedJob] = []
    var draining = false
  }
  private let state = Mutex(State())

  /// Whether a drainer runs: what `checkIsolated` can know of it.
  var isDraining: Bool { state.withLock { $0.draining } }

  func run(_ job: UnownedJob, on executor: UnownedSerialExecutor) {
    let start = state.withLock { state -> Bool in
      state.jobs.append(job)
      if state.draining { return false }
      state.draining = true
      return true
    }
    guard start else { return }
    Task.detached { [self] in
      while let next = state.withLock({ state -> UnownedJob? in
        if state.jobs.isEmpty {
          state.draining = false
          return nil
        }
        return state.jobs.removeFirst()
      }) {
        next.runSynchronously(on: executor)
      }
    }
  }
}
