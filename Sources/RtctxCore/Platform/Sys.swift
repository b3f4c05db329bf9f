// Every call into C (pthread, futex, clocks) goes through this file, so the
// rest of the core reads as Swift.

import CRtctxShim
import Synchronization

/// Nanoseconds on the monotonic clock (never jumps with wall-clock changes).
@inline(__always)
func monotonicNow() -> UInt64 {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// A pthread call that cannot fail unless memory is corrupt or the
/// library misuses it: stop with its name and error number.
@inline(__always)
func check(_ rc: Int32, _ call: StaticString) {
  if rc != 0 { pthreadFailed(rc, call) }
}

@inline(never)
private func pthreadFailed(_ rc: Int32, _ call: StaticString) -> Never {
  preconditionFailure("rtctx: \(call) failed with error \(rc)")
}

/// Zero-filled memory straight from the kernel (an anonymous mapping),
/// for rings that are mostly empty: its pages cost nothing until first
/// written, where malloc (and calloc, for memory it reuses) would write
/// them at once. Nil if the system refused.
func allocateZeroedPages(byteCount: Int) -> UnsafeMutableRawPointer? {
  // The debug library's seam fails mappings too (make check-oom).
  if rtctx_alloc_seam_fails() != 0 { return nil }
  let memory = mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
  // MAP_FAILED, a C macro Swift cannot import: (void *)-1.
  return memory == UnsafeMutableRawPointer(bitPattern: -1) ? nil : memory
}

func freeZeroedPages(_ memory: UnsafeMutableRawPointer, byteCount: Int) {
  check(munmap(memory, byteCount), "munmap")
}

/// A page for code the library writes once and then runs (a libffi
/// trampoline), never writable and executable at once: mapped read-write
/// and zeroed, written, then sealed read-and-execute for good.
///
/// Why not libffi's `ffi_closure_alloc`: Debian 12's libffi (3.4.4, built
/// without static trampolines) maps every closure in an anonymous page
/// that is writable and executable together, unless the kernel refuses
/// such a mapping. Why a page each, not a slab of pages mapped twice (a
/// writable view and an executable one of the same memfd): that keeps a
/// writable alias of live code for as long as the code lives, and needs
/// memfd_create to allow executable mappings (vm.memfd_noexec may forbid
/// them). The price is a page of memory (4 KiB on x86-64) and three
/// system calls per trampoline's life.
package enum CodePage {
  package static var size: Int { sysconf(Int32(_SC_PAGESIZE)) }

  /// A fresh read-write page, or nil if the system refused.
  package static func allocate() -> UnsafeMutableRawPointer? { allocateZeroedPages(byteCount: size) }

  /// Makes `page` read-and-execute and no longer writable. False if the
  /// kernel refuses executable memory that was written (SELinux without
  /// execmem, PaX MPROTECT): the page stays writable and must be freed.
  package static func seal(_ page: UnsafeMutableRawPointer) -> Bool {
    mprotect(page, size, PROT_READ | PROT_EXEC) == 0
  }

  package static func free(_ page: UnsafeMutableRawPointer) { freeZeroedPages(page, byteCount: size) }
}

/// The environment variable `name`, or nil if unset or if the program
/// runs with privileges its caller lacks (glibc's AT_SECURE: setuid,
/// setgid, file capabilities), where its environment is untrusted.
func secureEnvironmentValue(_ name: UnsafePointer<CChar>) -> UnsafePointer<CChar>? {
  rtctx_secure_getenv(name)
}

/// The number of CPUs online, at least 1.
func onlineCPUs() -> Int {
  max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
}

/// A 32-bit atomic word that threads can also sleep on (a Linux futex).
///
/// The word is heap-allocated so that its address is stable: the kernel
/// keys sleepers by address.
package struct FutexWord: ~Copyable, @unchecked Sendable {
  private let word: UnsafeMutablePointer<Atomic<UInt32>>

  package init(_ value: UInt32 = 0) {
    word = .allocate(capacity: 1)
    word.initialize(to: Atomic(value))
  }

  deinit {
    word.deinitialize(count: 1)
    word.deallocate()
  }

  package var atomic: UnsafeMutablePointer<Atomic<UInt32>> { word }

  private var raw: UnsafeMutablePointer<UInt32> {
    UnsafeMutableRawPointer(word).assumingMemoryBound(to: UInt32.self)
  }

  /// Sleeps while the word equals `expected`, at most until `deadline`
  /// (monotonic ns; `nil` = no limit). Spurious returns are possible:
  /// callers re-check their condition. Returns false once the deadline passed.
  @discardableResult
  package func wait(whileEqualTo expected: UInt32, deadline: UInt64? = nil) -> Bool {
    var timeout: Int64 = -1
    if let deadline {
      let now = monotonicNow()
      if now >= deadline { return false }
      timeout = Int64(clamping: deadline - now)
    }
    return rtctx_futex_wait(raw, expected, timeout) != ETIMEDOUT
  }

  package func wake(_ count: Int32 = 1) {
    _ = rtctx_futex_wake(raw, count)
  }

  package func wakeAll() {
    _ = rtctx_futex_wake(raw, Int32.max)
  }

  /// Wakes one thread sleeping on `word`, from a signal handler: on a raw
  /// word (no object to reach), and keeping the errno of the code the
  /// signal interrupted, which the syscall may overwrite. Returns how many
  /// woke.
  static func wakeOneFromSignalHandler(_ word: UnsafeMutablePointer<Atomic<UInt32>>) -> Int32 {
    let saved = rtctx_errno()
    let woken = rtctx_futex_wake(UnsafeMutableRawPointer(word).assumingMemoryBound(to: UInt32.self), 1)
    rtctx_set_errno(saved)
    return woken
  }
}

/// A mutual-exclusion lock around `State`, on a pthread mutex: what the
/// core uses instead of `Synchronization.Mutex`.
///
/// Why not `Mutex`: on Linux it locks with futex calls of its own, which
/// ThreadSanitizer does not see, so TSan reports every access it guards as
/// a race (and a real race would hide among them). TSan intercepts
/// `pthread_mutex_lock`, so with this lock `make check-tsan` needs no
/// suppression for our own code. Uncontended it costs what `Mutex` costs:
/// one atomic to lock and one to unlock. Adaptive: a contended locker
/// spins briefly before it sleeps, as the critical sections here are a few
/// loads and stores.
///
/// The mutex and the state live on the heap: a pthread mutex must not
/// move once initialized. A pthread call that fails here means memory
/// corruption or a misuse of the lock: it stops the process with the
/// error, rather than run unlocked.
///
/// Lock order (the only nesting in the library): `Timers.heap`, then
/// `InjectQueue.overflow` (firing due timers pushes them, under the timer
/// lock, onto the inject queue, which may spill into its overflow). The
/// signal slots' registry (SignalSlot.swift) is a leaf: runs are admitted
/// under it, and queued after it is let go. The
/// lifecycle lock and the fork registry's lock are never held while
/// another is taken; the fork registry's is held across `fork()` only.
/// A group's lock (Group.swift) is a leaf too: nothing is taken, queued or
/// called back while it is held.
struct Lock<State: ~Copyable>: ~Copyable, @unchecked Sendable {
  private let mutex: UnsafeMutablePointer<pthread_mutex_t>
  private let state: UnsafeMutablePointer<State>

  init(_ initial: consuming State) {
    mutex = .allocate(capacity: 1)
    mutex.initialize(to: pthread_mutex_t())
    var attr = pthread_mutexattr_t()
    check(pthread_mutexattr_init(&attr), "pthread_mutexattr_init")
    check(pthread_mutexattr_settype(&attr, Int32(PTHREAD_MUTEX_ADAPTIVE_NP)), "pthread_mutexattr_settype")
    check(pthread_mutex_init(mutex, &attr), "pthread_mutex_init")
    check(pthread_mutexattr_destroy(&attr), "pthread_mutexattr_destroy")
    state = .allocate(capacity: 1)
    state.initialize(to: initial)
  }

  deinit {
    check(pthread_mutex_destroy(mutex), "pthread_mutex_destroy")
    mutex.deallocate()
    state.deinitialize(count: 1)
    state.deallocate()
  }

  @inline(__always)
  func withLock<R, E: Error>(_ body: (inout State) throws(E) -> R) throws(E) -> R {
    check(pthread_mutex_lock(mutex), "pthread_mutex_lock")
    defer { check(pthread_mutex_unlock(mutex), "pthread_mutex_unlock") }
    return try body(&state.pointee)
  }

  /// Fork handlers only (see Fork.swift): held from `prepare` in the
  /// parent until `parent`, or `child` in the child, so that the child
  /// inherits the state whole.
  func lockForFork() { check(pthread_mutex_lock(mutex), "pthread_mutex_lock") }
  func unlockAfterFork(_ body: (inout State) -> Void) {
    body(&state.pointee)
    check(pthread_mutex_unlock(mutex), "pthread_mutex_unlock")
  }
}

/// A lock for critical sections of a few stores (a loop's queue): spins,
/// then yields, never sleeps in the kernel. A pthread mutex there made a
/// poster and the owner put each other to sleep on the futex at every
/// collision, which cost more than the work the lock guards. Not for
/// sections that call out or wait: a preempted holder costs its waiters a
/// time slice each.
struct SpinLock<State: ~Copyable>: ~Copyable, @unchecked Sendable {
  private let padded = PaddedAtomic<Bool>(false)
  private let state: UnsafeMutablePointer<State>

  init(_ initial: consuming State) {
    state = .allocate(capacity: 1)
    state.initialize(to: initial)
  }

  deinit {
    state.deinitialize(count: 1)
    state.deallocate()
  }

  private var word: UnsafeMutablePointer<Atomic<Bool>> { padded.word }

  @inline(__always)
  func withLock<R, E: Error>(_ body: (inout State) throws(E) -> R) throws(E) -> R {
    if word.pointee.exchange(true, ordering: .acquiring) { lockSlow() }
    defer { word.pointee.store(false, ordering: .releasing) }
    return try body(&state.pointee)
  }

  @inline(never)
  private func lockSlow() {
    var round = 0
    while true {
      // Read-only while held: the line stays shared until the release.
      while word.pointee.load(ordering: .relaxed) {
        Spin.pause(round)
        round += 1
      }
      if !word.pointee.exchange(true, ordering: .acquiring) { return }
    }
  }
}

/// `pthread_atfork`: the three handlers run around every `fork()` of the
/// process, on the forking thread.
func installForkHandlers(
  prepare: @escaping @convention(c) () -> Void, parent: @escaping @convention(c) () -> Void,
  child: @escaping @convention(c) () -> Void
) {
  check(pthread_atfork(prepare, parent, child), "pthread_atfork")
}

/// One OS thread, started with a Swift closure and joined once.
package struct OSThread: @unchecked Sendable {
  private let thread: pthread_t

  /// Starts `body` on a new thread named `name` (cut to the 15 bytes Linux
  /// keeps). Returns nil if the system refused the thread.
  package static func start(name: String, _ body: @escaping @Sendable () -> Void) -> OSThread? {
    final class Box { let body: @Sendable () -> Void; let name: String
      init(_ body: @escaping @Sendable () -> Void, _ name: String) { self.body = body; self.name = name } }
    let box = Unmanaged.passRetained(Box(body, name)).toOpaque()
    var thread = pthread_t()
    let rc = pthread_create(&thread, nil, { raw in
      let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
      setCurrentThreadName(box.name)
      box.body()
      return nil
    }, box)
    if rc != 0 {
      Unmanaged<Box>.fromOpaque(box).release()
      return nil
    }
    return OSThread(thread: thread)
  }

  func join() {
    check(pthread_join(thread, nil), "pthread_join")
  }

  /// Nobody will join the thread: the system frees it when it ends (the
  /// reaper of a background shutdown, Runtime.swift).
  func detach() {
    check(pthread_detach(thread), "pthread_detach")
  }
}

/// The calling thread, as a number to compare with another thread's only.
func currentThreadToken() -> UInt { UInt(pthread_self()) }

/// The longest prefix of the UTF-8 `bytes` of at most `maxBytes` bytes that
/// does not end inside a character.
func utf8Prefix(_ bytes: [UInt8], maxBytes: Int) -> [UInt8] {
  var end = min(bytes.count, max(0, maxBytes))
  // A continuation byte just past the cut: the cut is inside a character,
  // so it moves back to that character's first byte.
  while end > 0, end < bytes.count, bytes[end] & 0xC0 == 0x80 { end -= 1 }
  return Array(bytes[..<end])
}

private func setCurrentThreadName(_ name: String) {
  var bytes = utf8Prefix(Array(name.utf8), maxBytes: RuntimeConfig.threadNameBytes)
  bytes.append(0)
  bytes.withUnsafeBufferPointer { buffer in
    buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
      rtctx_set_thread_name($0)
    }
  }
}

