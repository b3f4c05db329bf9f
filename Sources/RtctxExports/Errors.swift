// rt_strerror and the version: the C face of RuntimeError's table and of
// the version macros in include/rtctx.h (the one source of the version).

import CRtctx
import Glibc
import RtctxCore

extension RuntimeError {
  /// The C return value for a core result.
  static func code(_ error: RuntimeError?) -> Int32 { error?.rawValue ?? Int32(RT_OK) }
  static func code<T>(_ result: Result<T, RuntimeError>) -> Int32 {
    switch result {
    case .success: Int32(RT_OK)
    case .failure(let error): error.rawValue
    }
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

/// Made once from the header's macros; lives as long as the program.
nonisolated(unsafe) private let versionString: UnsafePointer<CChar> = {
  UnsafePointer(strdup("\(RTCTX_VERSION_MAJOR).\(RTCTX_VERSION_MINOR).\(RTCTX_VERSION_PATCH)")!)
}()

@_cdecl("rt_version_string")
public func rt_version_string() -> UnsafePointer<CChar> {
  versionString
}
