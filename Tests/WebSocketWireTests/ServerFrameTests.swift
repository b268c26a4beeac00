import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing
import WebSocketWire

/// The relay encodes its own frames; NIOWebSocket's decoder, an independent implementation, must read them back.
struct ServerFrameTests {
    /// A buffer as the relay makes one for a text frame: room in front for the largest server header.
    private static func withHeaderRoom(payloadCapacity: Int) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: 10 + payloadCapacity)
        buffer.moveWriterIndex(forwardBy: 10)
        buffer.moveReaderIndex(forwardBy: 10)
        return buffer
    }

    /// Stands where NIOWebSocket's encoder stands in a socket's pipeline: frames are written through its context.
    private final class Output: ChannelOutboundHandler {
        typealias OutboundIn = ByteBuffer
    }

    /// The buffers that reach the socket when `frame` is written, one per `writev` entry.
    private func written(_ frame: consuming ServerFrame) throws -> [ByteBuffer] {
        let channel = EmbeddedChannel(handler: Output())
        frame.write(to: try channel.pipeline.syncOperations.context(handlerType: Output.self))
        channel.flush()
        var buffers: [ByteBuffer] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { buffers.append(buffer) }
        return buffers
    }

    private func decode(_ buffers: [ByteBuffer]) throws -> WebSocketFrame? {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 20)))
        var bytes = ByteBuffer()
        for var buffer in buffers { bytes.writeBuffer(&buffer) }
        try channel.writeInbound(bytes)
        return try channel.readInbound(as: WebSocketFrame.self)
    }

    @Test(arguments: [0, 1, 125, 126, 65_535, 65_536, 100_000])
    func everyHeaderSizeDecodesAsOneFinalUnmaskedTextFrame(length: Int) throws {
        func payload() -> ByteBuffer {
            var payload = Self.withHeaderRoom(payloadCapacity: length)
            payload.writeRepeatingByte(UInt8(ascii: "x"), count: length)
            return payload
        }
        let buffers = try written(ServerFrame(.text, payload: payload()))
        // Nobody else holds the payload and it has room in front: the header goes there, one buffer.
        #expect(buffers.count == 1)
        let frame = try #require(try decode(buffers))
        #expect(frame.opcode == .text)
        #expect(frame.fin)
        #expect(frame.maskKey == nil)
        #expect(frame.data.readableBytes == length)
        #expect(frame.data.readableBytesView.allSatisfy { $0 == UInt8(ascii: "x") })
    }

    @Test func aPayloadHeldElsewhereGetsASeparateHeaderAndStaysAsItWas() throws {
        var payload = Self.withHeaderRoom(payloadCapacity: 5)
        payload.writeString("hello")
        let kept = payload
        let buffers = try written(ServerFrame(.text, payload: payload))
        #expect(buffers.count == 2)
        #expect(kept.readableBytesView.elementsEqual("hello".utf8))
        #expect(try decode(buffers)?.data == ByteBuffer(string: "hello"))
    }

    @Test func aPayloadWithoutRoomInFrontGetsASeparateHeader() throws {
        let buffers = try written(ServerFrame(.text, payload: ByteBuffer(string: "hi")))
        #expect(buffers.count == 2)
        #expect(try decode(buffers)?.data == ByteBuffer(string: "hi"))
    }

    @Test func controlFramesAreWholeFrames() throws {
        #expect(Array(try written(ServerFrame.ping).flatMap { $0.readableBytesView }) == [0x89, 0x00])
        #expect(Array(ServerFrame.close(1008, allocator: ByteBufferAllocator()).readableBytesView) == [0x88, 0x02, 0x03, 0xF0])
        let pong = ServerFrame.encoded(.pong, payload: ByteBuffer(string: "beat"), allocator: ByteBufferAllocator())
        let frame = try #require(try decode([pong]))
        #expect(frame.opcode == .pong)
        #expect(frame.data == ByteBuffer(string: "beat"))
    }
}
