// rt_stats_get.

import CRtctx

@_cdecl("rt_stats_get")
public func rt_stats_get(_ h: OpaquePointer?, _ out: UnsafeMutablePointer<rt_stats_t>?) -> Int32 {
  guard let h, let out else { return RuntimeError.invalid() }
  let size = out.pointee.size
  guard size >= MemoryLayout<Int>.size, size <= MemoryLayout<rt_stats_t>.size else { return RuntimeError.invalid() }
  guard let s = RuntimeCore.with(h, orElse: nil, { $0.stats }) else { return RuntimeError.invalid() }
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
  // An older caller's smaller struct gets only the fields it has.
  withUnsafeBytes(of: &full) { UnsafeMutableRawPointer(out).copyMemory(from: $0.baseAddress!, byteCount: size) }
  return Int32(RT_OK)
}
