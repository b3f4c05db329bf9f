// bench-swift — the Swift-API rows of the rtctx benchmark (bench/run.py):
// rtctx's Swift module, Swift's default global executor and SwiftNIO, on
// the workloads W1, W3 and W4 of bench/driver.c, printing the same JSON line.
//
//   bench-swift SYSTEM list                  facts and variants (JSON)
//   bench-swift SYSTEM W1 [-n N] [-v I]      one outside thread posts N jobs
//   bench-swift SYSTEM W3 [-n N] [-v I]      N sequential round trips
//   bench-swift SYSTEM W4 [-n N] [-v I]      a job posts N children
//   bench-swift list                         every system's list line
//
// SYSTEM: swift-rtctx, swift-global, swift-nio. Options: -w WORKERS
// (default 2; the global executor's width is the CPU count whatever -w
// says), --no-warmup. The timing thread is the main thread, which is no
// Swift task (main is synchronous).

import Glibc

@main
enum BenchSwift {
  static func main() {
    let args = CommandLine.arguments
    if args.count == 2 && args[1] == "list" {
      for d in systems { list(d) }
      return
    }
    guard args.count >= 3, let desc = systems.first(where: { $0.name == args[1] }) else {
      usage()
    }
    let workload = args[2]
    var n = -1
    var variant = 0
    var workers = 2
    var warm = true
    var i = 3
    while i < args.count {
      switch args[i] {
      case "-n" where i + 1 < args.count: n = int(args[i + 1]); i += 1
      case "-v" where i + 1 < args.count: variant = int(args[i + 1]); i += 1
      case "-w" where i + 1 < args.count: workers = int(args[i + 1]); i += 1
      case "--no-warmup": warm = false
      default: usage()
      }
      i += 1
    }
    _ = done  // the semaphore exists before any job can post it

    switch workload {
    case "list":
      list(desc)
    case "W1":
      w1(desc, variant: check(variant, desc.w1), n: n < 0 ? 1_000_000 : n, workers: workers, warm: warm)
    case "W3":
      w3(desc, variant: check(variant, desc.w3), n: n < 0 ? 100_000 : max(n, 1), workers: workers, warm: warm)
    case "W4":
      w4(desc, variant: check(variant, desc.w4), n: n < 0 ? 100_000 : n, workers: workers, warm: warm)
    default:
      usage()
    }
  }

  static func int(_ s: String) -> Int {
    guard let v = Int(s) else { usage() }
    return v
  }

  static func usage() -> Never {
    writeStderr(
      "usage: bench-swift list | SYSTEM list | SYSTEM W1|W3|W4 [-n N] [-v VARIANT] [-w WORKERS] "
        + "[--no-warmup]\n  SYSTEM: " + systems.map(\.name).joined(separator: ", ") + "\n")
    exit(64)
  }

  static func check(_ variant: Int, _ variants: [Variant]) -> Int {
    guard variants.indices.contains(variant) else { die("no such variant: \(variant)") }
    return variant
  }

  static func list(_ d: Description) {
    func vs(_ variants: [Variant]) -> String {
      "[" + variants.enumerated().map { i, v in
        "{\"index\":\(i),\"label\":\(jsonString(v.label)),\"short\":\(jsonString(v.short)),"
          + "\"inline\":\(v.inline)}"
      }.joined(separator: ",") + "]"
    }
    emit(
      "{\"system\":\(jsonString(d.name)),\"api\":\(jsonString(d.api)),"
        + "\"version\":\(jsonString(d.version())),\"variants\":\(vs(d.w3)),"
        + "\"workloads\":{\"W1\":\(vs(d.w1)),\"W3\":\(vs(d.w3)),\"W4\":\(vs(d.w4))}}")
  }

  /// 10,000 jobs through the W1 path (threads that start lazily exist then).
  static func warmup(_ sys: any BenchSystem, variant: Int) {
    arm(10_000)
    sys.post(variant: variant, count: 10_000)
    waitDone()
  }

  // ---- W1: one outside thread ------------------------------------------------

  static func w1(_ desc: Description, variant: Int, n: Int, workers: Int, warm: Bool) {
    let sys = desc.make(workers)
    if warm { warmup(sys, variant: variant) }
    arm(n)
    let t0 = nowNs()
    sys.post(variant: variant, count: n)
    let t1 = nowNs()
    if n > 0 { waitDone() }
    let t2 = nowNs()
    let threads = processThreads()
    sys.shutdown()
    let per = { (x: Double) in n > 0 ? x / Double(n) : 0 }
    emit(
      head(desc.name, "W1", n: n, workers: sys.workers, variant: desc.w1[variant])
        + ",\"ns_per_task\":\(num(per(t2 - t0))),\"submit_ns_per_task\":\(num(per(t1 - t0))),"
        + "\"threads\":\(threads)}")
  }

  // ---- W3: sequential round trips ------------------------------------------

  static func w3(_ desc: Description, variant: Int, n: Int, workers: Int, warm: Bool) {
    let sys = desc.make(workers)
    var lat = [Double](repeating: 0, count: n)
    if warm {
      warmup(sys, variant: 0)
      for _ in 0..<1000 { sys.roundTrip(variant: variant) }
    }
    arm(-1)
    let start = nowNs()
    for i in 0..<n {
      let t0 = nowNs()
      sys.roundTrip(variant: variant)
      lat[i] = nowNs() - t0
    }
    let total = nowNs() - start
    if counter.load(ordering: .sequentiallyConsistent) != n {
      die("W3: a round trip returned before its job ran")
    }
    let threads = processThreads()
    sys.shutdown()
    lat.sort()
    func pct(_ p: Double) -> String { num(lat[Int(Double(n - 1) * p)] / 1000, 3) }
    emit(
      head(desc.name, "W3", n: n, workers: sys.workers, variant: desc.w3[variant])
        + ",\"median_us\":\(pct(0.5)),\"p99_us\":\(pct(0.99)),\"p10_us\":\(pct(0.1)),"
        + "\"p90_us\":\(pct(0.9)),\"min_us\":\(num(lat[0] / 1000, 3)),"
        + "\"max_us\":\(num(lat[n - 1] / 1000, 3)),\"mean_us\":\(num(total / Double(n) / 1000, 3)),"
        + "\"threads\":\(threads)}")
  }

  // ---- W4: fan-out from a job --------------------------------------------------

  static func w4(_ desc: Description, variant: Int, n: Int, workers: Int, warm: Bool) {
    let sys = desc.make(workers)
    if warm {
      // The W1 path of the same API, then the from-job path itself.
      warmup(sys, variant: min(variant, desc.w1.count - 1))
      arm(10_000)
      sys.fanOut(variant: variant, children: 10_000)
      waitDone()
    }
    arm(n)
    let t0 = nowNs()
    sys.fanOut(variant: variant, children: n)
    if n > 0 { waitDone() }
    let t1 = nowNs()
    let threads = processThreads()
    sys.shutdown()
    emit(
      head(desc.name, "W4", n: n, workers: sys.workers, variant: desc.w4[variant])
        + ",\"ns_per_child\":\(num(n > 0 ? (t1 - t0) / Double(n) : 0)),\"threads\":\(threads)}")
  }
}
