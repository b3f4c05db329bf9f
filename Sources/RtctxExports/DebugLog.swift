// RTCTX_LOG=debug: misuse reported on stderr, naming the C function.
//
//   $ RTCTX_LOG=debug ./app
//   rtctx: rt_spawn: RT_ESHUTDOWN: runtime is shut down: ...
//
// For a C programmer an error code alone often does not say which call of
// many went wrong; this line does, without a debugger. Only codes that mean
// the program did something wrong are reported (RT_EINVAL, RT_EDEADLK,
// RT_ESHUTDOWN), not the ones a correct program meets in normal operation
// (a full queue, a timeout, a lost cancel race).
//
// Cost when off: the environment is read once, when the library is loaded;
// a failing call costs one load of the cached flag, and a successful
// call costs nothing because only failure paths report. No Foundation:
// getenv, and write(2) so that a line is never interleaved with another
// thread's and never waits behind the program's own stdio buffering.

import CRtctx
import CRtctxShim

enum DebugLog {
  /// Whether RTCTX_LOG asks for the log, as read when the library was
  /// loaded.
  static var enabled: Bool { Environment.debugLog }

  /// Whether `code` means the caller misused the API.
  static func isMisuse(_ code: Int32) -> Bool {
    code == Int32(RT_EINVAL) || code == Int32(RT_EDEADLK) || code == Int32(RT_ESHUTDOWN)
  }

  /// Reports that `function` failed with `code`; `detail` says what was
  /// wrong with this call, else the line gives rt_strerror's text.
  /// `function` may be `#function` ("rt_spawn(_:_:_:)"): only the name is
  /// printed.
  @inline(never)
  static func report(_ function: StaticString, _ code: Int32, _ detail: @autoclosure () -> String? = nil) {
    guard enabled, isMisuse(code) else { return }
    let name = RuntimeError(rawValue: code)?.name ?? "error \(code)"
    let text = detail() ?? String(cString: rt_strerror(code))
    emit(line: "rtctx: \(cName(function)): \(name): \(text)\n")
  }

  /// For functions that return NULL on failure, which have no code to
  /// give: reports why, and returns nil.
  /// `guard let h else { return DebugLog.null("rt_enter", "h is NULL") }`
  @inline(never)
  static func null<T>(_ function: StaticString, _ detail: @autoclosure () -> String) -> T? {
    if enabled { emit(line: "rtctx: \(cName(function)): returns NULL: \(detail())\n") }
    return nil
  }

  /// "rt_spawn(_:_:_:)" -> "rt_spawn".
  private static func cName(_ function: StaticString) -> String {
    // Bytes, not Characters: grapheme breaking would pull Unicode tables
    // into the library for a name that is ASCII.
    let bytes = UnsafeBufferPointer(start: function.utf8Start, count: function.utf8CodeUnitCount)
    let end = bytes.firstIndex(of: UInt8(ascii: "(")) ?? bytes.endIndex
    return String(decoding: bytes[..<end], as: UTF8.self)
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