/// The thread-local slots of the C shim, typed.
enum ThreadSlots {
  @inline(__always) static var worker: UnsafeMutableRawPointer? {
    get { rtctx_tls_worker() }
    set { rtctx_tls_set_worker(newValue) }
  }

  @inline(__always) static var context: UnsafeMutableRawPointer? {
    get { rtctx_tls_context() }
    set { rtctx_tls_set_context(newValue) }
  }

  /// The strand whose job runs on this thread (Strand.swift), unretained.
  @inline(__always) static var strand: UnsafeMutableRawPointer? {
    get { rtctx_tls_strand() }
    set { rtctx_tls_set_strand(newValue) }
  }

  /// The loop whose job runs on this thread (Loop.swift), unretained.
  @inline(__always) static var loop: UnsafeMutableRawPointer? {
    get { rtctx_tls_loop() }
    set { rtctx_tls_set_loop(newValue) }
  }

  /// How many blocking regions (`rt_blocking_begin`) the thread is in.
  static var regionDepth: Int {
    get { rtctx_tls_region() }
    set { rtctx_tls_set_region(newValue) }
  }
}

/// Spins a little while for `done()` to hold: a futex sleep and wake costs
/// several microseconds, while work handed to a running worker is often
/// done sooner. Spins on the CPU's pause hint first, then yields the core
/// between checks, so that on a small machine the spinner does not hold up
/// the thread it waits for.
@inline(__always)
func spinBriefly(_ done: () -> Bool) -> Bool {
  for round in 0..<Spin.rounds {
    if done() { return true }
    Spin.pause(round)
  }
  return false
}

