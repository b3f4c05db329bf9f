import Testing
@testable import RtctxCore

@Suite("PointerID")
struct PointerIDTests {
  // The reference implementation's vectors: key 00 01 .. 0f, message the
  // bytes 00 01 .. 07 (little-endian), and the empty message's finalisation.
  @Test("SipHash-2-4 gives the reference vector for an 8-byte message")
  func referenceVector() {
    let key: (UInt64, UInt64) = (0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908)
    #expect(PointerID.sipHash24(0x0706_0504_0302_0100, key: key) == 0x93f5_f579_9a93_2462)
  }

  @Test("an id is ptr# and 16 hex digits, the same for the same address, never the address")
  func text() {
    let address: UInt = 0x7f12_3456_7890
    let id = PointerID.text(address)
    #expect(id == PointerID.text(address))
    #expect(id != PointerID.text(address + 16))
    #expect(id.utf8.count == 20 && id.hasPrefix("ptr#"))
    #expect(id.dropFirst(4).allSatisfy { "0123456789abcdef".contains($0) })
    #expect(!id.contains(String(address, radix: 16)))
  }
}
