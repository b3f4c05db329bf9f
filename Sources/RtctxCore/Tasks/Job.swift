/// C function types the core runs. They are the types `include/rtctx.h`
/// declares, so the export layer passes C pointers through unchanged.
public typealias CTaskFn = @convention(c) (UnsafeMutableRawPointer?) -> Void
public typealias CCallFn = @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer?
public typealias CDropFn = @convention(c) (UnsafeMutableRawPointer?) -> Void

/// One unit of work in a run queue or the timer heap: two machine words.
///
/// A plain `rt_spawn` is its function and argument, stored as they are, so
/// it allocates nothing and a queued task costs 16 bytes. Everything else
/// is an object marked by a `code` no function can have (page zero is never
/// mapped), with the queue owning one retain of it: a `TaskCell` for a
/// task with a result, a drop callback or a join handle, a `PostedWork`
/// for one with none of these (a Swift closure, an executor job, a POST
/// trampoline call), a `StrandCore` for a strand's turn.
///
/// Jobs are trivially copyable on purpose: rings move them with plain
/// loads and stores, with no reference counting on the hot path.
struct Job: @unchecked Sendable {
  fileprivate static let cellCode: UInt = 1
  fileprivate static let postedCode: UInt = 2
  fileprivate static let strandCode: UInt = 3

  let code: UInt
  let payload: UInt

  init(code: UInt, payload: UInt) {
    self.code = code
    self.payload = payload
  }

  static func fn(_ fn: CTaskFn, _ arg: UnsafeMutableRawPointer?) -> Job {
    Job(code: unsafeBitCast(fn, to: UInt.self), payload: UInt(bitPattern: arg))
  }

  /// The job takes one retain of `cell`; `take()` gives it back once.
  static func task(_ cell: TaskCell) -> Job {
    Job(code: cellCode, payload: UInt(bitPattern: Unmanaged.passRetained(cell).toOpaque()))
  }

  /// A job that takes over a retain of `cell` already taken (the timer
  /// heap's, Timers.swift).
  static func task(retained cell: Unmanaged<TaskCell>) -> Job {
    Job(code: cellCode, payload: UInt(bitPattern: cell.toOpaque()))
  }

  /// Work with no result and no join handle: the object is the job, with
  /// no cell or futex word beside it.
  static func posted(_ work: PostedWork) -> Job {
    Job(code: postedCode, payload: UInt(bitPattern: Unmanaged.passRetained(work).toOpaque()))
  }

  /// A strand's turn (Strand.swift). Not a job of its own: the strand's
  /// jobs are counted one by one, the wake-up never. Takes one retain.
  static func strand(_ strand: StrandCore) -> Job {
    Job(code: strandCode, payload: UInt(bitPattern: Unmanaged.passRetained(strand).toOpaque()))
  }

  var isStrandWakeUp: Bool { code == Self.strandCode }

  /// The job's cell, if it has one, without consuming the job's retain.
  var cell: TaskCell? {
    guard code == Self.cellCode else { return nil }
    return Unmanaged<TaskCell>.fromOpaque(UnsafeRawPointer(bitPattern: payload)!).takeUnretainedValue()
  }

  enum Kind {
    case fn(CTaskFn, UnsafeMutableRawPointer?)
    case task(TaskCell)
    case posted(PostedWork)
    case strand(StrandCore)
  }

  /// What the job is. Call it exactly once per job: it consumes the
  /// queue's retain of a cell.
  @inline(__always)
  func take() -> Kind {
    // A plain spawn, the common job, is told apart with one compare: a
    // function's address is never in page zero, where the codes are.
    if code > Self.strandCode {
      return .fn(unsafeBitCast(code, to: CTaskFn.self), UnsafeMutableRawPointer(bitPattern: payload))
    }
    if code == Self.cellCode {
      let pointer = UnsafeRawPointer(bitPattern: payload)!
      return .task(Unmanaged<TaskCell>.fromOpaque(pointer).takeRetainedValue())
    }
    if code == Self.postedCode {
      let pointer = UnsafeRawPointer(bitPattern: payload)!
      return .posted(Unmanaged<PostedWork>.fromOpaque(pointer).takeRetainedValue())
    }
    if code == Self.strandCode {
      let pointer = UnsafeRawPointer(bitPattern: payload)!
      return .strand(Unmanaged<StrandCore>.fromOpaque(pointer).takeRetainedValue())
    }
    preconditionFailure("rtctx: a job holds the code \(code)")
  }
}

/// Work queued to run once, with no result and no join handle: Swift
/// closures (`Handle.spawn`), executor jobs, POST trampoline calls,
/// `Handle.blockOn`'s starter. The object is
/// the queued job itself (the queue holds one retain), so posting one
/// allocates nothing beyond it: no join cell, no futex word, no claim CAS,
/// since nobody but the queue can take it.
///
/// Exactly one of `run` (on a worker) and `drop` (a shutdown timeout
/// dropped it before it started) is called for work the runtime accepted;
/// neither for work it refused (`post` returned an error).
open class PostedWork: @unchecked Sendable {
  public init() {}
  open func run() {}
  open func drop() {}
}

/// A Swift closure as posted work (`Handle.spawn`): nothing to drop.
final class PostedClosure: PostedWork, @unchecked Sendable {
  let body: @Sendable () -> Void
  init(_ body: @escaping @Sendable () -> Void) { self.body = body }
  override func run() { body() }
}

/// A `TaskBody` as posted work (its result is discarded).
final class PostedBody: PostedWork, @unchecked Sendable {
  let body: TaskBody
  init(_ body: TaskBody) { self.body = body }
  override func run() { _ = body.run() }
  override func drop() { body.drop() }
}

/// What a task does when run, and what it does instead when dropped.
public enum TaskBody: @unchecked Sendable {
  case c(CCallFn, UnsafeMutableRawPointer?, CDropFn?)
  case swift(run: () -> UnsafeMutableRawPointer?, drop: (() -> Void)?)

  func run() -> UnsafeMutableRawPointer? {
    switch self {
    case .c(let fn, let arg, _): fn(arg)
    case .swift(let run, _): run()
    }
  }

  func drop() {
    switch self {
    case .c(_, let arg, let drop): drop?(arg)
    case .swift(_, let drop): drop?()
    }
  }
}
