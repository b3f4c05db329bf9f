import CRtctx
import Testing

@testable import Rtctx

/// What C code sees as the current runtime, as a Swift handle's identity.
func cCurrent() -> UnsafeMutableRawPointer? {
  rt_handle_current().map { UnsafeMutableRawPointer($0) }
}

func cPointer(_ handle: Handle) -> UnsafeMutableRawPointer {
  Unmanaged.passUnretained(handle.core).toOpaque()
}

@Suite("Handle.current and enter")
struct ContextTests {
  @Test("no handle is current outside any runtime")
  func noneOutside() {
    #expect(Handle.current == nil)
    #expect(cCurrent() == nil)
  }

  @Test("on a worker, the worker's runtime is current, for Swift and C", arguments: [1, 4])
  func onWorker(workers: Int) throws {
    try withRuntime(workers: workers) { handle in
      let task = try handle.task { Handle.current == handle && cCurrent() == cPointer(handle) }
      #expect(try task.value)
    }
  }

  @Test("enter nests, and restores the previous handle on return and on throw")
  func enterNests() {
    withRuntime(workers: 1) { a in
      withRuntime(workers: 1) { b in
        a.enter {
          #expect(Handle.current == a)
          #expect(cCurrent() == cPointer(a))
          b.enter {
            #expect(Handle.current == b)
            #expect(cCurrent() == cPointer(b))
          }
          #expect(Handle.current == a)
          #expect(throws: Oops()) {
            try b.enter {
              #expect(Handle.current == b)
              throw Oops()
            }
          }
          #expect(Handle.current == a)
          #expect(cCurrent() == cPointer(a))
        }
        #expect(Handle.current == nil)
        #expect(cCurrent() == nil)
      }
    }
  }

  @Test("enter on a worker of another runtime wins over the worker's own", arguments: [1, 4])
  func enterOnWorker(workers: Int) throws {
    try withRuntime(workers: workers) { a in
      try withRuntime(workers: 1) { b in
        let seen = try a.blockOn { () -> [Handle?] in
          [Handle.current, b.enter { Handle.current }, Handle.current]
        }
        #expect(seen == [a, b, a])
      }
    }
  }

  @Test("enter keeps working after shutdown")
  func enterAfterShutdown() throws {
    let runtime = try Runtime(workers: 1)
    let handle = runtime.handle
    runtime.shutdown()
    #expect(handle.enter { Handle.current } == handle)
    #expect(Handle.current == nil)
  }

  @Test("a Task started inside enter inherits the current handle")
  func taskInheritsEnter() async {
    await withRuntime(workers: 1) { handle in
      let task = handle.enter { Task { Handle.current } }
      #expect(await task.value == handle)
      let detached = handle.enter { Task.detached { Handle.current } }
      #expect(await detached.value == nil)
    }
  }
}
