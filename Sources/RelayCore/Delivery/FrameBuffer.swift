import NIOCore

/// Buffers for outbound text frames, with room in front for the WebSocket header (at most 10 bytes from a server),
/// so that the surface writes the header in place instead of a separate buffer and `iovec` per frame.
public enum FrameBuffer {
    public static let headerRoom = 10

    public static func allocate(payloadCapacity: Int, allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: headerRoom + payloadCapacity)
        buffer.moveWriterIndex(forwardBy: headerRoom)
        buffer.moveReaderIndex(forwardBy: headerRoom)
        return buffer
    }
}
