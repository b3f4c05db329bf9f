// FFI callback trampolines: a real C function pointer, made by libffi,
// that forwards each call to a C handler on a runtime.
//
// Every libffi call of the library is in this file, and this target is the
// only one that links libffi: the Swift product (Rtctx) does not need it.
//
// A call arrives on whatever thread the foreign code calls from:
//
//  - POST copies the argument values into one heap block (the trampoline's
//    reference, the args array, the values) and queues it; the handler runs
//    later on a worker and the block is freed after it ran or was dropped.
//  - WAIT runs the handler through `blockOn`, so on a worker of the same
//    runtime it runs inline; the arguments stay where libffi put them,
//    because the calling thread is waiting and so is their frame.
//
// A closure's result storage is libffi's, not the handler's: the handler
// writes its declared C type, and the trampoline then widens integers to a
// full `ffi_arg` (see `TrampolineType.widen`).
//
// W^X: libffi writes each closure (its code and the data that code reads)
// into a page of its own, which is then sealed read-and-execute
// (`CodePage`, Sys.swift), so no mapping of the process is ever writable
// and executable at once. Only where the kernel refuses to make written
// memory executable does the closure come from `ffi_closure_alloc`, which
// then falls back on its own double mapping, as such kernels require.

@preconcurrency import CFFI
import Synchronization

/// The C handler of a trampoline: `rt_callback_fn`.
public typealias CCallbackFn = @convention(c) (
  UnsafeMutableRawPointer?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafeMutableRawPointer?
) -> Void

/// The argument and return types a trampoline carries. Raw values are
/// those of `rt_type_t` (ABI).
public enum TrampolineType: UInt32, Sendable, CaseIterable {
  case void = 0, int, uint, long, ulong, int8, uint8, int16, uint16, int32, uint32, int64, uint64
  case size, float, double, pointer

  /// libffi's description of the C type. libffi has no `int`, `long` or
  /// `size_t` of its own: they are the fixed-width type of their size.
  var ffiType: UnsafeMutablePointer<ffi_type> {
    switch self {
    case .void: address(of: &ffi_type_void)
    case .int: MemoryLayout<CInt>.size == 4 ? address(of: &ffi_type_sint32) : address(of: &ffi_type_sint64)
    case .uint: MemoryLayout<CUnsignedInt>.size == 4 ? address(of: &ffi_type_uint32) : address(of: &ffi_type_uint64)
    case .long: MemoryLayout<CLong>.size == 8 ? address(of: &ffi_type_sint64) : address(of: &ffi_type_sint32)
    case .ulong: MemoryLayout<CUnsignedLong>.size == 8 ? address(of: &ffi_type_uint64) : address(of: &ffi_type_uint32)
    case .int8: address(of: &ffi_type_sint8)
    case .uint8: address(of: &ffi_type_uint8)
    case .int16: address(of: &ffi_type_sint16)
    case .uint16: address(of: &ffi_type_uint16)
    case .int32: address(of: &ffi_type_sint32)
    case .uint32: address(of: &ffi_type_uint32)
    case .int64: address(of: &ffi_type_sint64)
    case .uint64: address(of: &ffi_type_uint64)
    case .size: MemoryLayout<Int>.size == 8 ? address(of: &ffi_type_uint64) : address(of: &ffi_type_uint32)
    case .float: address(of: &ffi_type_float)
    case .double: address(of: &ffi_type_double)
    case .pointer: address(of: &ffi_type_pointer)
    }
  }

  /// The size of the C type in bytes (0 for void).
  var size: Int {
    switch self {
    case .void: 0
    case .int: MemoryLayout<CInt>.size
    case .uint: MemoryLayout<CUnsignedInt>.size
    case .long: MemoryLayout<CLong>.size
    case .ulong: MemoryLayout<CUnsignedLong>.size
    case .int8, .uint8: 1
    case .int16, .uint16: 2
    case .int32, .uint32, .float: 4
    case .int64, .uint64, .double: 8
    case .size: MemoryLayout<Int>.size
    case .pointer: MemoryLayout<UnsafeRawPointer>.size
    }
  }

