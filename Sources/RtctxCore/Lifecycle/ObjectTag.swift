import Synchronization

/// A word in each object the C API hands out (runtime/handle, task,
/// guard, callback, strand, group, signal slot, repeating timer) that says what the object is while it lives, and is
/// cleared when it dies.
///
/// What it buys, honestly: the export layer compares it on entry, so a
/// pointer released for the last time (a double release, a join after the
/// last release, a second `rt_shutdown` with no handle left) is refused
/// with `RT_EINVAL` instead of corrupting the heap, as long as the freed
/// memory was not yet reused (malloc keeps its own links in the first 16
/// bytes of a freed block, where the Swift object header is; the tag sits
/// after it). Once the memory holds another live object of the same kind,
/// a stale pointer is indistinguishable from a good one: the C pointer
/// carries no generation. A pointer that was never ours is refused unless
/// it happens to point at the right word. Release builds refuse; debug
/// builds stop with the reason (see the export layer's `misuse`). A
/// release that the header makes once-only (join handles, trampolines,
/// strands, groups) also checks the object's `CallerReference`, which
/// refuses a second release while workers still hold the object.
///
/// What it costs: 8 bytes per object, and one load and compare per call,
/// from a cache line the call reads anyway.
///
/// Debug builds also count the live objects of each kind, so tests can
/// check that nothing leaked (`rtctx_debug_live_objects`).
public struct ObjectTag: ~Copyable, Sendable {
  public enum Kind: Int, CaseIterable, Sendable {
    case runtime = 0, task, contextGuard, callback, strand, group, signalSlot, loop
    case timer

    /// Eight ASCII letters per kind; nothing else writes such a word there.
    @usableFromInline @inline(__always) var magic: UInt64 {
      switch self {
      case .runtime: 0x7274_2D72_756E_746D  // "rt-runtm"
      case .task: 0x7274_2D74_6173_6B21  // "rt-task!"
      case .contextGuard: 0x7274_2D67_7561_7264  // "rt-guard"
      case .callback: 0x7274_2D63_616C_6C62  // "rt-callb"
      case .strand: 0x7274_2D73_7472_616E  // "rt-stran"
      case .group: 0x7274_2D67_726F_7570  // "rt-group"
      case .signalSlot: 0x7274_2D73_6967_6E6C  // "rt-signl"
      case .loop: 0x7274_2D6C_6F6F_7021  // "rt-loop!"
      case .timer: 0x7274_2D74_696D_6572  // "rt-timer"
      }
    }
  }

  // Atomic, so that the clearing store is never optimized away as a store
  // to memory about to be freed.
  @usableFromInline let word: Atomic<UInt64>

  package init(_ kind: Kind) {
    word = Atomic(kind.magic)
    #if DEBUG
      LiveObjects.count(kind, 1)
    #endif
  }

  /// Marks the object dead. The owner's `deinit` calls it: there the tag
  /// is still in the object's memory, whereas this struct's own `deinit`
  /// may run on a copy moved out of it.
  package func clear() {
    #if DEBUG
      let magic = word.load(ordering: .relaxed)
      if let kind = Kind.allCases.first(where: { $0.magic == magic }) { LiveObjects.count(kind, -1) }
    #endif
    word.store(0, ordering: .relaxed)
  }

  /// Whether the object is a live `kind`. Public and inlinable, so that
  /// the export layer's check of every pointer on every call compiles to a
  /// load and a compare (a `package` function is not inlined across
  /// modules by this toolchain).
  @inlinable @inline(__always)
  public func holds(_ kind: Kind) -> Bool { word.load(ordering: .relaxed) == kind.magic }
}

/// The one reference the C API handed to an object's creator (a join
/// handle, a trampoline, a strand, a group), given back once.
///
/// Why the tag is not enough for a release: the object also lives by
/// transient references, a worker's for the job it is finishing, a queued
/// trampoline call's, a strand's wake-up. While one is held the tag stays
/// live after the caller's release, so a second release would pass the tag
/// check and drop a reference that belongs to the worker, which then frees
/// the object under itself. The release function exchanges this flag
/// first: the second release, concurrent or later, finds it set and is
/// refused like any pointer that is no longer the caller's, whoever still
/// holds the object.
package struct CallerReference: ~Copyable, Sendable {
  private let released = Atomic<Bool>(false)

  package init() {}

  /// True for exactly one call: the one that gives the caller's reference
  /// back.
  package func giveBack() -> Bool {
    // Relaxed: only which call wins matters; the release that follows is
    // what orders the caller's writes before the object is freed.
    !released.exchange(true, ordering: .relaxed)
  }
}

#if DEBUG
  /// Live objects per kind, in debug builds only: every object the C API
  /// hands out, and the internal task cells (block_on, posted calls) too.
  package enum LiveObjects {
    private static let runtimes = Atomic<Int>(0)
    private static let tasks = Atomic<Int>(0)
    private static let guards = Atomic<Int>(0)
    private static let callbacks = Atomic<Int>(0)
    private static let strands = Atomic<Int>(0)
    private static let groups = Atomic<Int>(0)
    private static let signalSlots = Atomic<Int>(0)
    private static let loops = Atomic<Int>(0)
    private static let timers = Atomic<Int>(0)

    private static func counter<R>(_ kind: ObjectTag.Kind, _ body: (borrowing Atomic<Int>) -> R) -> R {
      switch kind {
      case .runtime: body(runtimes)
      case .task: body(tasks)
      case .contextGuard: body(guards)
      case .callback: body(callbacks)
      case .strand: body(strands)
      case .group: body(groups)
      case .signalSlot: body(signalSlots)
      case .loop: body(loops)
      case .timer: body(timers)
      }
    }

    fileprivate static func count(_ kind: ObjectTag.Kind, _ delta: Int) {
      counter(kind) { _ = $0.add(delta, ordering: .relaxed) }
    }

    package static func live(_ kind: ObjectTag.Kind) -> Int {
      counter(kind) { $0.load(ordering: .relaxed) }
    }
  }
#endif
