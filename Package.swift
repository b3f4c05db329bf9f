// swift-tools-version:6.0
//
// Layers (see README "Layout"):
//   CRtctxShim   — the few syscalls Swift cannot make (futex, thread-locals)
//   CFFI         — libffi, as a system library
//   RtctxCore    — the runtime in pure Swift: scheduler, tasks, timers, context
//   CRtctx       — include/rtctx.h, so the export layer can check signatures
//   RtctxExports — the @_cdecl C API: converts arguments, calls the core, maps errors
//
// The C library is `make`'s job: it adds -static-stdlib, the export map and
// the soname on the command line, so that this manifest stays free of
// unsafeFlags and other Swift packages can depend on it.
import PackageDescription

let package = Package(
  name: "rtctx",
  products: [
    .library(name: "rtctx", type: .dynamic, targets: ["RtctxExports"]),
  ],
  targets: [
    .target(name: "CRtctxShim"),
    .systemLibrary(name: "CFFI", pkgConfig: "libffi"),
    .target(name: "RtctxCore", dependencies: ["CRtctxShim", "CFFI"]),
    .target(name: "CRtctx"),
    .target(name: "RtctxExports", dependencies: ["RtctxCore", "CRtctx"], exclude: ["exports.map"]),
    .testTarget(name: "RtctxCoreTests", dependencies: ["RtctxCore"]),
  ]
)