enum Spin {
  static let rounds = 512
  private static let pausesBeforeYield = 16

  @inline(__always)
  static func pause(_ round: Int) {
    if round < pausesBeforeYield {
      rtctx_cpu_relax()
    } else {
      sched_yield()
    }
  }
}

/// A pthread key with a destructor: a value a thread sets is handed to
/// `onExit` on that thread when it ends (not at `exit()`, which ends the
/// process instead). Made once per use, never deleted.
struct ThreadExitKey: @unchecked Sendable {
  private var key = pthread_key_t()
  /// False if the process ran out of keys: then nothing is set or called.
  let ok: Bool

  init(onExit: @escaping @convention(c) (UnsafeMutableRawPointer?) -> Void) {
    ok = pthread_key_create(&key, onExit) == 0
  }

  /// The calling thread's value.
  var value: UnsafeMutableRawPointer? { ok ? pthread_getspecific(key) : nil }

  /// Sets the calling thread's value; false if the system refused.
  func set(_ value: UnsafeMutableRawPointer) -> Bool { ok && pthread_setspecific(key, value) == 0 }
}

/// The calling thread, to compare with `isCurrentThread` later: what a
/// loop remembers of its owner.
struct ThreadIdentity: @unchecked Sendable {
  private let thread: pthread_t
  init() { thread = pthread_self() }
  var isCurrentThread: Bool { pthread_equal(thread, pthread_self()) != 0 }
}

