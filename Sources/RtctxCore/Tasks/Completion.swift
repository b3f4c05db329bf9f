/// C completion callback: `fn(arg, status, result)`.
public typealias CCompletionFn = @convention(c) (UnsafeMutableRawPointer?, Int32, UnsafeMutableRawPointer?) -> Void

/// Where a task's completion runs (`rt_completion_t`).
public enum CompletionTarget: @unchecked Sendable {
  case anyWorker
  case loop(LoopCore)
  case strand(StrandCore)
}

/// A task's completion callback (`rt_spawn_then`): when the task ran, or
/// was dropped, its cell's `onDone` hook posts the completion to its
/// target, with `RT_OK` and the result, or `RT_ECANCELED` and NULL.
///
/// Exactly once: the hook is told once (TaskCell.publish), and the posted
/// completion is a job of the runtime like any other, run once or dropped
/// once. When the target refuses it (a loop freed, a runtime sealed by a
/// shutdown timeout or stopped, or a drain under way and the task ended
/// off the runtime's threads), a completion for any worker runs at once on
/// the thread that ended the task; one for a loop or a strand, which must
/// not run elsewhere, is dropped: its `drop` gets `arg`.
public final class CompletionHook: TaskDoneHook, @unchecked Sendable {
  let fn: CCompletionFn
  let arg: UnsafeMutableRawPointer?
  let drop: CDropFn?
  let target: CompletionTarget

  public init(fn: CCompletionFn, arg: UnsafeMutableRawPointer?, drop: CDropFn?, target: CompletionTarget) {
    self.fn = fn
    self.arg = arg
    self.drop = drop
    self.target = target
  }

  public override func taskDone(_ cell: TaskCell, ran: Bool) {
    // Owed while the task was in flight: the drain cannot have ended.
    deliver(on: cell.runtime, ran: ran, result: ran ? cell.finishedResult : nil, owed: cell.endsInFlight)
  }

  /// Posts one completion to the target: `RT_OK` and `result` if the work
  /// ran, else `RT_ECANCELED` and NULL (a task's end, or a POST trampoline
  /// call's, `rt_callback_new_then`). `owed`: the work was counted in
  /// flight until now, so a drain under way admits the completion.
  public func deliver(on runtime: RuntimeCore, ran: Bool, result: UnsafeMutableRawPointer?, owed: Bool) {
    let status: Int32 = ran ? 0 : RuntimeError.cancelled.rawValue
    let work = PostedCompletion(self, status: status, result: ran ? result : nil)
    let refused: RuntimeError?
    switch target {
    case .anyWorker: refused = runtime.submit(.posted(work), bounded: false, owed: owed)
    case .loop(let loop): refused = loop.post(work, owed: owed)
    case .strand(let strand): refused = strand.submit(.posted(work), bounded: false, asOwnWork: owed)
    }
    guard refused != nil else { return }
    if case .anyWorker = target { work.run() } else { work.drop() }
  }
}

/// A completion as posted work.
final class PostedCompletion: PostedWork, @unchecked Sendable {
  let hook: CompletionHook
  let status: Int32
  let result: UnsafeMutableRawPointer?

  init(_ hook: CompletionHook, status: Int32, result: UnsafeMutableRawPointer?) {
    self.hook = hook
    self.status = status
    self.result = result
  }

  override func run() { hook.fn(hook.arg, status, result) }
  override func drop() { hook.drop?(hook.arg) }
}

extension RuntimeCore {
  /// `rt_spawn_then`: `rt_spawn_full` whose end posts a completion.
  public func spawn(_ body: TaskBody, then hook: CompletionHook, joinable: Bool) -> Result<TaskCell?, RuntimeError> {
    let cell = TaskCell(body, runtime: self, state: .queued, onDone: hook)
    if let error = submit(.task(cell), bounded: true) { return .failure(error) }
    return .success(joinable ? cell : nil)
  }
}
