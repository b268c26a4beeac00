import Testing
import WebSocketWire

/// The in-place UTF-8 check must agree with the standard library's `String(validating:)`, which it replaced.
struct UTF8CheckTests {
    private static let cases: [[UInt8]] = [
        [],
        Array("{\"op\":\"ping\"}".utf8),
        Array("a long ASCII frame, more than eight bytes at a time".utf8),
        Array("héllo, 👋 and 漢字 after ASCII".utf8),
        Array("12345678é".utf8),  // the first non-ASCII byte just after a word
        [0xC0, 0x80],  // overlong NUL
        [0xE0, 0x80, 0xAF],  // overlong "/"
        [0xED, 0xA0, 0x80],  // a surrogate
        [0xF4, 0x90, 0x80, 0x80],  // over U+10FFFF
        Array("abcdefgh".utf8) + [0xE2, 0x82],  // truncated at the end
        Array("abcdefghij".utf8) + [0xFF] + Array("klm".utf8),
        [0x80],  // a lone continuation byte
    ]

    @Test(arguments: cases) func agreesWithTheStandardLibrary(bytes: [UInt8]) {
        let expected = String(validating: bytes, as: UTF8.self) != nil
        #expect(bytes.withUnsafeBytes { UTF8Check.isValid($0) } == expected)
    }
}
