// RTCTX_LOG=debug: each refusal of the C API reported on stderr, one line
// naming the C function, what it gave back and why.
//
//   $ RTCTX_LOG=debug ./app
//   rtctx: rt_spawn: RT_EINVAL: fn is NULL
//   rtctx: rt_new: returns NULL: cfg->workers is 5000, more than 1024
//   rtctx: rt_task_join: RT_EINVAL: ptr#5c0ffee1d2e3a4b5 is not a live rt_task_t: ...
//
// A pointer that is not a live object is named by an id, not its address
// (PointerID.swift). A setuid or setgid program ignores RTCTX_LOG.
//
// For a C programmer an error code alone often does not say which call of
// many went wrong; this line does, without a debugger. Reported: every
// NULL a function returns on failure, the codes that mean the program did
// something wrong (RT_EINVAL, RT_EDEADLK, RT_ESHUTDOWN), and a void, bool
// or count function ignoring a pointer that is not a live object ("does
// nothing", "returns false", "returns 0"). Not reported: the codes a correct program
// meets in normal operation (a full queue, a timeout, a lost cancel race,
// a dropped task), and NULL given to a release function, which is a no-op
// as free(NULL) is.
//
// Cost when off: the environment is read once, when the library is loaded;
// a failing call costs one load of the cached flag, and a successful
// call costs nothing because only failure paths report. The reason is an
// autoclosure, built only when the line is printed. No Foundation: write(2),
// so that a line is never interleaved with another thread's and never
// waits behind the program's own stdio buffering.

import CRtctx
import CRtctxShim

enum DebugLog {
  /// Whether RTCTX_LOG asks for the log, as read when the library was
  /// loaded.
  static var enabled: Bool { Environment.debugLog }

  /// What a refused call gave its caller: the line's middle field.
  enum Outcome {
    /// A code of an int function, reported only if it means a misuse.
    case code(RuntimeError)
    /// NULL from a function that returns a pointer.
    case null
    /// False from a bool function.
    case `false`
    /// Nothing done by a void function.
    case nothing
    /// Zero from a function that returns a count.
    case zero
  }

  /// Reports that the C function `function` refused a call, giving back
  /// `outcome`, because of `reason`.
  @inline(__always)
  static func report(_ function: StaticString, _ outcome: Outcome, _ reason: @autoclosure () -> String) {
    // The reason is built here, and only when the log is on; printLine
    // takes the finished string, so the optimizer does not clone it for
    // every call site's closure.
    if enabled { printLine(function, outcome, reason()) }
  }

  /// For functions that return NULL on failure: reports why, and returns
  /// nil. `guard let h else { return DebugLog.null("rt_enter", "h is NULL") }`
  @inline(__always)
  static func null<T>(_ function: StaticString, _ reason: @autoclosure () -> String) -> T? {
    report(function, .null, reason())
    return nil
  }

  /// NULL from `function`, whose allocations failed (`Allocation`): what
  /// it built was released, and it took nothing of the caller's.
  static func outOfMemory<T>(_ function: StaticString) -> T? {
    null(function, "out of memory: an allocation failed; nothing was created, and nothing of the caller's was taken")
  }

  /// A pointer as the log names it: `ptr#` and 16 hex digits, the same
  /// for the same pointer within the process, never its address (see
  /// PointerID.swift).
  static func id(_ pointer: OpaquePointer) -> String { PointerID.text(UInt(bitPattern: pointer)) }

  /// A pointer as C's `%p` prints it: for a debug build's stop only, where
  /// the developer compares it with their own.
  static func address(_ pointer: OpaquePointer) -> String {
    "0x" + String(UInt(bitPattern: pointer), radix: 16)
  }

  @inline(never)
  private static func printLine(_ function: StaticString, _ outcome: Outcome, _ reason: String) {
    let result: String
    switch outcome {
    case .code(let error):
      // Out of memory is no misuse, but rare enough to be worth a line.
      guard error.isMisuse || error == .outOfMemory else { return }
      result = error.name
    case .null: result = "returns NULL"
    case .false: result = "returns false"
    case .nothing: result = "does nothing"
    case .zero: result = "returns 0"
    }
    emit(line: "rtctx: \(function): \(result): \(reason)\n")
  }

  private static func emit(line: String) {
    var line = line
    line.withUTF8 { bytes in
      var rest = UnsafeRawBufferPointer(bytes)
      while !rest.isEmpty {
        let n = write(2, rest.baseAddress, rest.count)
        if n < 0 && rtctx_errno() == EINTR { continue }
        if n <= 0 { return }
        rest = UnsafeRawBufferPointer(rebasing: rest[n...])
      }
    }
  }
}

extension RuntimeError {
  /// Whether the code means the caller misused the API, rather than met
  /// normal operation (a full queue, a timeout, a lost race, a drop).
  var isMisuse: Bool {
    switch self {
    case .invalidArgument, .wouldDeadlock, .shutDown: true
    case .outOfMemory, .queueFull, .timedOut, .cancelled, .busy: false
    }
  }
}
