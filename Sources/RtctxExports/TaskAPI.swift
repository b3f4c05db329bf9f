// rt_spawn*, rt_block_on and the join handle functions.

import CRtctx

@_cdecl("rt_spawn")
public func rt_spawn(_ h: OpaquePointer?, _ fn: rt_fn?, _ arg: UnsafeMutableRawPointer?) -> Int32 {
  guard let h, let fn else { return RuntimeError.invalid() }
  return RuntimeError.code(RuntimeCore.with(h, orElse: .invalidArgument) { $0.spawn(fn, arg) })
}

@_cdecl("rt_spawn_full")
public func rt_spawn_full(
  _ h: OpaquePointer?, _ fn: rt_call_fn?, _ arg: UnsafeMutableRawPointer?, _ drop: rt_drop_fn?,
  _ taskOut: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
  spawn(h, delay: nil, fn, arg, drop, taskOut)
}

@_cdecl("rt_spawn_after")
public func rt_spawn_after(
  _ h: OpaquePointer?, _ delayNs: UInt64, _ fn: rt_call_fn?, _ arg: UnsafeMutableRawPointer?,
  _ drop: rt_drop_fn?, _ taskOut: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
  spawn(h, delay: delayNs, fn, arg, drop, taskOut)
}

private func spawn(
  _ h: OpaquePointer?, delay: UInt64?, _ fn: rt_call_fn?, _ arg: UnsafeMutableRawPointer?,
  _ drop: rt_drop_fn?, _ taskOut: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
  guard let h, let fn else { return RuntimeError.invalid() }
  let name: StaticString = delay == nil ? "rt_spawn_full" : "rt_spawn_after"
  let result = RuntimeCore.with(h, name, orElse: .failure(.invalidArgument)) {
    $0.spawn(.c(fn, arg, drop), after: delay, joinable: taskOut != nil)
  }
  if case .success(let cell?) = result {
    taskOut?.pointee = OpaquePointer(Unmanaged.passRetained(cell).toOpaque())
  }
  return RuntimeError.code(result)
}

@_cdecl("rt_block_on")
public func rt_block_on(
  _ h: OpaquePointer?, _ fn: rt_call_fn?, _ arg: UnsafeMutableRawPointer?,
  _ result: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
) -> Int32 {
  guard let h, let fn else { return RuntimeError.invalid() }
  let outcome = RuntimeCore.with(h, orElse: .failure(.invalidArgument)) { $0.blockOn(.c(fn, arg, nil)) }
  if case .success(let value) = outcome { result?.pointee = value }
  return RuntimeError.code(outcome)
}

@_cdecl("rt_task_join")
public func rt_task_join(
  _ t: OpaquePointer?, _ timeoutNs: Int64, _ result: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
) -> Int32 {
  guard let t else { return RuntimeError.invalid() }
  let deadline = timeoutNs < 0 ? nil : Deadline.after(nanoseconds: UInt64(timeoutNs))
  let outcome = TaskCell.with(t, orElse: .failure(.invalidArgument)) { $0.join(deadline: deadline) }
  if case .success(let value) = outcome { result?.pointee = value }
  return RuntimeError.code(outcome)
}

@_cdecl("rt_task_cancel")
public func rt_task_cancel(_ t: OpaquePointer?) -> Int32 {
  guard let t else { return RuntimeError.invalid() }
  return RuntimeError.code(TaskCell.with(t, orElse: .failure(.invalidArgument)) { $0.cancel() })
}

@_cdecl("rt_task_is_finished")
public func rt_task_is_finished(_ t: OpaquePointer?) -> Bool {
  guard let t else { return false }
  return TaskCell.with(t, orElse: false) { $0.isDone }
}

@_cdecl("rt_task_release")
public func rt_task_release(_ t: OpaquePointer?) {
  guard let t, TaskCell.with(t, orElse: false, { _ in true }) else { return }
  Unmanaged<TaskCell>.fromOpaque(UnsafeRawPointer(t)).release()
}
