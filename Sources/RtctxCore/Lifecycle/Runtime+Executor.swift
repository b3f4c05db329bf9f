import Synchronization

/// What the Swift layer's `TaskExecutor` needs from the core beyond `post`:
/// a count of the executor jobs that ran on the fallback executor because
/// this runtime refused or dropped them (it had shut down, or a shutdown
/// timeout dropped them). Such a job is not lost; it is run elsewhere.
extension RuntimeCore {
  package func countExecutorFallback() {
    ledger.executorFallbacks.wrappingAdd(1, ordering: .relaxed)
  }

  package var executorFallbacks: UInt64 {
    ledger.executorFallbacks.load(ordering: .relaxed)
  }
}
