import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing
import WebSocketWire

/// The relay reads its clients' frames itself; frames masked by NIOWebSocket's encoder, an independent
/// implementation, must come out whole, at every length encoding and however the bytes are split.
struct ClientFrameTests {
    private let key = WebSocketMaskingKey([0x12, 0x34, 0x56, 0x78])!

    /// A frame as a client sends it, encoded by NIOWebSocket.
    private func clientBytes(_ opcode: WebSocketOpcode, _ payload: [UInt8], fin: Bool = true) throws -> ByteBuffer {
        let channel = EmbeddedChannel(handler: WebSocketFrameEncoder())
        try channel.writeOutbound(WebSocketFrame(fin: fin, opcode: opcode, maskKey: key, data: ByteBuffer(bytes: payload)))
        var bytes = ByteBuffer()
        while var part = try channel.readOutbound(as: ByteBuffer.self) { bytes.writeBuffer(&part) }
        return bytes
    }

    private func payload(_ length: Int) -> [UInt8] {
        (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
    }

    @Test(arguments: [0, 1, 7, 8, 9, 125, 126, 1_000, 65_535, 65_536, 70_000])
    func framesOfEveryLengthUnmaskToWhatWasSent(length: Int) throws {
        var bytes = try clientBytes(.text, payload(length))
        guard case .frame(let frame) = ClientFrame.read(from: &bytes, maximumPayload: 1 << 20) else {
            Issue.record("no frame")
            return
        }
        #expect(frame.fin)
        #expect(frame.opcode == .text)
        #expect(frame.withUnmaskedBytes { Array($0) } == payload(length))
        #expect(Array(frame.unmaskedPayload.readableBytesView) == payload(length))
        #expect(bytes.readableBytes == 0)
    }

    @Test func aFrameSplitAnywhereIsIncompleteUntilItsLastByte() throws {
        let whole = try clientBytes(.text, payload(300))
        for split in 0..<whole.readableBytes {
            var part = whole.getSlice(at: whole.readerIndex, length: split)!
            guard case .incomplete = ClientFrame.read(from: &part, maximumPayload: 1 << 20) else {
                Issue.record("a frame cut at \(split) bytes was not incomplete")
                return
            }
            #expect(part.readableBytes == split, "an incomplete frame leaves the bytes in place")
        }
    }

    @Test func twoFramesInOneReadComeOutInOrder() throws {
        var bytes = try clientBytes(.text, Array("first".utf8), fin: false)
        var second = try clientBytes(.continuation, Array("second".utf8))
        bytes.writeBuffer(&second)
        guard case .frame(let first) = ClientFrame.read(from: &bytes, maximumPayload: 100),
            case .frame(let next) = ClientFrame.read(from: &bytes, maximumPayload: 100)
        else {
            Issue.record("two frames expected")
            return
        }
        #expect(!first.fin && first.opcode == .text)
        #expect(next.fin && next.opcode == .continuation)
        #expect(String(buffer: next.unmaskedPayload) == "second")
    }

    @Test func brokenFramesFailWithTheirCloseCode() throws {
        func outcome(_ bytes: [UInt8], maximumPayload: Int = 100) -> WebSocketErrorCode? {
            var buffer = ByteBuffer(bytes: bytes)
            if case .failure(let code) = ClientFrame.read(from: &buffer, maximumPayload: maximumPayload) { return code }
            return nil
        }
        // Not masked (RFC 6455 §5.1).
        #expect(outcome([0x81, 0x02, 0x68, 0x69]) == .protocolError)
        // An extension bit nobody negotiated.
        #expect(outcome([0xC1, 0x80, 0, 0, 0, 0]) == .protocolError)
        // An opcode that does not exist.
        #expect(outcome([0x83, 0x80, 0, 0, 0, 0]) == .protocolError)
        // A control frame that is fragmented, or longer than 125 bytes.
        #expect(outcome([0x09, 0x80, 0, 0, 0, 0]) == .protocolError)
        #expect(outcome([0x89, 0xFE, 0x00, 0x7E]) == .protocolError)
        // Over the limit, refused from the header before its payload arrives.
        #expect(outcome([0x81, 0xFE, 0x00, 0x65], maximumPayload: 100) == .messageTooLarge)
        #expect(outcome([0x81, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]) == .messageTooLarge)
    }
}
