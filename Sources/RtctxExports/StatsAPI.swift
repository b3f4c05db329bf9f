// rt_stats_get.

import CRtctx

@_cdecl("rt_stats_get")
public func rt_stats_get(_ h: OpaquePointer?, _ out: UnsafeMutablePointer<rt_stats_t>?) -> Int32 {
  guard let h else { return RuntimeError.fail(.invalidArgument, in: "rt_stats_get", "h is NULL") }
  guard let out else { return RuntimeError.fail(.invalidArgument, in: "rt_stats_get", "out is NULL") }
  let size = out.pointee.size
  guard isVersionedSize(size, of: rt_stats_t.self) else {
    return RuntimeError.fail(
      .invalidArgument, in: "rt_stats_get", whyBadSize("out->size", size, "rt_stats_t", rt_stats_t.self))
  }
  guard let s = RuntimeCore.with(h, "rt_stats_get", orElse: nil, { $0.stats }) else { return Int32(RT_EINVAL) }
  var full = rt_stats_t()
  full.size = size
  full.workers = UInt32(s.workers)
  full.spawned = s.spawned
  full.completed = s.completed
  full.dropped = s.dropped
  full.queued = s.queued
  full.timers = s.timers
  full.rejected = s.rejected
  full.shutdown = s.shutdown
  full.strands = s.strands
  full.strand_turns = s.strandTurns
  full.groups = s.groups
  full.blocking_threads = s.blockingThreads
  full.blocking_threads_peak = s.blockingThreadsPeak
  full.blocking_spawned = s.blockingSpawned
  full.blocking_regions = s.blockingRegions
  full.handoffs = s.handOffs
  full.stranded_moved = s.strandedMoved
  full.joins_helped = s.joinsHelped
  // An older caller's smaller struct gets only the fields it has.
  withUnsafeBytes(of: &full) { UnsafeMutableRawPointer(out).copyMemory(from: $0.baseAddress!, byteCount: size) }
  return Int32(RT_OK)
}
