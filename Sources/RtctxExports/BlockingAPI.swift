// rt_spawn_blocking, rt_blocking_begin and rt_blocking_end.

import CRtctx

@_cdecl("rt_spawn_blocking")
public func rt_spawn_blocking(
  _ h: OpaquePointer?, _ fn: rt_call_fn?, _ arg: UnsafeMutableRawPointer?, _ drop: rt_drop_fn?,
  _ taskOut: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
  guard let h else { return RuntimeError.fail(.invalidArgument, in: "rt_spawn_blocking", "h is NULL") }
  guard let fn else { return RuntimeError.fail(.invalidArgument, in: "rt_spawn_blocking", "fn is NULL") }
  return RuntimeCore.with(h, "rt_spawn_blocking", orElse: Int32(RT_EINVAL)) { core in
    spawnCode(core.spawnBlocking(.c(fn, arg, drop), joinable: taskOut != nil), taskOut, in: "rt_spawn_blocking") {
      $0 == .outOfMemory ? "the blocking pool had no thread and the system refused to start one" : core.whyRefused($0)
    }
  }
}

@_cdecl("rt_blocking_begin")
public func rt_blocking_begin() -> Int32 {
  switch BlockingRegion.begin() {
  case .success(.handedOff), .success(.alreadyBlocking):
    return Int32(RT_OK)
  case .success(.noSpareThread):
    // Normal operation under load: not reported to the debug log.
    return Int32(RT_EAGAIN)
  case .failure(let error):
    return RuntimeError.fail(error, in: "rt_blocking_begin", "not on a thread of any runtime: nothing to hand off")
  }
}

@_cdecl("rt_blocking_end")
public func rt_blocking_end() -> Int32 {
  BlockingRegion.end()
    ? Int32(RT_OK)
    : RuntimeError.fail(.invalidArgument, in: "rt_blocking_end", "the thread is in no blocking region")
}
