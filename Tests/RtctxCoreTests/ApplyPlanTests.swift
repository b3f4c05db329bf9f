import Testing
@testable import RtctxCore

@Suite("ApplyPlan")
struct ApplyPlanTests {
  @Test("chunks cover every index once, helpers fewer than workers and chunks")
  func covers() {
    for workers in [1, 2, 4, 64, RuntimeConfig.maxWorkers] {
      for count: UInt in [1, 2, 3, UInt(workers), 1000, 1_000_000, 10_000_000, UInt.max / 3, UInt.max] {
        let plan = ApplyPlan(count: count, workers: workers)
        #expect(plan.chunk >= 1 && plan.chunk <= ApplyPlan.maxChunk)
        // The last chunk is partial at most: chunks * chunk covers count.
        #expect((plan.chunks - 1) * plan.chunk < count)
        #expect(plan.chunks.multipliedReportingOverflow(by: plan.chunk).overflow || plan.chunks * plan.chunk >= count)
        #expect(plan.helpers < UInt(workers) && plan.helpers < plan.chunks)
        // The claim counter cannot overflow: chunks plus a failed claim each.
        #expect(plan.chunks <= UInt.max - UInt(workers))
      }
    }
  }

  @Test("one chunk per index while n is small; a thread does all on one worker")
  func small() {
    let two = ApplyPlan(count: 2, workers: 2)
    #expect(two.chunk == 1 && two.chunks == 2 && two.helpers == 1)
    let one = ApplyPlan(count: 10_000_000, workers: 1)
    #expect(one.helpers == 0)
    let big = ApplyPlan(count: 10_000_000, workers: 2)
    #expect(big.chunk == ApplyPlan.maxChunk && big.helpers == 1)
  }
}