  /// Rewrites a result the handler wrote as its declared C type into what
  /// libffi reads back. libffi loads an integer result narrower than a
  /// register as a whole `ffi_arg`, so the bytes past the handler's value
  /// would be garbage (and on big-endian targets the value would sit in the
  /// wrong end): it must be stored as a full `ffi_arg`, sign-extended for
  /// signed types, zero-extended for unsigned ones, because C callers may
  /// rely on the upper bits. Floating-point and pointer results are read
  /// at their own size and stay as written.
  func widen(_ result: UnsafeMutableRawPointer) {
    switch self {
    case .void, .float, .double, .pointer: return
    case .int: widenInteger(result, as: CInt.self)
    case .uint: widenInteger(result, as: CUnsignedInt.self)
    case .long: widenInteger(result, as: CLong.self)
    case .ulong: widenInteger(result, as: CUnsignedLong.self)
    case .int8: widenInteger(result, as: Int8.self)
    case .uint8: widenInteger(result, as: UInt8.self)
    case .int16: widenInteger(result, as: Int16.self)
    case .uint16: widenInteger(result, as: UInt16.self)
    case .int32: widenInteger(result, as: Int32.self)
    case .uint32: widenInteger(result, as: UInt32.self)
    case .int64: widenInteger(result, as: Int64.self)
    case .uint64: widenInteger(result, as: UInt64.self)
    case .size: widenInteger(result, as: UInt.self)
    }
  }
}

/// The address of one of libffi's `ffi_type_*` globals, kept in a `cif` for
/// the trampoline's life. Swift promises an inout-to-pointer argument only
/// for the call, but a C global is always accessed in its own storage,
/// never through a temporary, and libffi's types live as long as the
/// program: the pointer stays valid.
private func address(of type: UnsafeMutablePointer<ffi_type>) -> UnsafeMutablePointer<ffi_type> {
  type
}

private func widenInteger<T: FixedWidthInteger>(_ result: UnsafeMutableRawPointer, as _: T.Type) {
  // Wider-or-equal values are already what libffi reads (a 64-bit result
  // on a 32-bit `ffi_arg` target is returned in two registers as is).
  guard MemoryLayout<T>.size < MemoryLayout<ffi_arg>.size else { return }
  // `truncatingIfNeeded` sign-extends a signed T and zero-extends an
  // unsigned one.
  result.storeBytes(of: ffi_arg(truncatingIfNeeded: result.load(as: T.self)), as: ffi_arg.self)
}

/// How a trampoline hands a call to its runtime. Raw values are those of
/// `rt_callback_mode_t` (ABI).
public enum TrampolineMode: UInt32, Sendable {
  /// Copy the arguments, queue the handler, return at once (void only).
  case post = 0
  /// Run the handler on the runtime and wait; inline on its own worker.
  case wait = 1
}

/// One trampoline: what `rt_callback_t` points at.
///
/// Lifetime: the C pointer is one retain; each queued POST call holds one
/// more, so a call still queued or running when the trampoline is freed
/// keeps it alive until it finished. The libffi closure and the `cif` it
/// reads are freed in `deinit`, i.e. never while a call can still use them
/// (the foreign side stopped calling before the free, by contract).
public final class Trampoline: @unchecked Sendable {
  /// The most arguments a trampoline takes: `RT_CALLBACK_MAX_ARGS`.
  public static let maxArguments = 32

  /// The count of POST calls queued or running (low bits), and a bit set by
  /// `waitForQueuedCalls` once it may sleep, so that the hot path only
  /// makes a wake syscall when someone waits.
  private static let waiterBit: UInt32 = 1 << 31
  private static let countMask: UInt32 = waiterBit - 1

