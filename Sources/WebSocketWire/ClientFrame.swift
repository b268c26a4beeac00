import NIOCore
import NIOWebSocket

/// A frame as a client sends it (RFC 6455 §5.2): always masked, never with extension bits (none are negotiated).
///
/// The relay reads its clients' frames itself instead of through NIOWebSocket's `WebSocketFrameDecoder` behind a
/// `ByteToMessageHandler`: that pair cost an allocation per frame for the parser, another for the unmasked copy, a
/// boxed `WebSocketFrame` per `channelRead`, and half a kilobyte per idle socket. Here a frame is a slice of the
/// bytes read, unmasked only when its text is needed, into temporary storage that the session parses in place.
public struct ClientFrame: Sendable {
    public typealias Opcode = FrameOpcode

    public var fin: Bool
    public var opcode: Opcode
    /// The payload as sent, still masked.
    public var maskedPayload: ByteBuffer
    public var maskingKey: (UInt8, UInt8, UInt8, UInt8)

    @usableFromInline
    init(fin: Bool, opcode: Opcode, maskedPayload: ByteBuffer, maskingKey: (UInt8, UInt8, UInt8, UInt8)) {
        self.fin = fin
        self.opcode = opcode
        self.maskedPayload = maskedPayload
        self.maskingKey = maskingKey
    }

    public enum Outcome {
        case frame(ClientFrame)
        /// The buffer ends inside a frame: read more.
        case incomplete
        /// The connection must fail with this close code.
        case failure(WebSocketErrorCode)
    }

    /// Takes the next frame from the front of `buffer`; leaves the buffer untouched unless a whole frame is there.
    @inlinable
    public static func read(from buffer: inout ByteBuffer, maximumPayload: Int) -> Outcome {
        let start = buffer.readerIndex
        guard let first = buffer.getInteger(at: start, as: UInt8.self), let second = buffer.getInteger(at: start + 1, as: UInt8.self) else {
            return .incomplete
        }
        guard first & 0x70 == 0, let opcode = Opcode(rawValue: first & 0x0F) else { return .failure(.protocolError) }
        // RFC 6455 §5.1: a server closes the connection on a frame its client did not mask.
        guard second & 0x80 != 0 else { return .failure(.protocolError) }
        let fin = first & 0x80 != 0
        var headerSize = 2
        var length = Int(second & 0x7F)
        if length == 126 {
            guard let extended = buffer.getInteger(at: start + 2, as: UInt16.self) else { return .incomplete }
            length = Int(extended)
            headerSize = 4
        } else if length == 127 {
            guard let extended = buffer.getInteger(at: start + 2, as: UInt64.self) else { return .incomplete }
            guard extended <= UInt64(Int32.max) else { return .failure(.messageTooLarge) }
            length = Int(extended)
            headerSize = 10
        }
        // RFC 6455 §5.5: control frames are final and carry at most 125 bytes.
        if opcode.isControl, !fin || length > 125 { return .failure(.protocolError) }
        // Refused from the header alone: an oversized frame is never buffered.
        guard length <= maximumPayload else { return .failure(.messageTooLarge) }
        guard let key = buffer.getInteger(at: start + headerSize, as: UInt32.self),
            let payload = buffer.getSlice(at: start + headerSize + 4, length: length)
        else { return .incomplete }
        buffer.moveReaderIndex(forwardBy: headerSize + 4 + length)
        let maskingKey = (
            UInt8(truncatingIfNeeded: key >> 24), UInt8(truncatingIfNeeded: key >> 16), UInt8(truncatingIfNeeded: key >> 8),
            UInt8(truncatingIfNeeded: key)
        )
        return .frame(ClientFrame(fin: fin, opcode: opcode, maskedPayload: payload, maskingKey: maskingKey))
    }

    /// The payload's bytes unmasked into temporary storage (on the stack for the usual small frame), for `body`.
    @inlinable
    public func withUnmaskedBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        let count = maskedPayload.readableBytes
        return try withUnsafeTemporaryAllocation(byteCount: max(count, 1), alignment: 8) { scratch in
            maskedPayload.withUnsafeReadableBytes { masked in
                // Eight bytes at a time; byte i of the payload is masked with byte i % 4 of the key.
                let key32 = UInt32(maskingKey.0) | UInt32(maskingKey.1) << 8 | UInt32(maskingKey.2) << 16 | UInt32(maskingKey.3) << 24
                let key64 = UInt64(key32) | UInt64(key32) << 32
                var index = 0
                while index + 8 <= count {
                    let word = UInt64(littleEndian: masked.loadUnaligned(fromByteOffset: index, as: UInt64.self))
                    scratch.storeBytes(of: (word ^ key64).littleEndian, toByteOffset: index, as: UInt64.self)
                    index += 8
                }
                while index < count {
                    scratch[index] = masked[index] ^ UInt8(truncatingIfNeeded: key32 >> (UInt32(index & 3) * 8))
                    index += 1
                }
            }
            return try body(UnsafeRawBufferPointer(rebasing: scratch[0..<count]))
        }
    }

    /// The payload unmasked, in a new buffer (control frames and fragments, which are rare).
    @inlinable
    public var unmaskedPayload: ByteBuffer {
        withUnmaskedBytes { ByteBuffer(bytes: $0) }
    }
}
