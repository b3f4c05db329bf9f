// swift-tools-version:6.0
//
// Layers (see README "Layout"):
//   CRtctxShim   — the platform: libc headers for both builds, and what Swift
//                  cannot say (futex, thread-locals, errno, a load-time hook)
//   CFFI         — libffi, as a system library
//   RtctxCore    — the runtime in pure Swift: lifecycle, scheduler, tasks and
//                  timers, platform (one folder each)
//   RtctxFFI     — libffi trampolines: C function pointers bound to a runtime
//   CRtctx       — include/rtctx.h, so the export layer can check signatures
//   RtctxExports — the @_cdecl C API: converts arguments, calls the core, maps errors
//   Rtctx        — the Swift API: Runtime, Handle (also a TaskExecutor), JoinHandle
//
// The C library, librtctx, is not built here: `make` compiles RtctxCore and
// RtctxExports as one Embedded Swift module, with no Swift runtime inside
// (mk/embedded.mk). This manifest builds the same sources in ordinary Swift
// for the Rtctx product and the tests, and stays free of unsafeFlags so that
// other Swift packages can depend on it.
import PackageDescription

let package = Package(
  name: "rtctx",
  products: [
    .library(name: "Rtctx", targets: ["Rtctx"]),
  ],
  targets: [
    // include/rtctx.h for the version macros.
    .target(name: "CRtctxShim", cSettings: [.headerSearchPath("../../include")]),
    .systemLibrary(name: "CFFI", pkgConfig: "libffi"),
    .target(name: "RtctxCore", dependencies: ["CRtctxShim"]),
    .target(name: "RtctxFFI", dependencies: ["RtctxCore", "CFFI"]),
    .target(name: "CRtctx"),
    .target(name: "RtctxExports", dependencies: ["RtctxCore", "RtctxFFI", "CRtctx", "CRtctxShim"], exclude: ["exports.map", "exports-debug.map"]),
    .testTarget(name: "RtctxCoreTests", dependencies: ["RtctxCore"]),
    .target(name: "Rtctx", dependencies: ["RtctxCore"]),
    // RtctxExports and CRtctx: the tests check what C code sees (rt_handle_current).
    .testTarget(name: "RtctxTests", dependencies: ["Rtctx", "RtctxCore", "RtctxExports", "CRtctx"]),
    // Examples/swift-bridge: sync Swift → async Swift → C → back onto the runtime.
    .target(name: "CBridgeLegacy", dependencies: ["CRtctx"], path: "Examples/swift-bridge/CBridgeLegacy"),
    .executableTarget(
      name: "SwiftBridge", dependencies: ["Rtctx", "RtctxExports", "CBridgeLegacy"],
      path: "Examples/swift-bridge", exclude: ["CBridgeLegacy"]),
    // Micro-benchmarks of the Swift API: swift run -c release RtctxSwiftBench
    .executableTarget(name: "RtctxSwiftBench", dependencies: ["Rtctx"]),
  ]
)
