// rt_strerror and the version: the C face of RuntimeError's table and of
// the version macros in include/rtctx.h (the one source of the version).

import CRtctx
import CRtctxShim

extension RuntimeError {
  /// The C code of a refusal the export layer finds itself (a NULL
  /// argument, a bad size), reported to the debug log as a failure of the
  /// C function `function`, with what was wrong:
  /// `return RuntimeError.fail(.invalidArgument, in: "rt_spawn", "fn is NULL")`.
  @inline(__always)
  static func fail(_ error: RuntimeError, in function: StaticString, _ reason: @autoclosure () -> String)
    -> Int32
  {
    DebugLog.report(function, .code(error), reason())
    return error.rawValue
  }

  /// The C code of a core result; a failure is reported to the debug log
  /// as one of `function`, with `reason(error)` (asked only when printed).
  @inline(__always)
  static func code(_ error: RuntimeError?, in function: StaticString, _ reason: (RuntimeError) -> String) -> Int32 {
    guard let error else { return Int32(RT_OK) }
    return fail(error, in: function, reason(error))
  }

  @inline(__always)
  static func code<T>(
    _ result: Result<T, RuntimeError>, in function: StaticString, _ reason: (RuntimeError) -> String
  ) -> Int32 {
    switch result {
    case .success: return Int32(RT_OK)
    case .failure(let error): return fail(error, in: function, reason(error))
    }
  }

  /// The C code of a core result whose failures are all normal operation,
  /// which the debug log does not report (RT_ETIMEDOUT of a shutdown).
  @inline(__always)
  static func code<T>(_ result: Result<T, RuntimeError>) -> Int32 {
    switch result {
    case .success: return Int32(RT_OK)
    case .failure(let error): return error.rawValue
    }
  }
}

private func cString(_ text: StaticString) -> UnsafePointer<CChar> {
  UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
}

@_cdecl("rt_strerror")
public func rt_strerror(_ code: Int32) -> UnsafePointer<CChar> {
  if code == Int32(RT_OK) { return cString(RuntimeError.successMessage) }
  guard let error = RuntimeError(rawValue: code) else { return cString(RuntimeError.unknownMessage) }
  return cString(error.message)
}

@_cdecl("rt_version")
public func rt_version() -> UInt32 {
  UInt32(RTCTX_VERSION_MAJOR * 10000 + RTCTX_VERSION_MINOR * 100 + RTCTX_VERSION_PATCH)
}

@_cdecl("rt_version_string")
public func rt_version_string() -> UnsafePointer<CChar> {
  rtctx_shim_version_string()
}
