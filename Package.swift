// swift-tools-version:6.0
//
// Layers (see README "Layout"):
//   CRtctxShim   — the few syscalls Swift cannot make (futex, thread-locals)
//   CFFI         — libffi, as a system library
//   RtctxCore    — the runtime in pure Swift: scheduler, tasks, timers, context
//   CRtctx       — include/rtctx.h, so the export layer can check signatures
//   RtctxExports — the @_cdecl C API: converts arguments, calls the core, maps errors
//   Rtctx        — the Swift API: Runtime, Handle (also a TaskExecutor), JoinHandle
//
// The C library is `make`'s job: it adds -static-stdlib, the export map and
// the soname on the command line, so that this manifest stays free of
// unsafeFlags and other Swift packages can depend on it.
import PackageDescription

let package = Package(
  name: "rtctx",
  products: [
    .library(name: "rtctx", type: .dynamic, targets: ["RtctxExports"]),
    .library(name: "Rtctx", targets: ["Rtctx"]),
  ],
  targets: [
    .target(name: "CRtctxShim"),
    .systemLibrary(name: "CFFI", pkgConfig: "libffi"),
    .target(name: "RtctxCore", dependencies: ["CRtctxShim", "CFFI"]),
    .target(name: "CRtctx"),
    .target(name: "RtctxExports", dependencies: ["RtctxCore", "CRtctx"], exclude: ["exports.map"]),
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
