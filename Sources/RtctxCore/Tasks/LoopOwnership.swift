/// The loops a thread made and has not freed, closed when that thread
/// ends.
///
/// Why: only the owner may run or free a loop. An owner that exits without
/// `rt_loop_free` would leave its pending jobs to nobody, their drops never
/// called, and a graceful shutdown waiting for them forever. So the
/// thread's exit frees the loop as `rt_loop_free` would (pending jobs
/// dropped, once, in order; later posts refused with `RT_ESHUTDOWN`),
/// except that the caller's pointer stays valid, as after a free, until
/// the runtime's shutdown returns (see LoopCore).
///
/// Only the owning thread touches its list: no lock.
enum LoopOwnership {
  private final class Owned {
    var loops: [LoopCore] = []
  }

  // The system clears the thread's value before it calls this.
  private static let key = ThreadExitKey(onExit: { raw in
    guard let raw else { return }
    let owned = Unmanaged<Owned>.fromOpaque(raw).takeRetainedValue()
    let loops = owned.loops
    owned.loops = []
    for loop in loops { loop.close() }
  })

  /// On the owner, as the loop is made. Without a key (the process ran out
  /// of them) the loop is simply not closed at the owner's exit.
  static func adopt(_ loop: LoopCore) {
    if let raw = key.value {
      Unmanaged<Owned>.fromOpaque(raw).takeUnretainedValue().loops.append(loop)
      return
    }
    let owned = Owned()
    owned.loops.append(loop)
    let raw = Unmanaged.passRetained(owned).toOpaque()
    if !key.set(raw) { Unmanaged<Owned>.fromOpaque(raw).release() }
  }

  /// On the owner, as the loop is freed.
  static func forget(_ loop: LoopCore) {
    guard let raw = key.value else { return }
    Unmanaged<Owned>.fromOpaque(raw).takeUnretainedValue().loops.removeAll { $0 === loop }
  }
}
