import ChatProtocol
import ConnectionGuard
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket
import RelayCore
import WebSocketWire

/// Hummingbird's HTTP/1 child channel with the WebSocket upgrade, except that an upgraded socket is served by plain
/// NIO channel handlers (``WebSocketFrameHandler``) instead of a task and an async channel per socket.
///
/// HummingbirdWebSocket's `HTTP1WebSocketUpgradeChannel` keeps a task group with several tasks alive for every open
/// socket and hops to a task for every frame. A chat node holds tens of thousands of mostly idle sockets, so here
/// the upgrade installs handlers and the connection's task returns: an idle socket costs its channel and a few
/// objects, and a frame is handled on the event loop where it was read. HTTP requests (the admin API) go through
/// Hummingbird's router. A refused upgrade is answered with ``WebSocketRoutes/admit(_:)``'s error (401, 403, 404,
/// 503), as the contract asks. The structure follows `HTTP1WebSocketUpgradeChannel`.
struct RelayChildChannel: ServerChildChannel, HTTPChannelHandler {
    enum UpgradeResult: Sendable {
        case webSocket
        case notUpgraded(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        /// An upgrade request refused: answered with the refusal's status and `{"error", "message"}`, then closed.
        case refused(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, APIError)
    }

    struct Value: ServerChildChannelValue {
        let upgradeResult: EventLoopFuture<UpgradeResult>
        let channel: any Channel
    }

    /// What a successful `shouldUpgrade` hands to the upgraded pipeline.
    struct Accepted: Sendable {
        var userID: String
        /// The token's `exp` (Unix seconds), when the socket opened with one: it is closed with 4001 then.
        var expiresAt: Int64?
        var openedAfter: StreamID
        /// The user's socket slot and shared rate on this node, given back when the connection ends.
        var allowance: UserAllowance
        /// The subprotocol the 101 selects, if any.
        var subprotocol: String?
    }

    /// A connection over `--max-connections`: answered 503 and closed, never served.
    struct OverCapacity: Error {}

    let responder: HTTPChannelHandler.Responder
    private let routes: WebSocketRoutes
    private let http1: HTTP1Channel.Configuration
    private let connections: OpenConnections
    private let requestTimeout: TimeAmount

    init(
        responder: @escaping HTTPChannelHandler.Responder,
        routes: WebSocketRoutes,
        connections: OpenConnections,
        requestTimeout: TimeAmount,
        http1: HTTP1Channel.Configuration = .init()
    ) {
        self.responder = Self.upgradeRedirecting(responder)
        self.routes = routes
        self.connections = connections
        self.requestTimeout = requestTimeout
        self.http1 = http1
    }

    private var sockets: Sockets { routes.sockets }

    /// Every channel keeps its last receive buffer for the next read, so the first buffer's size is memory that
    /// each idle socket holds for good: NIO's default of 2 KiB was a third of an idle socket's RSS. An upgrade
    /// request fits in 512 bytes or takes a second read; a busy socket's buffer grows as its reads fill it.
    static let receiveBuffers = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65_536)

