import NIOCore

/// WebSocket close codes the relay uses.
public enum CloseCode: UInt16, Sendable {
    /// The node is draining: reconnect through the load balancer.
    case goingAway = 1001
    /// The peer broke the WebSocket protocol (a stray continuation frame, an unknown opcode).
    case protocolError = 1002
    /// A text message that is not UTF-8 (RFC 6455 §8.1).
    case invalidPayload = 1007
    /// The socket fell too far behind its outbound queue; it should reconnect and `sync`.
    case policyViolation = 1008
    case messageTooBig = 1009
    /// The node could not open the socket (Redis unreachable): try another node.
    case unexpectedServerError = 1011
}

/// What the relay core needs of an open socket. The surface implements it over a WebSocket.
public protocol RelaySocket: AnyObject, Sendable {
    var userID: String { get }
    /// Queues a text frame without waiting; called from event loops and tasks alike.
    func send(_ text: String)
    /// Queues a text frame whose bytes are ready (shared between the sockets it goes to, never copied).
    func send(frame bytes: ByteBuffer)
    func close(_ code: CloseCode)
    /// Sends a WebSocket ping.
    func ping()
    /// Drops the connection at once, without a close handshake: the peer is not answering.
    func terminate()
    /// Returns once the outbound queue has room for a page of frames, so that a long `sync` is paced by the
    /// client's reading instead of overflowing the queue.
    func waitForCapacity() async
}

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