  /// A value slot of a POST block holds any supported type, aligned for all.
  private static let slotSize = 8
  private static let headerSize = MemoryLayout<UnsafeMutableRawPointer>.stride

  /// What the C API checks a callback against (see ObjectTag.swift).
  package let tag = ObjectTag(.callback)
  /// What the C release takes back, once (see ObjectTag.swift).
  package let callerReference = CallerReference()
  let runtime: RuntimeCore
  let mode: TrampolineMode
  let returnType: TrampolineType
  let argumentTypes: [TrampolineType]
  let handler: CCallbackFn
  let user: UnsafeMutableRawPointer?
  /// POST mode only (`rt_callback_new_then`): where each call's result
  /// goes, once per call that was queued, ran or not.
  let completion: CompletionHook?

  private let cif: UnsafeMutablePointer<ffi_cif>
  private let ffiArgumentTypes: UnsafeMutablePointer<UnsafeMutablePointer<ffi_type>?>
  /// Where the closure lives: its sealed page, or libffi's allocator.
  private enum Storage {
    case none
    case page(UnsafeMutableRawPointer)
    case libffi(UnsafeMutablePointer<ffi_closure>)
  }
  private var storage = Storage.none
  /// The executable address of the closure: the C function pointer.
  public private(set) var code: UnsafeMutableRawPointer?
  private let pending = FutexWord()

  private init(
    runtime: RuntimeCore, mode: TrampolineMode, returnType: TrampolineType,
    argumentTypes: [TrampolineType], handler: @escaping CCallbackFn, user: UnsafeMutableRawPointer?,
    completion: CompletionHook?
  ) {
    self.completion = completion
    self.runtime = runtime
    self.mode = mode
    self.returnType = returnType
    self.argumentTypes = argumentTypes
    self.handler = handler
    self.user = user
    cif = .allocate(capacity: 1)
    cif.initialize(to: ffi_cif())
    // libffi keeps a pointer to this array in the cif: it must live as
    // long as the closure does.
    ffiArgumentTypes = .allocate(capacity: max(argumentTypes.count, 1))
    for (i, type) in argumentTypes.enumerated() { (ffiArgumentTypes + i).initialize(to: type.ffiType) }
  }

  deinit {
    tag.clear()
    switch storage {
    case .none: break
    case .page(let page): CodePage.free(page)
    case .libffi(let closure): ffi_closure_free(closure)
    }
    ffiArgumentTypes.deallocate()
    cif.deinitialize(count: 1)
    cif.deallocate()
  }

  /// Makes a trampoline for `handler` on `runtime`.
  ///
  /// Fails with `.invalidArgument`, allocating nothing, for a signature the
  /// contract refuses (a void argument, POST with a result, too many
  /// arguments); with `.outOfMemory` if libffi could not map a closure.
  public static func make(
    on runtime: RuntimeCore, mode: TrampolineMode, returns returnType: TrampolineType,
    arguments argumentTypes: [TrampolineType], handler: @escaping CCallbackFn,
    user: UnsafeMutableRawPointer?, completion: CompletionHook? = nil
  ) -> Result<Trampoline, RuntimeError> {
    guard argumentTypes.count <= maxArguments, !argumentTypes.contains(.void),
      mode == .wait || returnType == .void, completion == nil || mode == .post
    else { return .failure(.invalidArgument) }

    let trampoline = Trampoline(
      runtime: runtime, mode: mode, returnType: returnType, argumentTypes: argumentTypes,
      handler: handler, user: user, completion: completion)
    return trampoline.prepare()
  }

