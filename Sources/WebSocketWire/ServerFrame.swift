import NIOCore
import NIOWebSocket

/// A frame as a server sends it (RFC 6455 §5.2): final, never masked, so its header is 2, 4 or 10 bytes and depends
/// only on the opcode and the payload's length.
///
/// The relay encodes its own frames instead of going through NIOWebSocket's `WebSocketFrameEncoder`: the profile
/// showed the encoder (and the boxing of each `WebSocketFrame` into `NIOAny`) at 6% of a saturated node and 9% of
/// an idle one. ``ClientFrame`` does the same for the other direction.
public struct ServerFrame: Sendable {
    public typealias Opcode = FrameOpcode

    /// Nil when `payload` is already a whole frame.
    public let opcode: Opcode?
    /// The payload; written with the header in front when the buffer has room there and nobody else holds it.
    public var payload: ByteBuffer

    @inlinable
    public init(_ opcode: Opcode, payload: ByteBuffer) {
        self.opcode = opcode
        self.payload = payload
    }

    private init(encoded: ByteBuffer) {
        opcode = nil
        payload = encoded
    }

    /// A ping with no payload never changes: one shared buffer for every socket.
    public static let ping = ServerFrame(encoded: ByteBuffer(bytes: [0x80 | Opcode.ping.rawValue, 0]))

    @inlinable
    public static func headerSize(payloadLength: Int) -> Int {
        payloadLength < 126 ? 2 : payloadLength <= Int(UInt16.max) ? 4 : 10
    }

    /// A whole frame in one new buffer, for small control frames.
    public static func encoded(_ opcode: Opcode, payload: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: headerSize(payloadLength: payload.readableBytes) + payload.readableBytes)
        writeHeader(opcode, payloadLength: payload.readableBytes, into: &buffer)
        var payload = payload
        buffer.writeBuffer(&payload)
        return buffer
    }

    /// A close frame with `code` and no reason.
    public static func close(_ code: UInt16, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 4)
        writeHeader(.close, payloadLength: 2, into: &buffer)
        buffer.writeInteger(code)
        return buffer
    }

    public static func close(_ code: WebSocketErrorCode, allocator: ByteBufferAllocator) -> ByteBuffer {
        close(UInt16(webSocketErrorCode: code), allocator: allocator)
    }

    /// Writes the frame to `context` (the socket handler's): in one buffer when the header fits in
    /// front of the payload, else as a separate header buffer followed by the payload.
    @inlinable
    public mutating func write(to context: ChannelHandlerContext) {
        guard let opcode else { return context.write(NIOAny(payload), promise: nil) }
        let length = payload.readableBytes
        let size = Self.headerSize(payloadLength: length)
        let prepended =
            payload.modifyIfUniquelyOwned { buffer -> Bool in
                guard buffer.readerIndex >= size else { return false }
                buffer.moveReaderIndex(to: buffer.readerIndex - size)
                Self.setHeader(opcode, payloadLength: length, in: &buffer, at: buffer.readerIndex)
                return true
            } ?? false
        if !prepended {
            var header = context.channel.allocator.buffer(capacity: size)
            Self.writeHeader(opcode, payloadLength: length, into: &header)
            context.write(NIOAny(header), promise: nil)
        }
        context.write(NIOAny(payload), promise: nil)
    }

    @usableFromInline
    static func writeHeader(_ opcode: Opcode, payloadLength length: Int, into buffer: inout ByteBuffer) {
        let written = setHeader(opcode, payloadLength: length, in: &buffer, at: buffer.writerIndex)
        buffer.moveWriterIndex(forwardBy: written)
    }

    @discardableResult
    @usableFromInline
    static func setHeader(_ opcode: Opcode, payloadLength length: Int, in buffer: inout ByteBuffer, at start: Int) -> Int {
        var index = start
        index += buffer.setInteger(0x80 | opcode.rawValue, at: index)
        switch length {
        case ..<126:
            index += buffer.setInteger(UInt8(length), at: index)
        case ...Int(UInt16.max):
            index += buffer.setInteger(UInt8(126), at: index)
            index += buffer.setInteger(UInt16(length), at: index)
        default:
            index += buffer.setInteger(UInt8(127), at: index)
            index += buffer.setInteger(UInt64(length), at: index)
        }
        return index - start
    }
}
