import NIOCore
import NIOWebSocket

/// How a server ends a WebSocket's TCP connection, as RFC 6455 §7.1.1 asks: the server closes first, but never
/// while the client's bytes are still unread, or the kernel answers them with a reset and the client (or a proxy in
/// between) sees 1006 instead of the close frame.
public enum WebSocketClosing {
    /// How long a failed connection's peer has to read the close frame and close its side.
    public static let lingerTime: TimeAmount = .seconds(5)

    /// On the event loop: answers a peer's close frame with `code` and closes the connection once it is written.
    /// The peer sends nothing after its close, so nothing is left unread.
    public static func answer(peerClose code: UInt16, context: ChannelHandlerContext) {
        let channel = context.channel
        context.writeAndFlush(NIOAny(ServerFrame.close(code, allocator: channel.allocator))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    /// On the event loop: fails the connection with `code`. The close frame goes out, then the output is shut
    /// (the peer reads the close, then the end of the stream); the connection is dropped when the peer closes its
    /// side, or after ``lingerTime``. Reading goes on meanwhile, and the owner drops what it reads.
    public static func fail(_ code: WebSocketErrorCode, context: ChannelHandlerContext) {
        let channel = context.channel
        context.writeAndFlush(NIOAny(ServerFrame.close(code, allocator: channel.allocator))).whenComplete { _ in
            channel.close(mode: .output).whenFailure { _ in channel.close(promise: nil) }
        }
        // The owner may have paused reading; the peer's end of the stream must be seen.
        channel.setOption(ChannelOptions.autoRead, value: true).whenSuccess { channel.read() }
        channel.eventLoop.scheduleTask(in: lingerTime) { channel.close(promise: nil) }
    }
}
