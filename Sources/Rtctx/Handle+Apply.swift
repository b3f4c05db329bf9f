import RtctxCore

extension Handle {
  /// Calls `body(i)` exactly once for every `i` in `0..<count`, spread over
  /// the runtime's workers with the calling thread taking part, and
  /// returns once every call returned (`rt_apply`, like Dispatch's
  /// `concurrentPerform`). What the calls did is visible when it returns.
  ///
  /// The calls run in no particular order, several at a time, on this
  /// thread and on workers: `body` is `@Sendable` because of that.
  /// Indices are handed out in chunks, so a trivial body costs about a
  /// plain loop split over the workers. It never waits on itself: it may
  /// be called from the runtime's own tasks, even with one worker, and
  /// from inside another `apply`'s body.
  ///
  /// - Precondition: `count >= 0`.
  /// - Throws: `RuntimeError.shutDown` if, when the call begins, the
  ///   runtime refuses work from this caller (as ``spawn(_:)``); `body`
  ///   was not called. Once begun, every index runs, even if a shutdown
  ///   starts meanwhile.
  public func apply(_ count: Int, _ body: @Sendable (Int) -> Void) throws(RuntimeError) {
    precondition(count >= 0, "Handle.apply: count \(count) is negative")
    typealias Body = @Sendable (Int) -> Void
    // The core takes a C function and a context, as rt_apply does: the
    // context points at the closure, which lives on this stack for the
    // whole call (the core never touches it after returning).
    let error = withoutActuallyEscaping(body) { (body: @escaping Body) -> RuntimeError? in
      withUnsafePointer(to: body) { pointer in
        core.apply(UInt(count), { context, index in
          context.unsafelyUnwrapped.assumingMemoryBound(to: Body.self).pointee(index)
        }, UnsafeMutableRawPointer(mutating: pointer))
      }
    }
    if let error { throw error }
  }
}
