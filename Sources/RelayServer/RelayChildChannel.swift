import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket
import RelayCore

/// Hummingbird's HTTP/1 child channel with the WebSocket upgrade, except that an upgraded socket is served by plain
/// NIO channel handlers (``WebSocketFrameHandler``) instead of a task and an async channel per socket.
///
/// HummingbirdWebSocket's `HTTP1WebSocketUpgradeChannel` keeps a task group with several tasks alive for every open
/// socket and hops to a task for every frame. A chat node holds tens of thousands of mostly idle sockets, so here
/// the upgrade installs handlers and the connection's task returns: an idle socket costs its channel and a few
/// objects, and a frame is handled on the event loop where it was read. HTTP requests (the admin API, refusals of
/// upgrades) go through Hummingbird's router exactly as before. The structure follows `HTTP1WebSocketUpgradeChannel`.
struct RelayChildChannel: ServerChildChannel, HTTPChannelHandler {
    enum UpgradeResult: Sendable {
        case webSocket
        case notUpgraded(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        case failedUpgrade(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, Logger)
    }

    struct Value: ServerChildChannelValue {
        let upgradeResult: EventLoopFuture<UpgradeResult>
        let channel: any Channel
    }

    /// What a successful `shouldUpgrade` hands to the upgraded pipeline.
    struct Accepted: Sendable {
        var userID: String
        var openedAfter: StreamID
    }

    let responder: HTTPChannelHandler.Responder
    private let shouldUpgrade: @Sendable (HTTPRequest, any Channel, Logger) -> EventLoopFuture<Accepted?>
    private let relay: Relay
    private let http1: HTTP1Channel.Configuration

    /// - Parameter webSocketResponder: the router of the WebSocket paths; a route that accepts sets
    ///   `context.identity.accepted`.
    init<WSResponder: HTTPResponder>(
        responder: @escaping HTTPChannelHandler.Responder,
        webSocketResponder: WSResponder,
        relay: Relay,
        http1: HTTP1Channel.Configuration = .init()
    ) where WSResponder.Context == RelayRequestContext {
        self.responder = Self.upgradeRedirecting(responder)
        self.relay = relay
        self.http1 = http1
        shouldUpgrade = { head, channel, logger in
            let promise = channel.eventLoop.makePromise(of: Accepted?.self)
            promise.completeWithTask {
                let request = Request(head: head, body: .init(buffer: .init()))
                let context = RelayRequestContext(source: .init(channel: channel, logger: logger))
                guard let response = try? await webSocketResponder.respond(to: request, context: context), response.status == .ok,
                    let accepted = context.identity.accepted
                else { return nil }
                return Accepted(userID: accepted.userID, openedAfter: accepted.openedAfter)
            }
            return promise.futureResult
        }
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let upgradeAttempted = NIOLoopBoundBox(false, eventLoop: channel.eventLoop)
            let configuration = relay.configuration
            let accepted = NIOLoopBoundBox<Accepted?>(nil, eventLoop: channel.eventLoop)
            let upgrader = NIOTypedWebSocketServerUpgrader<UpgradeResult>(
                maxFrameSize: configuration.maximumFrameBytes,
                // WebSocketFrameHandler answers decoding errors itself: one handler less per socket.
                enableAutomaticErrorHandling: false,
                shouldUpgrade: { channel, head in
                    upgradeAttempted.value = true
                    guard let request = try? HTTPRequest(head, secure: false, splitCookie: false) else {
                        return channel.eventLoop.makeSucceededFuture(nil)
                    }
                    return shouldUpgrade(request, channel, logger).map { result in
                        accepted.value = result
                        return result == nil ? nil : HTTPHeaders()
                    }
                },
                upgradePipelineHandler: { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        guard let identity = accepted.value else { throw ChannelError.inappropriateOperationForState }
                        try WebSocketFrameHandler.install(on: channel, relay: relay, accepted: identity)
                        return UpgradeResult.webSocket
                    }
                }
            )
            let serverUpgradeConfiguration = NIOTypedHTTPServerUpgradeConfiguration(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try channel.pipeline.syncOperations.addHandlers(http1.additionalChannelHandlers())
                        try channel.pipeline.syncOperations.addHandler(
                            HTTPConnectionStateHandler(idleTimeout: http1.idleTimeout.map { .init($0) }, logger: logger)
                        )
                        let asyncChannel = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel,
                            configuration: .init(isOutboundHalfClosureEnabled: true)
                        )
                        return upgradeAttempted.value ? UpgradeResult.failedUpgrade(asyncChannel, logger) : .notUpgraded(asyncChannel)
                    }
                }
            )
            var upgradeConfiguration = NIOUpgradableHTTPServerPipelineConfiguration<UpgradeResult>(upgradeConfiguration: serverUpgradeConfiguration)
            upgradeConfiguration.enablePipelining = false
            upgradeConfiguration.enableErrorHandling = false
            upgradeConfiguration.enableResponseHeaderValidation = false
            let negotiated = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: upgradeConfiguration)
            return Value(upgradeResult: negotiated, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.upgradeResult.get() {
            case .notUpgraded(let http1):
                await handleHTTP(asyncChannel: http1, logger: logger)
            case .failedUpgrade(let http1, _):
                // As HummingbirdWebSocket does: the request is spent, answer 400 and close. (A plain GET of the same
                // path goes through the router and says why: 401, 403, 503.)
                try await http1.executeThenClose { _, outbound in
                    let head = HTTPResponse(status: .badRequest, headerFields: [.connection: "close", .contentLength: "0"])
                    try await outbound.write(contentsOf: [.head(head), .end(nil)])
                }
            case .webSocket:
                // The socket lives on in its handlers; no task stays behind for it.
                return
            }
        } catch {
            logger.debug("upgrade ended", metadata: ["error": "\(error)"])
        }
    }

    /// A request asking for an upgrade on a connection that already served HTTP cannot be upgraded by NIO: send the
    /// client back to the same path on a fresh connection (as HummingbirdWebSocket does).
    private static func upgradeRedirecting(_ responder: @escaping HTTPChannelHandler.Responder) -> HTTPChannelHandler.Responder {
        struct RedirectClose: Error {}
        return { request, responseWriter, channel in
            guard request.headers[.upgrade] == "websocket" else {
                return try await responder(request, responseWriter, channel)
            }
            var path = request.uri.path
            if let query = request.uri.query { path += "?\(query)" }
            let response = HTTPResponse(status: .temporaryRedirect, headerFields: [.connection: "close", .location: path])
            try await responseWriter.writeResponse(response)
            throw RedirectClose()
        }
    }
}
