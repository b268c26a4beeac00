import NIOCore
import NIOWebSocket

/// Sees pong frames on their way in, for the heartbeat: HummingbirdWebSocket handles them internally and never
/// hands them to the application. Sits right after the frame decoder and passes every frame on unchanged.
final class PongObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame

    private let onPong: @Sendable () -> Void

    init(onPong: @escaping @Sendable () -> Void) {
        self.onPong = onPong
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if unwrapInboundIn(data).opcode == .pong { onPong() }
        context.fireChannelRead(data)
    }

    static func install(on channel: any Channel, onPong: @escaping @Sendable () -> Void) async throws {
        try await channel.eventLoop.submit {
            let decoder = try channel.pipeline.syncOperations.context(handlerType: ByteToMessageHandler<WebSocketFrameDecoder>.self)
            try channel.pipeline.syncOperations.addHandler(PongObserver(onPong: onPong), position: .after(decoder.handler))
        }.get()
    }
}
