// rt_apply and Handle.apply: fn(ctx, i) for every i in 0..<count, spread
// over the runtime's workers and the calling thread, returning once every
// call returned (libdispatch's dispatch_apply_f).
//
// Why chunks: a claim is an atomic add on a cache line every participant
// writes, which costs more than a trivial body (libdispatch claims one
// index at a time). Indices are claimed a chunk at a time instead, sized
// so that each participant still gets about `chunksPerParticipant` of them
// (a participant that is preempted, or bodies of uneven cost, still even
// out) but never more than `maxChunk` indices (so one slow chunk cannot
// hold up the end for long): 10^7 trivial calls cost a plain loop split
// over the workers plus a few thousand atomic adds.
//
// Why the caller participates: otherwise it would only wait, and waiting
// for work that needs a free worker deadlocks when no worker is free (an
// apply from a task on a one-worker runtime, an apply nested in an apply's
// body, every worker blocked in applies). The caller claims chunks like
// any helper, so it always makes progress on its own: helpers only make
// it faster. Correctness never depends on a helper running: one that a
// shutdown timeout drops, or that starts after the last chunk was
// claimed, claims nothing, and the caller waits only for chunks that a
// running participant already claimed.
//
// Lifetime: the call returns once every index is done, while helper jobs
// may still sit in a queue. Each queued helper holds a retain of the
// shared state (the state is the posted work, posted once per helper), so
// a late helper still finds the state, sees no chunk left and returns
// without touching `fn` or `ctx` (which may point at the caller's stack).

import Synchronization

/// The function `rt_apply` calls: `fn(ctx, index)`. The type
/// `include/rtctx.h` declares as `rt_apply_fn` (`size_t` is `Int` here; the
/// index is passed as its bit pattern).
public typealias CApplyFn = @convention(c) (UnsafeMutableRawPointer?, Int) -> Void

/// How an apply of `count` indices is cut up on `workers` workers.
struct ApplyPlan: Equatable {
  /// About this many chunks per participant, for balance.
  static let chunksPerParticipant: UInt = 8
  /// At most this many indices per chunk: with trivial bodies a chunk is a
  /// few microseconds, so the claims cost well under 1% of the work.
  static let maxChunk: UInt = 4096

  let count: UInt
  let chunk: UInt
  let chunks: UInt
  /// Jobs to post besides the caller: fewer than the workers (the caller
  /// takes the place of one, so the apply keeps as many threads busy as
  /// the runtime has workers) and fewer than the chunks.
  let helpers: UInt

  init(count: UInt, workers: Int) {
    let workers = UInt(max(workers, 1))
    // `workers` is at most RuntimeConfig.maxWorkers: no overflow.
    let chunk = min(max(count / (workers * Self.chunksPerParticipant), 1), Self.maxChunk)
    self.count = count
    self.chunk = chunk
    // Even for count near UInt.max the chunk is maxChunk, so neither this
    // nor the claim counter (chunks plus one failed claim per participant)
    // can overflow.
    chunks = count / chunk + (count % chunk == 0 ? 0 : 1)
    helpers = min(workers, chunks) - 1
  }
}

/// One apply in progress: the indices, the claim counter, and what the
/// caller waits on. Posted once per helper; every run is one more
/// participant.
final class ApplyRun: PostedWork, @unchecked Sendable {
  private let plan: ApplyPlan
  private let fn: CApplyFn
  private let ctx: UnsafeMutableRawPointer?
  /// The next chunk to claim. Relaxed: a claim only has to be unique; what
  /// the calls wrote is ordered by `unfinished`. On its own cache lines,
  /// since every participant writes it once per chunk.
  private let nextChunk = PaddedAtomic<UInt>(0)
  /// Chunks whose calls have not all returned. Each participant subtracts
  /// the chunks it ran once, when it finds none left to claim; the one that
  /// brings it to zero finished the apply.
  private let unfinished: Atomic<UInt>
  /// 1 once a helper finished the last chunk: the caller sleeps on it.
  private let finished = FutexWord()

  init(_ plan: ApplyPlan, _ fn: CApplyFn, _ ctx: UnsafeMutableRawPointer?) {
    self.plan = plan
    self.fn = fn
    self.ctx = ctx
    unfinished = Atomic(plan.chunks)
  }

  /// A helper on a worker.
  override func run() {
    guard runChunks() else { return }
    // Releasing: the caller that sees 1 sees every call's writes, which
    // this thread acquired through `unfinished`.
    finished.atomic.pointee.store(1, ordering: .releasing)
    finished.wakeAll()
  }

  /// Dropped by a shutdown timeout before it ran: it claimed nothing, so
  /// there is nothing to give back; the caller runs what is left.
  override func drop() {}

  /// The calling thread: runs chunks like a helper, then waits for those
  /// that running helpers claimed.
  func runAsCaller() {
    if runChunks() { return }
    if spinBriefly({ isFinished }) { return }
    while !isFinished { finished.wait(whileEqualTo: 0) }
  }

  private var isFinished: Bool { finished.atomic.pointee.load(ordering: .acquiring) != 0 }

  /// Claims and runs chunks until none is left; true if this thread
  /// finished the last one.
  @inline(__always)
  private func runChunks() -> Bool {
    var ran: UInt = 0
    while true {
      let claimed = nextChunk.word.pointee.wrappingAdd(1, ordering: .relaxed).oldValue
      if claimed >= plan.chunks { break }
      let start = claimed &* plan.chunk
      let end = start &+ min(plan.chunk, plan.count &- start)
      runIndices(start, end, fn, ctx)
      ran &+= 1
    }
    guard ran > 0 else { return false }
    // Acquiring and releasing: the subtractions form one release sequence,
    // so the one that reaches zero sees every participant's calls.
    return unfinished.wrappingSubtract(ran, ordering: .acquiringAndReleasing).newValue == 0
  }
}

/// `fn(ctx, i)` for `start <= i < end`, in order.
@inline(__always)
private func runIndices(_ start: UInt, _ end: UInt, _ fn: CApplyFn, _ ctx: UnsafeMutableRawPointer?) {
  var index = start
  while index < end {
    fn(ctx, Int(bitPattern: index))
    index &+= 1
  }
}

extension RuntimeCore {
  /// `rt_apply`: calls `fn(ctx, i)` once for every `i` in `0..<count` on
  /// the workers and the calling thread, and returns once every call
  /// returned. Refused with `.shutDown`, having called nothing, if the
  /// runtime refuses work from this caller when the call begins; once
  /// begun, every index runs, whatever a shutdown does meanwhile.
  public func apply(_ count: UInt, _ fn: CApplyFn, _ ctx: UnsafeMutableRawPointer?) -> RuntimeError? {
    if count == 0 { return nil }
    if refusesCaller { return .shutDown }
    let plan = ApplyPlan(count: count, workers: workerCount)
    guard plan.helpers > 0 else {
      // One participant: nothing to share, nothing to allocate.
      runIndices(0, count, fn, ctx)
      return nil
    }
    let run = ApplyRun(plan, fn, ctx)
    // Unbounded, like block_on: the caller waits, so a full queue would
    // only slow it down. A helper refused (a shutdown began since the
    // check above) leaves its share to the others and the caller.
    for _ in 0..<plan.helpers {
      if post(run) != nil { break }
    }
    run.runAsCaller()
    return nil
  }
}
