// rt_strerror and the version: the C face of RuntimeError's table and of
// the version macros in include/rtctx.h (the one source of the version).

import CRtctx
import CRtctxShim

extension RuntimeError {
  /// The C return value for a core result. A misuse is also reported to
  /// the debug log (RTCTX_LOG=debug) as a failure of the calling export.
  @inline(__always)
  static func code(_ error: RuntimeError?, _ function: StaticString = #function) -> Int32 {
    guard let error else { return Int32(RT_OK) }
    DebugLog.report(function, error.rawValue)
    return error.rawValue
  }

  @inline(__always)
  static func code<T>(_ result: Result<T, RuntimeError>, _ function: StaticString = #function) -> Int32 {
    switch result {
    case .success: return Int32(RT_OK)
    case .failure(let error):
      DebugLog.report(function, error.rawValue)
      return error.rawValue
    }
  }

  /// RT_EINVAL for an argument the export layer refuses itself (NULL, a
  /// bad size, a guard that is not the innermost), reported to the debug
  /// log with the calling export's name.
  static func invalid(_ function: StaticString = #function) -> Int32 {
    DebugLog.report(function, Int32(RT_EINVAL))
    return Int32(RT_EINVAL)
  }

  /// As `code(_:)`, and a misuse is reported to the debug log
  /// (RTCTX_LOG=debug, DebugLog.swift) as a failure of `function`.
  static func code(_ error: RuntimeError?, in function: StaticString) -> Int32 {
    if let error { DebugLog.report(function, error.rawValue) }
    return code(error)
  }
  static func code<T>(_ result: Result<T, RuntimeError>, in function: StaticString) -> Int32 {
    if case .failure(let error) = result { DebugLog.report(function, error.rawValue) }
    return code(result)
  }

  /// A failure the export layer finds itself (a NULL argument, a bad
  /// size), reported to the debug log with what was wrong:
  /// `return RuntimeError.fail(.invalidArgument, in: "rt_spawn", "fn is NULL")`.
  static func fail(_ error: RuntimeError, in function: StaticString, _ detail: @autoclosure () -> String)
    -> Int32
  {
    DebugLog.report(function, error.rawValue, detail())
    return error.rawValue
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
