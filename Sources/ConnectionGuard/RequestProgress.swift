import NIOCore
import NIOHTTP1

/// What the HTTP decoder and encoder see of a request, told to the connection's ``RequestHeadGuard`` as outbound user
/// events (the guard sits at the front of the pipeline, before the decoder).
public enum RequestProgress: Sendable, Equatable {
    /// The request's end (head and body) was decoded.
    case requestReceived
    /// The answer's end was written.
    case answered
    /// The decoder refused the bytes: past its header limits, or not HTTP/1.
    case malformed(headerOverflow: Bool)
}

/// Sits behind the HTTP decoder and encoder and tells the guard in front of them how the request goes. Removed with
/// the guard when the connection upgrades.
public final class RequestProgressSignals: ChannelDuplexHandler, RemovableChannelHandler {
    /// Anything: on an upgrade, the decoder hands the bytes after the request to the handler behind it as they are.
    public typealias InboundIn = Any
    public typealias InboundOut = Any
    public typealias OutboundIn = HTTPServerResponsePart
    public typealias OutboundOut = HTTPServerResponsePart

    public init() {}

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Told before the end goes on: a handler that answers at once would otherwise have its answer counted
        // before the request it answers.
        if case .end = unwrapInboundIn(data) as? HTTPServerRequestPart {
            context.triggerUserOutboundEvent(RequestProgress.requestReceived, promise: nil)
        }
        context.fireChannelRead(data)
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let isEnd = if case .end = unwrapOutboundIn(data) { true } else { false }
        context.write(data, promise: promise)
        if isEnd { context.triggerUserOutboundEvent(RequestProgress.answered, promise: nil) }
    }

    /// The guard answers a decoder's refusal (400 or 431) and closes; nothing behind it needs to hear of it.
    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else { return context.fireErrorCaught(error) }
        context.triggerUserOutboundEvent(RequestProgress.malformed(headerOverflow: parserError == .headerOverflow), promise: nil)
    }
}