    /// Set here rather than left to NIO's default, because ``WebSocketConnection`` relies on its high mark: a writable
    /// channel holds less than it, so the per-flush check of the bytes waiting only runs past it.
    static let writeBufferWaterMark = ChannelOptions.Types.WriteBufferWaterMark(low: 32 * 1024, high: 64 * 1024)

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.syncOptions?.setOption(ChannelOptions.recvAllocator, value: Self.receiveBuffers)
            try channel.syncOptions?.setOption(ChannelOptions.writeBufferWaterMark, value: Self.writeBufferWaterMark)
            guard connections.admit() else {
                sockets.metrics.connectionRefused(.overCapacity)
                try channel.pipeline.syncOperations.addHandler(RequestHeadGuard.refusing(.overCapacity))
                return Value(upgradeResult: channel.eventLoop.makeFailedFuture(OverCapacity()), channel: channel)
            }
            // First in the pipeline until the upgrade: the request timeout, the head's bound, the drain.
            let headGuard = RequestHeadGuard(timeout: requestTimeout, connections: connections) { [sockets] refusal in
                sockets.metrics.connectionRefused(refusal)
            }
            try channel.pipeline.syncOperations.addHandler(headGuard)
            let signals = RequestProgressSignals()
            let upgradeAttempted = NIOLoopBoundBox(false, eventLoop: channel.eventLoop)
            let decision = NIOLoopBoundBox<Result<Accepted, APIError>?>(nil, eventLoop: channel.eventLoop)
            let upgrader = WebSocketUpgrader<UpgradeResult>(
                shouldUpgrade: { [routes] channel, head in
                    upgradeAttempted.value = true
                    let promise = channel.eventLoop.makePromise(of: Result<Accepted, APIError>.self)
                    promise.completeWithTask {
                        let result: Result<Accepted, APIError>
                        do {
                            let request = Request(head: try HTTPRequest(head, secure: false, splitCookie: false), body: .init(buffer: .init()))
                            result = .success(try await routes.admit(request))
                        } catch {
                            result = .failure(error as? APIError ?? .badRequest("not a WebSocket upgrade request"))
                        }
                        return result
                    }
                    return promise.futureResult.hop(to: channel.eventLoop).map { result in
                        decision.value = result
                        guard case .success(let accepted) = result else { return nil }
                        // Given back with the connection, by the guard or, once it upgraded, by the socket.
                        headGuard.holdUntilEnd { [sockets] in sockets.allowances.release(accepted.userID) }
                        // Before the decoder goes: it hands the bytes after the request (the first frames) to the
                        // handler behind it, which must be the upgrade handler that keeps them for the socket.
                        channel.pipeline.syncOperations.removeHandler(signals, promise: nil)
                        return HTTPHeaders(accepted.subprotocol.map { [("Sec-WebSocket-Protocol", $0)] } ?? [])
                    }
                },
                upgradePipeline: { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        guard case .success(let accepted) = decision.value else { throw ChannelError.inappropriateOperationForState }
                        // The socket takes over the connection's place and its user's slot; the HTTP guard leaves.
                        headGuard.handOver()
                        channel.pipeline.syncOperations.removeHandler(headGuard, promise: nil)
                        try WebSocketFrameHandler.install(on: channel, sockets: sockets, accepted: accepted, connections: connections)
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
                        guard upgradeAttempted.value else { return UpgradeResult.notUpgraded(asyncChannel) }
                        if case .failure(let error) = decision.value { return .refused(asyncChannel, error) }
                        return .refused(asyncChannel, .badRequest("the upgrade failed"))
                    }
                }
            )
            var upgradeConfiguration = NIOUpgradableHTTPServerPipelineConfiguration<UpgradeResult>(upgradeConfiguration: serverUpgradeConfiguration)
            upgradeConfiguration.enablePipelining = false
            upgradeConfiguration.enableErrorHandling = false
            upgradeConfiguration.enableResponseHeaderValidation = false
            // The guard refuses a head over 16 KiB as a whole; these catch a single field past it too.
            upgradeConfiguration.decoderConfiguration.maxHeaderListSize = RequestHeadMachine.maximumHeadBytes
            upgradeConfiguration.decoderConfiguration.maxHeaderFieldSize = RequestHeadMachine.maximumHeadBytes
            let negotiated = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: upgradeConfiguration)
            // Behind the decoder and encoder, so that it sees requests and answers whole.
            let upgradeHandler = try channel.pipeline.syncOperations.handler(type: NIOTypedHTTPServerUpgradeHandler<UpgradeResult>.self)
            try channel.pipeline.syncOperations.addHandler(signals, position: .before(upgradeHandler))
            return Value(upgradeResult: negotiated, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.upgradeResult.get() {
            case .notUpgraded(let http1):
                await handleHTTP(asyncChannel: http1, logger: logger)
            case .refused(let http1, let error):
                // The request was spent on the upgrade attempt: answer it as the HTTP route would, and close.
                try await http1.executeThenClose { _, outbound in
                    let body = ByteBuffer(string: error.body)
                    let head = HTTPResponse(
                        status: error.status,
                        headerFields: [.connection: "close", .contentType: "application/json", .contentLength: "\(body.readableBytes)"]
                    )
                    try await outbound.write(contentsOf: [.head(head), .body(body), .end(nil)])
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
