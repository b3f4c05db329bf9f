// swift-tools-version:6.0
//
// The Swift-API rows of the rtctx benchmark (bench/run.py, `make bench
// BENCH_SWIFT=1`): rtctx's Swift module against Swift's default global
// executor and SwiftNIO. A package of its own, so that the library's
// package (../..) stays free of SwiftNIO.
//
//   swift build -c release --package-path bench/swift --scratch-path build/bench/swift
import PackageDescription

let package = Package(
  name: "rtctx-bench-swift",
  platforms: [.macOS(.v15)],  // TaskExecutor; Linux needs none
  dependencies: [
    // `name:` so that the product is found as "rtctx" whatever the checkout's
    // folder is called (a path dependency's identity is its last path part).
    .package(name: "rtctx", path: "../.."),
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
  ],
  targets: [
    .executableTarget(
      name: "bench-swift",
      dependencies: [
        .product(name: "Rtctx", package: "rtctx"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
      ])
  ]
)