  /// Builds the libffi closure; on failure, `deinit` frees what was made.
  private func prepare() -> Result<Trampoline, RuntimeError> {
    guard
      ffi_prep_cif(
        cif, FFI_DEFAULT_ABI, UInt32(argumentTypes.count), returnType.ffiType, ffiArgumentTypes)
        == FFI_OK
    else { return .failure(.invalidArgument) }

    guard let page = CodePage.allocate() else { return .failure(.outOfMemory) }
    // A libffi built with static trampolines uses them only for memory
    // its own allocator handed out (ffi_tramp_is_present looks the
    // address up there); into this page it writes the closure's code.
    guard prepareClosure(writable: page, executable: page) else {
      CodePage.free(page)
      return .failure(.invalidArgument)
    }
    if CodePage.seal(page) {
      storage = .page(page)
      code = page
      return .success(self)
    }
    CodePage.free(page)

    var executable: UnsafeMutableRawPointer? = nil
    guard let writable = ffi_closure_alloc(MemoryLayout<ffi_closure>.size, &executable), let executable
    else { return .failure(.outOfMemory) }
    storage = .libffi(writable.assumingMemoryBound(to: ffi_closure.self))
    guard prepareClosure(writable: writable, executable: executable) else { return .failure(.invalidArgument) }
    code = executable
    return .success(self)
  }

  /// Has libffi write the closure at `writable`, to be run at `executable`.
  private func prepareClosure(writable: UnsafeMutableRawPointer, executable: UnsafeMutableRawPointer) -> Bool {
    // The closure's user data is unretained: the trampoline outlives every
    // call through its code (the C owner frees it only after the foreign
    // side stopped calling).
    ffi_prep_closure_loc(
      writable.bindMemory(to: ffi_closure.self, capacity: 1), cif,
      { _, result, args, user in
        Unmanaged<Trampoline>.fromOpaque(user!).takeUnretainedValue().call(result: result, args: args)
      },
      Unmanaged.passUnretained(self).toOpaque(), executable) == FFI_OK
  }

  // MARK: Calls

  private func call(result: UnsafeMutableRawPointer?, args: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) {
    // A foreign thread's call is an entry point: a POST call whose block
    // found no memory is refused (and counted) like one after shutdown.
    Allocation.begin()
    switch mode {
    case .post: post(args)
    case .wait: wait(result: result, args: args)
    }
  }

  /// Copies the argument values and queues the handler. A call refused by
  /// a shut-down runtime is dropped here; the core counted it as rejected.
  private func post(_ args: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) {
    let count = argumentTypes.count
    let block = UnsafeMutableRawPointer.allocate(
      byteCount: Self.headerSize + count * (MemoryLayout<UnsafeMutableRawPointer?>.stride + Self.slotSize),
      alignment: max(MemoryLayout<UnsafeMutableRawPointer>.alignment, Self.slotSize))
    block.storeBytes(of: Unmanaged.passRetained(self).toOpaque(), as: UnsafeMutableRawPointer.self)
    let pointers = (block + Self.headerSize).bindMemory(to: UnsafeMutableRawPointer?.self, capacity: count)
    let values = UnsafeMutableRawPointer(pointers + count)
    for i in 0..<count {
      let slot = values + i * Self.slotSize
      slot.copyMemory(from: args![i]!, byteCount: argumentTypes[i].size)
      pointers[i] = slot
    }

    // Relaxed: the count only has to be exact; the call is published to
    // the worker by the run queue's lock.
    pending.atomic.pointee.add(1, ordering: .relaxed)
    let rejected = runtime.post(
      .c(
        { block in
          Trampoline.finishPosted(block!) { trampoline, args in trampoline.runPosted(args) }
          return nil
        },
        block,
        // Counted in flight until here: a drain under way admits the
        // completion.
        { block in Trampoline.finishPosted(block!) { trampoline, _ in trampoline.completePosted(ran: false, owed: true) } }))
    if rejected != nil { Self.finishPosted(block) { trampoline, _ in trampoline.completePosted(ran: false, owed: false) } }
  }

