import NIOCore
import WebSocketWire

/// Echoes every message back in one frame of the same opcode: the relay's own WebSocket code (``WebSocketReader``,
/// ``ServerFrame``, ``WebSocketClosing``) with nothing of the relay around it, for Autobahn|Testsuite to exercise.
final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private var reader = WebSocketReader()
    private let maximumMessageBytes: Int

    init(maximumMessageBytes: Int) {
        self.maximumMessageBytes = maximumMessageBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        reader.read(unwrapInboundIn(data), maximumMessageBytes: maximumMessageBytes, allocator: context.channel.allocator) { event in
            switch event {
            case .message(let opcode, let bytes):
                var frame = ServerFrame(opcode, payload: context.channel.allocator.buffer(bytes: bytes))
                frame.write(to: context)
                context.flush()
            case .ping(let payload):
                context.writeAndFlush(NIOAny(ServerFrame.encoded(.pong, payload: payload, allocator: context.channel.allocator)), promise: nil)
            case .pong:
                break
            case .peerClosed(let answer):
                WebSocketClosing.answer(peerClose: answer, context: context)
            case .failed(let code):
                WebSocketClosing.fail(code, context: context)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
