import Testing
@testable import RtctxCore

/// Worker thread names: Linux keeps 15 bytes, and the index must survive.
@Suite("Worker names")
struct WorkerNameTests {
  private static func name(_ prefix: String, _ index: Int) -> String {
    var config = RuntimeConfig()
    config.threadName = prefix
    return config.workerName(index)
  }

  @Test("a short prefix is kept whole")
  func shortPrefix() {
    #expect(Self.name("rt-worker", 0) == "rt-worker-0")
    #expect(Self.name("rt-worker", 1023) == "rt-worker-1023")
  }

  @Test("a long prefix is cut, the index is kept, in 15 bytes")
  func longPrefix() {
    #expect(Self.name("a-very-long-thread-name", 3) == "a-very-long-t-3")
    #expect(Self.name("a-very-long-thread-name", 12) == "a-very-long--12")
    #expect(Self.name("a-very-long-thread-name", 1023) == "a-very-lon-1023")
    #expect(Self.name("exactly-10", 1023).utf8.count == 15)
  }

  @Test("a cut never splits a UTF-8 character")
  func utf8Boundary() {
    // "é" is two bytes: the 13 bytes of room for the prefix end inside it.
    #expect(Self.name("abcdefghijklé", 7) == "abcdefghijkl-7")
    // Complete at the cut: kept.
    #expect(Self.name("abcdefghijké", 7) == "abcdefghijké-7")
    #expect(utf8Prefix(Array("€€".utf8), maxBytes: 4) == Array("€".utf8))
    #expect(utf8Prefix(Array("€€".utf8), maxBytes: 6) == Array("€€".utf8))
    #expect(utf8Prefix(Array("abc".utf8), maxBytes: 0) == [])
  }
}
