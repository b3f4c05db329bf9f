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

/// Whether `size`, the first field of a versioned struct, covers at least
/// itself and at most what this library knows of `T`.
func isVersionedSize<T>(_ size: Int, of _: T.Type) -> Bool {
  size >= MemoryLayout<Int>.size && size <= MemoryLayout<T>.size
}

/// Why `size` is not a versioned size of `T` (`type` in C), for the debug
/// log. size_t arrives as Int: a huge C size reads as negative.
func whyBadSize<T>(_ field: StaticString, _ size: Int, _ type: StaticString, _: T.Type) -> String {
  (0..<MemoryLayout<Int>.size).contains(size)
    ? "\(field) is \(size), smaller than the size field itself: set it to sizeof(\(type))"
    : "\(field) is \(UInt(bitPattern: size)), more than this library's sizeof(\(type)), \(MemoryLayout<T>.size)"
}

/// Copies a versioned struct of a valid `size` (see `isVersionedSize`):
/// an older caller's smaller struct leaves the remaining fields at their
/// defaults.
func readVersioned<T>(_ pointer: UnsafePointer<T>, size: Int, defaults: T) -> T {
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
  guard let cfg else { return DebugLog.report("rt_config_init", .nothing, "cfg is NULL") }
  cfg.pointee = defaultConfig()
}

@_cdecl("rt_new")
public func rt_new(_ cfg: UnsafePointer<rt_config_t>?) -> OpaquePointer? {
  Allocation.begin()
  var c = defaultConfig()
  if let cfg {
    let size = UnsafeRawPointer(cfg).load(as: Int.self)
    guard isVersionedSize(size, of: rt_config_t.self) else {
      return DebugLog.null("rt_new", whyBadSize("cfg->size", size, "rt_config_t", rt_config_t.self))
    }
    c = readVersioned(cfg, size: size, defaults: c)
  }
  guard Int(c.workers) <= RuntimeConfig.maxWorkers else {
    return DebugLog.null("rt_new", "cfg->workers is \(c.workers), more than \(RuntimeConfig.maxWorkers)")
  }
  // size_t arrives as Int: above SIZE_MAX/2 reads as negative.
  guard c.queue_capacity >= 0 else {
    return DebugLog.null(
      "rt_new", "cfg->queue_capacity is \(UInt(bitPattern: c.queue_capacity)), more than SIZE_MAX/2")
  }
  var config = RuntimeConfig()
  config.workers = Int(c.workers)
  config.queueCapacity = c.queue_capacity
  if c.stranded_after_ns != 0 { config.strandedAfter = c.stranded_after_ns }
  config.maxBlockingThreads = Int(c.max_blocking_threads)
  if c.blocking_keep_alive_ns != 0 { config.blockingKeepAlive = c.blocking_keep_alive_ns }
  if let name = c.thread_name { config.threadName = String(cString: name) }
  if let start = c.on_thread_start {
    let hook = Hook(fn: start, user: c.user)
    config.onThreadStart = { hook() }
  }
  if let stop = c.on_thread_stop {
    let hook = Hook(fn: stop, user: c.user)
    config.onThreadStop = { hook() }
  }
  // The configuration is valid here, so nil means a thread or memory was refused.
  guard let core = RuntimeCore.start(config) else {
    if Allocation.failed { return DebugLog.outOfMemory("rt_new") }
    return DebugLog.null(
      "rt_new", "the system refused to start a worker thread: the workers already started were stopped and joined")
  }
  return core.retainedPointer()
}

@_cdecl("rt_handle")
public func rt_handle(_ rt: OpaquePointer?) -> OpaquePointer? {
  guard let rt else { return DebugLog.null("rt_handle", "rt is NULL") }
  return RuntimeCore.with(rt, "rt_handle", orElse: nil, reporting: .null) { $0.retainedPointer() }
}

@_cdecl("rt_shutdown")
public func rt_shutdown(_ rt: OpaquePointer?) -> Int32 {
  shutdown(rt, timeout: nil)
}

@_cdecl("rt_shutdown_timeout")
public func rt_shutdown_timeout(_ rt: OpaquePointer?, _ timeoutNs: UInt64) -> Int32 {
  shutdown(rt, timeout: timeoutNs)
}

/// The refusals every rt_shutdown* call shares.
private enum ShutdownRefusal {
  /// A forked child's copy has no worker to drain or join
  /// (RtctxCore/Lifecycle/Fork.swift): refused, its reference not consumed.
  static func inheritedByFork(_ name: StaticString) -> Int32 {
    RuntimeError.fail(
      .shutDown, in: name,
      "the runtime was inherited by fork(): its workers stayed in the parent process; nothing was shut down or freed")
  }

  /// A second shutdown of the same runtime: the caller's pointer was
  /// already consumed. Refused rather than released twice.
  static func alreadyBegun(_ name: StaticString) -> Int32 {
    RuntimeError.fail(
      .invalidArgument, in: name, "a shutdown of this runtime already began: rt_shutdown* takes a runtime once")
  }
}

private func shutdown(_ rt: OpaquePointer?, timeout: UInt64?) -> Int32 {
  let name: StaticString = timeout == nil ? "rt_shutdown" : "rt_shutdown_timeout"
  guard let rt else { return RuntimeError.fail(.invalidArgument, in: name, "rt is NULL") }
  let outcome = RuntimeCore.with(rt, name, orElse: RuntimeCore.ShutdownOutcome?.none) {
    $0.shutdown(timeout: timeout)
  }
  switch outcome {
  case nil:
    return Int32(RT_EINVAL)  // reported by the tag check
  case .inheritedByFork?:
    return ShutdownRefusal.inheritedByFork(name)
  case .onOwnWorker?:
    return RuntimeError.fail(
      .wouldDeadlock, in: name,
      "called on a worker of this runtime, which would wait for itself: shut down from another thread")
  case .alreadyShutDown?:
    return ShutdownRefusal.alreadyBegun(name)
  case .completed?, .timedOut?:
    Unmanaged<RuntimeCore>.fromOpaque(UnsafeRawPointer(rt)).release()
    return outcome == .timedOut ? Int32(RT_ETIMEDOUT) : Int32(RT_OK)
  }
}

@_cdecl("rt_shutdown_background")
public func rt_shutdown_background(_ rt: OpaquePointer?) -> Int32 {
  let name: StaticString = "rt_shutdown_background"
  guard let rt else { return RuntimeError.fail(.invalidArgument, in: name, "rt is NULL") }
  let outcome = RuntimeCore.with(rt, name, orElse: RuntimeCore.BackgroundShutdownOutcome?.none) {
    $0.shutdownBackground()
  }
  switch outcome {
  case nil:
    return Int32(RT_EINVAL)  // reported by the tag check
  case .inheritedByFork?:
    return ShutdownRefusal.inheritedByFork(name)
  case .alreadyShutDown?:
    return ShutdownRefusal.alreadyBegun(name)
  case .noThread?:
    return RuntimeError.fail(
      .outOfMemory, in: name, "the system refused to start the thread that finishes the shutdown: nothing changed")
  case .started?:
    // The reaper thread holds its own reference until the last thread ends.
    Unmanaged<RuntimeCore>.fromOpaque(UnsafeRawPointer(rt)).release()
    return Int32(RT_OK)
  }
}
