import Synchronization

/// What a child process gets after `fork()`.
///
/// `fork` copies the memory of every runtime but only the forking thread:
/// in the child no worker exists, so queued tasks would never run, joins
/// and `rt_block_on` would wait forever, and `rt_shutdown` would wait for
/// a drain that cannot happen and join threads that are not there.
/// Instead, the child refuses cleanly. A `pthread_atfork` child handler
/// seals the admission of every runtime that was running (or shutting
/// down) at the fork and marks it inherited. In the child, then:
///
/// - `rt_spawn*`, `rt_block_on` and trampoline calls return
///   `RT_ESHUTDOWN` (POST calls are dropped, WAIT calls zero-filled);
/// - `rt_task_join` and `rt_task_cancel` on a task of such a runtime that
///   had not finished return `RT_ESHUTDOWN` (a finished one still gives its
///   result); no task or drop callback runs in the child;
/// - `rt_shutdown*` return `RT_ESHUTDOWN` and free nothing: the child's
///   copy of the runtime is never reclaimed;
/// - `rt_stats_get` reports `shutdown` true; handles, guards and
///   `rt_callback_free` (which does not wait) keep working;
/// - `rt_signal_slot_post` returns `RT_ESHUTDOWN`, and
///   `rt_signal_slot_free` keeps the slot (its drop does not run).
///
/// A child forked by a task runs on a copy of a worker, where joins,
/// `blockOn` and WAIT trampolines would run work inline and joins would
/// help with the worker's queue: so the check comes first on each of
/// those paths, before any inline run, help or spin.
///
/// The parent is not affected. Runtimes the child creates itself work
/// normally. A task that forks must have its child `exec` or `_exit`
/// before returning: the child's copy of that worker thread would go on
/// running the worker loop.
enum Fork {
  private struct Entry {
    let runtime: UnsafeMutableRawPointer
    var inherited = false
  }

  /// Runtimes with threads (from start to the end of shutdown), and the
  /// inherited ones, which stay listed forever.
  private static let registry = Lock<[Entry]>([])
  /// Set in a child; until then `isInherited` costs one relaxed load.
  private static let happened = Atomic<Bool>(false)

  /// Called once, when the library is loaded (Load.swift): a child forked
  /// while another thread was first touching one of these globals would
  /// find it half-initialised and wait for it forever, so none of them is
  /// initialised later, on a path a child can reach.
  static func install() {
    _ = happened.load(ordering: .relaxed)
    registry.withLock { _ in }
    _ = installed
  }

  private static let installed: Void = installForkHandlers(
    prepare: { Fork.registry.lockForFork() },
    parent: { Fork.registry.unlockAfterFork { _ in } },
    child: {
      Fork.happened.store(true, ordering: .relaxed)
      // Only atomic stores and in-place writes here: no allocation.
      Fork.registry.unlockAfterFork { entries in
        for i in entries.indices {
          entries[i].inherited = true
          Unmanaged<RuntimeCore>.fromOpaque(entries[i].runtime).takeUnretainedValue().admission.seal()
        }
      }
    })

  /// A runtime started its threads.
  static func register(_ runtime: RuntimeCore) {
    let address = Unmanaged.passUnretained(runtime).toOpaque()
    registry.withLock { $0.append(Entry(runtime: address)) }
  }

  /// A runtime joined its threads: a fork from now on copies nothing
  /// that runs.
  static func unregister(_ runtime: RuntimeCore) {
    let address = Unmanaged.passUnretained(runtime).toOpaque()
    registry.withLock { entries in entries.removeAll { $0.runtime == address && !$0.inherited } }
  }

  /// True in a child process for a runtime whose threads stayed in the
  /// parent.
  static func isInherited(_ runtime: RuntimeCore) -> Bool {
    guard happened.load(ordering: .relaxed) else { return false }
    let address = Unmanaged.passUnretained(runtime).toOpaque()
    return registry.withLock { $0.contains { $0.runtime == address && $0.inherited } }
  }
}

extension RuntimeCore {
  /// See `Fork`: this process is a child of the one whose threads run
  /// this runtime.
  package var isInheritedByFork: Bool { Fork.isInherited(self) }
}
