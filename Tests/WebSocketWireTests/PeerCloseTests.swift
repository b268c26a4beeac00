import NIOCore
import Testing
import WebSocketWire

/// RFC 6455's rules for answering a peer's close frame, case by case as Autobahn|Testsuite's section 7 checks them.
struct PeerCloseTests {
    private func payload(_ code: UInt16?, reason: [UInt8] = []) -> ByteBuffer {
        var buffer = ByteBuffer()
        if let code { buffer.writeInteger(code) }
        buffer.writeBytes(reason)
        return buffer
    }

    /// Valid codes are echoed (7.7.x): the ones RFC 6455 defines for endpoints, IANA's later 1012 to 1014, and the
    /// library and private ranges.
    @Test(arguments: [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999] as [UInt16])
    func aValidCodeIsEchoed(code: UInt16) {
        #expect(PeerClose.answer(to: payload(code)) == code)
        #expect(PeerClose.answer(to: payload(code, reason: Array("bye, 👋".utf8))) == code)
    }

    /// Codes no endpoint may send (7.9.x, 7.13.x) are a protocol error: answered 1002, never echoed, so that 1005,
    /// 1006 and 1015 never go on the wire.
    @Test(arguments: [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535] as [UInt16])
    func anInvalidCodeIsAnswered1002(code: UInt16) {
        #expect(PeerClose.answer(to: payload(code)) == 1002)
    }

    @Test func anEmptyCloseIsAnswered1000() {
        #expect(PeerClose.answer(to: payload(nil)) == 1000)
    }

    /// 7.3.2: one byte cannot hold a code.
    @Test func aOneBytePayloadIsAnswered1002() {
        #expect(PeerClose.answer(to: ByteBuffer(bytes: [0x03])) == 1002)
    }

    /// 7.5.1: the reason must be UTF-8.
    @Test func aReasonThatIsNotUTF8IsAnswered1007() {
        #expect(
            PeerClose.answer(to: payload(1000, reason: [0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5, 0xED, 0xA0, 0x80])) == 1007
        )
        #expect(PeerClose.answer(to: payload(1000, reason: [0xFF])) == 1007)
        // Checked before the reason: an invalid code with a broken reason is a protocol error.
        #expect(PeerClose.answer(to: payload(1005, reason: [0xFF])) == 1002)
    }
}