/// A Linux eventfd as a readiness flag: readable while signalled. Non-
/// blocking, so that a signal never waits (the counter coalesces every
/// write, and cannot overflow with one write per drain) and a clear of an
/// unsignalled descriptor returns at once.
/// Closed by its owner, once (`close()`).
struct EventFD: @unchecked Sendable {
  let fd: Int32

  /// Nil if the system refused a descriptor.
  init?() {
    let fd = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
    if fd < 0 { return nil }
    self.fd = fd
  }

  func close() { _ = CRtctxShim.close(fd) }

  func signal() {
    var one: UInt64 = 1
    _ = withUnsafePointer(to: &one) { write(fd, $0, 8) }
  }

  func clear() {
    var value: UInt64 = 0
    _ = withUnsafeMutablePointer(to: &value) { read(fd, $0, 8) }
  }

  /// Waits until readable or `timeoutNs` passed (nil: no limit); EINTR
  /// returns early, which callers treat as a spurious wake-up.
  func waitReadable(timeoutNs: UInt64?) {
    var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    // Rounded up to whole milliseconds, so that a short timeout waits
    // rather than spins.
    let ms: Int32 = timeoutNs.map { Int32(clamping: ($0 &+ 999_999) / 1_000_000) } ?? -1
    _ = poll(&pfd, 1, ms)
  }
}

