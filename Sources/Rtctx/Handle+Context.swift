import RtctxCore

/// Which runtime is current: `Handle.current`, `enter`, and async code.
///
/// Two sources, paired:
///
/// - The thread's context slot (the same one C's `rt_handle_current` and
///   `rt_enter` use): the innermost entered handle, else on a worker thread
///   that worker's runtime. It is right for whatever runs on the thread at
///   the moment, so C code called from Swift always agrees with it.
/// - A `@TaskLocal`, bound by `enter` and `run`. A task's jobs may run on
///   threads that belong to no runtime (an actor with its own executor,
///   an unstructured `Task {}` started inside `run`, which copies task
///   locals but not the executor preference); there the binding still says
///   which runtime the work belongs to.
///
/// The thread's slot wins: code running on a worker of runtime A belongs
/// to A, whatever runtime started the task. Async code on the runtime
/// (`Task(executorPreference: handle)`, `withTaskExecutorPreference`)
/// runs every job on a worker, so after any `await` the current handle is
/// that runtime, with or without the task-local.
enum CurrentHandle {
  @TaskLocal static var bound: Handle?
}

extension Handle {
  /// The runtime driving the current thread or task, or nil outside any.
  ///
  /// On a worker, while a task or an async job runs, it is that worker's
  /// runtime; inside ``enter(_:)``, the entered handle (nested: the
  /// innermost); inside ``run(isolation:_:)`` (and tasks it starts with
  /// `Task {}`), that runtime, across awaits. The same runtime C code sees
  /// through `rt_handle_current()`, except on threads of no runtime, where C
  /// sees only `rt_enter`.
  ///
  /// Compare with `==`: the object may differ between calls.
  public static var current: Handle? {
    let bound = CurrentHandle.bound
    guard let core = Context.current else { return bound }
    if let bound, bound.core === core { return bound }
    return Handle(core)
  }

  /// Runs `body` with this handle current on this thread, and restores the
  /// previous one when `body` returns or throws (`rt_enter`/`rt_exit`).
  /// Nests; C code called from `body` sees this runtime through
  /// `rt_handle_current()`. Tasks started in `body` with `Task {}` inherit
  /// it as their current handle.
  ///
  /// Works after shutdown too: entering only changes what is current.
  ///
  /// - Precondition: `body` leaves the thread's context as it found it
  ///   (every C `rt_enter` inside has its `rt_exit`).
  public func enter<R>(_ body: () throws -> R) rethrows -> R {
    let token = Context.enter(core)
    defer {
      guard Context.exit(token) else {
        preconditionFailure("Handle.enter: the body left an rt_enter without its rt_exit")
      }
    }
    return try CurrentHandle.$bound.withValue(self, operation: body)
  }

  /// Runs async `body` on this runtime's workers (this handle as the task
  /// executor preference) with this handle current, and returns its
  /// result. Child tasks (`async let`, task groups) run here too;
  /// unstructured `Task {}` started inside inherit the current handle but
  /// not the executor.
  public func run<T>(
    isolation: isolated (any Actor)? = #isolation,
    _ body: () async throws -> T
  ) async rethrows -> T {
    try await CurrentHandle.$bound.withValue(self) {
      try await withTaskExecutorPreference(self, isolation: isolation, operation: body)
    }
  }
}