  /// A POST call's handler; with a completion, the handler's `result`
  /// is a `void *` slot, zeroed, whose value the completion gets.
  private func runPosted(_ args: UnsafeMutablePointer<UnsafeMutableRawPointer?>) {
    guard let completion else { return handler(nil, args, user) }
    var value: UnsafeMutableRawPointer? = nil
    withUnsafeMutablePointer(to: &value) { handler(UnsafeMutableRawPointer($0), args, user) }
    completion.deliver(on: runtime, ran: true, result: value, owed: true)
  }

  /// A POST call that never ran: its completion gets `RT_ECANCELED`.
  /// Before the call is counted out, so `rt_callback_free` returns only
  /// once every completion was posted or dropped.
  private func completePosted(ran: Bool, owed: Bool) {
    completion?.deliver(on: runtime, ran: ran, result: nil, owed: owed)
  }

  /// Runs (or skips) a POST call's handler, then frees its block and counts
  /// it out. The block's retain keeps the trampoline alive past the count
  /// reaching zero, so the wake below never touches freed memory.
  private static func finishPosted(
    _ block: UnsafeMutableRawPointer,
    _ body: (Trampoline, UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> Void
  ) {
    let trampoline = Unmanaged<Trampoline>.fromOpaque(block.load(as: UnsafeMutableRawPointer.self))
      .takeRetainedValue()
    body(trampoline, (block + headerSize).assumingMemoryBound(to: UnsafeMutableRawPointer?.self))
    block.deallocate()
    // Releasing: the handler's effects happen before `waitForQueuedCalls`
    // sees the count drop.
    let now = trampoline.pending.atomic.pointee.subtract(1, ordering: .releasing).newValue
    if now == waiterBit { trampoline.pending.wakeAll() }
  }

  /// Runs the handler on the runtime and waits; then widens the result.
  /// After a shutdown (or if a shutdown timeout dropped the call) the
  /// handler never ran and the caller gets the zeros written first.
  private func wait(result: UnsafeMutableRawPointer?, args: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) {
    // libffi passes result storage even for void; the handler gets NULL.
    let result = returnType == .void ? nil : result
    if let result { result.initializeMemory(as: UInt8.self, repeating: 0, count: returnType.size) }

    struct WaitCall {
      let trampoline: Trampoline
      let result: UnsafeMutableRawPointer?
      let args: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
    }
    var waitCall = WaitCall(trampoline: self, result: result, args: args)
    // The call lives in this frame: `blockOn` returns only after the
    // handler ran, or once the call was refused or dropped without running.
    _ = withUnsafeMutablePointer(to: &waitCall) { pointer in
      runtime.blockOn(
        .c(
          { raw in
            let call = raw!.assumingMemoryBound(to: WaitCall.self).pointee
            call.trampoline.handler(call.result, call.args, call.trampoline.user)
            return nil
          },
          UnsafeMutableRawPointer(pointer), nil))
    }
    if let result { returnType.widen(result) }
  }

  // MARK: Freeing

  /// Waits until every POST call queued so far ran or was dropped.
  ///
  /// On a worker of the trampoline's own runtime it does not wait: the
  /// queued calls may need this very worker (or be the caller itself), so
  /// waiting could deadlock. Each of those calls keeps the trampoline alive
  /// until it finished instead.
  public func waitForQueuedCalls() {
    // In a forked child the queued calls never run (Fork.swift); each
    // keeps the trampoline alive in the child's copy instead.
    if runtime.isCurrentWorker || runtime.isInheritedByFork { return }
    let word = pending.atomic
    // Acquiring: pairs with the releasing count-out of each call.
    if word.pointee.load(ordering: .acquiring) & Self.countMask == 0 { return }
    word.pointee.bitwiseOr(Self.waiterBit, ordering: .relaxed)
    while true {
      let current = word.pointee.load(ordering: .acquiring)
      if current & Self.countMask == 0 { return }
      pending.wait(whileEqualTo: current)
    }
  }
}
