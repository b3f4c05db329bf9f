// What every Swift system shares, as in driver.c: the counter every job
// bumps, the semaphore the last one posts, the clock, the JSON line.

import Glibc
import Synchronization

// ---- the counter every job bumps ---------------------------------------

let counter = Atomic<Int>(0)
/// Written by the timing thread before it posts the jobs (the system's own
/// queue orders that write before the jobs' reads), as in driver.c.
nonisolated(unsafe) var target = 0
nonisolated(unsafe) let done: UnsafeMutablePointer<sem_t> = {
  let p = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
  sem_init(p, 0, 0)
  return p
}()

/// The job: one relaxed atomic increment; the job that brings the counter
/// to its target posts `done` (driver.c's `count_task`).
@inline(__always)
func countTask() {
  if counter.wrappingAdd(1, ordering: .relaxed).newValue == target { sem_post(done) }
}

func arm(_ n: Int) {
  counter.store(0, ordering: .sequentiallyConsistent)
  target = n
}

func waitDone() {
  while sem_wait(done) != 0 {
    if errno != EINTR { die("sem_wait failed") }
  }
}

// ---- facts -------------------------------------------------------------

@inline(__always)
func nowNs() -> Double {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return Double(ts.tv_sec) * 1e9 + Double(ts.tv_nsec)
}

/// CPUs this process may run on (what `taskset` restricts), as driver.c.
/// (Glibc's module does not show sched_getaffinity to Swift: the mask of
/// /proc/self/status, which is what it returns.)
func cpusAllowed() -> Int {
  guard let status = readFile("/proc/self/status"),
    let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") })
  else { return -1 }
  return line.dropFirst("Cpus_allowed:".count).reduce(0) { n, c in
    n + (c.hexDigitValue ?? 0).nonzeroBitCount
  }
}

func onlineCPUs() -> Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

/// Threads of this process now (/proc/self/task), to show what each system
/// really started.
func processThreads() -> Int {
  guard let dir = opendir("/proc/self/task") else { return -1 }
  defer { closedir(dir) }
  var n = 0
  while let e = readdir(dir) {
    if e.pointee.d_name.0 != UInt8(ascii: ".") { n += 1 }
  }
  return n
}

/// The whole of a small text file, or nil.
func readFile(_ path: String) -> String? {
  guard let f = fopen(path, "r") else { return nil }
  defer { fclose(f) }
  var bytes: [UInt8] = []
  var buf = [UInt8](repeating: 0, count: 4096)
  while true {
    let k = fread(&buf, 1, buf.count, f)
    if k <= 0 { break }
    bytes += buf[0..<k]
  }
  return String(decoding: bytes, as: UTF8.self)
}

/// The directory of the bench/swift package (found from this source file).
let packageDir: String = {
  var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
  parts.removeLast(3)  // Sources/bench-swift/Common.swift
  return parts.joined(separator: "/")
}()

// ---- output --------------------------------------------------------------

func die(_ what: String) -> Never {
  writeStderr("bench-swift: \(what)\n")
  _exit(2)
}

func writeStderr(_ s: String) {
  var s = s
  s.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

/// A JSON number rounded to `digits` (at most 3) decimals, without
/// Foundation's String(format:).
func num(_ x: Double, _ digits: Int = 2) -> String {
  guard x.isFinite else { return "-1" }
  let scale = [1.0, 10, 100, 1000][min(max(digits, 0), 3)]
  let r = (x * scale).rounded() / scale
  return r == r.rounded() && abs(r) < 1e15 ? String(Int(r)) : String(r)
}

func jsonString(_ s: String) -> String {
  var out = "\""
  for c in s.unicodeScalars {
    switch c {
    case "\"": out += "\\\""
    case "\\": out += "\\\\"
    case "\n": out += "\\n"
    default: out.unicodeScalars.append(c)
    }
  }
  return out + "\""
}

/// The keys driver.c's print_head writes, plus the variant.
func head(_ system: String, _ workload: String, n: Int, workers: Int, variant: Variant) -> String {
  "{\"system\":\(jsonString(system)),\"workload\":\"\(workload)\",\"n\":\(n),"
    + "\"workers\":\(workers),\"cpus\":\(cpusAllowed()),"
    + "\"variant\":\(jsonString(variant.label)),\"inline\":\(variant.inline)"
}

/// One line on stdout, flushed (stdout is a pipe under run.py).
func emit(_ line: String) {
  print(line)
  fflush(nil)
}
