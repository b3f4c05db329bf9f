// rt_config_init, rt_new, rt_handle, rt_shutdown*.
//
// An rt_runtime_t and an rt_handle_t are both a retained RuntimeCore: the
// runtime pointer is its creator's reference, which rt_shutdown consumes;
// each handle reference is one more retain.

import CRtctx
import CRtctxShim

extension RuntimeCore {
  /// A new C reference to this runtime.
  func retainedPointer() -> OpaquePointer {
    OpaquePointer(Unmanaged.passRetained(self).toOpaque())
  }
}

/// Copies a versioned struct whose first field is its `size`: an older
/// caller's smaller struct leaves the remaining fields at their defaults.
/// Nil if `size` does not even cover itself or is larger than we know.
func readVersioned<T>(_ pointer: UnsafePointer<T>, defaults: T) -> T? {
  let size = UnsafeRawPointer(pointer).load(as: Int.self)
  guard size >= MemoryLayout<Int>.size, size <= MemoryLayout<T>.size else { return nil }
  var value = defaults
  withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: size)) }
  return value
}

private func defaultConfig() -> rt_config_t {
  var cfg = rt_config_t()
  cfg.size = MemoryLayout<rt_config_t>.size
  return cfg
}

/// The C hooks and their `user` pointer, carried to the worker threads.
private struct Hook: @unchecked Sendable {
  let fn: @convention(c) (UnsafeMutableRawPointer?) -> Void
  let user: UnsafeMutableRawPointer?
  func callAsFunction() { fn(user) }
}

@_cdecl("rt_config_init")
public func rt_config_init(_ cfg: UnsafeMutablePointer<rt_config_t>?) {
  cfg?.pointee = defaultConfig()
}

@_cdecl("rt_new")
public func rt_new(_ cfg: UnsafePointer<rt_config_t>?) -> OpaquePointer? {
  var c = defaultConfig()
  if let cfg {
    guard let read = readVersioned(cfg, defaults: c) else { return nil }
    c = read
  }
  guard Int(c.workers) <= RuntimeConfig.maxWorkers, c.queue_capacity <= Int.max / 2 else { return nil }
  var config = RuntimeConfig()
  config.workers = Int(c.workers)
  config.queueCapacity = c.queue_capacity
  if let name = c.thread_name { config.threadName = String(cString: name) }
  if let start = c.on_thread_start {
    let hook = Hook(fn: start, user: c.user)
    config.onThreadStart = { hook() }
  }
  if let stop = c.on_thread_stop {
    let hook = Hook(fn: stop, user: c.user)
    config.onThreadStop = { hook() }
  }
  return RuntimeCore.start(config)?.retainedPointer()
}

@_cdecl("rt_handle")
public func rt_handle(_ rt: OpaquePointer?) -> OpaquePointer? {
  guard let rt else { return nil }
  return RuntimeCore.with(rt, orElse: nil) { $0.retainedPointer() }
}

@_cdecl("rt_shutdown")
public func rt_shutdown(_ rt: OpaquePointer?) -> Int32 {
  shutdown(rt, timeout: nil)
}

@_cdecl("rt_shutdown_timeout")
public func rt_shutdown_timeout(_ rt: OpaquePointer?, _ timeoutNs: UInt64) -> Int32 {
  shutdown(rt, timeout: timeoutNs)
}

private func shutdown(_ rt: OpaquePointer?, timeout: UInt64?) -> Int32 {
  guard let rt else { return RuntimeError.invalid() }
  let outcome = RuntimeCore.with(rt, orElse: RuntimeCore.ShutdownOutcome?.none) { $0.shutdown(timeout: timeout) }
  switch outcome {
  case nil:
    return RuntimeError.invalid()
  case .inheritedByFork?:
    // A forked child's copy has no worker to drain or join
    // (RtctxCore/Lifecycle/Fork.swift): refused, its reference not consumed.
    return RuntimeError.code(.shutDown)
  case .onOwnWorker?:
    return RuntimeError.code(.wouldDeadlock)
  case .alreadyShutDown?:
    // A second shutdown of the same runtime: the caller's pointer was
    // already consumed. Refuse rather than release twice.
    return RuntimeError.invalid()
  case .completed?, .timedOut?:
    Unmanaged<RuntimeCore>.fromOpaque(UnsafeRawPointer(rt)).release()
    return outcome == .timedOut ? Int32(RT_ETIMEDOUT) : Int32(RT_OK)
  }
}
