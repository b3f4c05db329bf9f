// What the debug log (RTCTX_LOG=debug) prints for a pointer that is not a
// live object: `ptr#` and 16 hex digits, a keyed hash of the address.
//
// Why not the address: the log goes to stderr, which a program may hand to
// someone else (a setuid program's caller, a log collector), and a heap
// address tells them where the heap is, which is what ASLR hides. The id
// still does what the address did in the log: the same pointer gets the
// same id on every line of the process, two pointers get two ids.
//
// Why SipHash-2-4 under a random per-process key: a plain mix of the
// address (or one xored with a key) can be run backwards from one id whose
// address is known; SipHash is a pseudo-random function, so ids say
// nothing about addresses without the key, which never leaves the process.

/// The debug log's id of a pointer.
package enum PointerID {
  /// Drawn when the library is loaded (Load.swift), and only if the log is
  /// on: the random source may block early in boot, and a library that
  /// nobody asked to log must not make its loader wait.
  package static let key: (UInt64, UInt64) = {
    guard Environment.debugLog else { return (0, 0) }
    var random = SystemRandomNumberGenerator()
    return (random.next(), random.next())
  }()

  /// `ptr#` and the 16 hex digits of the pointer's hash.
  package static func text(_ address: UInt) -> String {
    let hash = sipHash24(UInt64(address), key: key)
    // Digit by digit: counting a String's characters would pull Unicode's
    // grapheme tables into the Embedded Swift library.
    var text = Array("ptr#".utf8)
    for shift in stride(from: 60, through: 0, by: -4) {
      let digit = UInt8(truncatingIfNeeded: hash >> UInt64(shift)) & 0xf
      text.append(digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10)
    }
    return String(decoding: text, as: UTF8.self)
  }

  /// SipHash-2-4 (Aumasson and Bernstein) of one 8-byte little-endian
  /// message.
  package static func sipHash24(_ message: UInt64, key: (UInt64, UInt64)) -> UInt64 {
    var v0 = key.0 ^ 0x736f_6d65_7073_6575
    var v1 = key.1 ^ 0x646f_7261_6e64_6f6d
    var v2 = key.0 ^ 0x6c79_6765_6e65_7261
    var v3 = key.1 ^ 0x7465_6462_7974_6573
    func round() {
      v0 &+= v1; v1 = rotate(v1, 13); v1 ^= v0; v0 = rotate(v0, 32)
      v2 &+= v3; v3 = rotate(v3, 16); v3 ^= v2
      v0 &+= v3; v3 = rotate(v3, 21); v3 ^= v0
      v2 &+= v1; v1 = rotate(v1, 17); v1 ^= v2; v2 = rotate(v2, 32)
    }
    // The one block, then the last one: the length (8) in its top byte.
    for block in [message, UInt64(8) << 56] {
      v3 ^= block
      round()
      round()
      v0 ^= block
    }
    v2 ^= 0xff
    for _ in 0..<4 { round() }
    return v0 ^ v1 ^ v2 ^ v3
  }

  private static func rotate(_ x: UInt64, _ bits: UInt64) -> UInt64 { (x << bits) | (x >> (64 - bits)) }
}