/// Out of memory as an error (the funnel in shim.c): a failed allocation of
/// the Swift code is served from the calling thread's reserve and sets the
/// thread's flag, which the entry point reads at its commit point, before
/// it queues anything or takes ownership of anything, to undo and refuse
/// with `.outOfMemory`. Only the C library routes its allocations to the
/// funnel: the SwiftPM build runs on the Swift runtime, whose allocator
/// traps on failure, so there the flag is never read and nothing refills.
package enum Allocation {
  /// First thing in an entry point that allocates: a full reserve, the
  /// flag cleared; if the system has no memory for a reserve, the flag set.
  @inline(__always)
  package static func begin() {
    #if hasFeature(Embedded)
      rtctx_alloc_begin()
    #endif
  }

  /// Whether the system has `bytes` for a growth now (allocated and freed):
  /// asked before an array grows past what the reserve could serve, so
  /// that a refusal comes while the caller can still say no. False sets
  /// the flag.
  package static func probe(bytes: Int) -> Bool {
    #if hasFeature(Embedded)
      rtctx_alloc_probe(bytes) != 0
    #else
      true
    #endif
  }

  /// Runs `grow` (one allocation of about `bytes`, such as an array's
  /// `reserveCapacity`) with the block already given by the system and
  /// kept for it (`rtctx_alloc_grant`): unlike a `probe`, nothing taken in
  /// between can make the growth fall back to the reserve. False, with the
  /// flag set and `grow` not run, if the system had no memory.
  package static func granted(bytes: Int, _ grow: () -> Void) -> Bool {
    #if hasFeature(Embedded)
      guard rtctx_alloc_grant(bytes) != 0 else { return false }
      grow()
      rtctx_alloc_grant_end()
    #else
      grow()
    #endif
    return true
  }

  /// For a failure the funnel does not see (a refused mapping).
  package static func noteFailure() {
    #if hasFeature(Embedded)
      rtctx_tls_alloc_failed_slot = 1
    #else
      fatalError("rtctx: out of memory")
    #endif
  }

  /// Whether an allocation of this thread failed since `begin`.
  @inline(__always)
  package static var failed: Bool {
    #if hasFeature(Embedded)
      rtctx_alloc_failed() != 0
    #else
      false
    #endif
  }

  /// A thread's loop (workers, blocking threads, the monitor): a fresh
  /// reserve once this thread used its own.
  @inline(__always)
  package static func refillIfUsed() {
    #if hasFeature(Embedded)
      if rtctx_alloc_failed() != 0 { _ = rtctx_alloc_refill() }
    #endif
  }
}

extension Array {
  /// Capacity for `extra` more elements, taken before a job is accepted
  /// (the caller counts `extra` as promised appends until they land): an
  /// append after the commit point then never allocates, so no list that
  /// grows with the work queued can outgrow a thread's reserve. Doubles,
  /// with the memory granted first (`Allocation.granted`); false, with the
  /// flag set, if the system had none, and nothing changed.
  mutating func makeRoom(for extra: Int) -> Bool {
    let needed = count + extra
    if needed <= capacity { return true }
    let grown = Swift.max(needed, capacity * 2, 16)
    return Allocation.granted(bytes: grown * MemoryLayout<Element>.stride) { reserveCapacity(grown) }
  }
}
