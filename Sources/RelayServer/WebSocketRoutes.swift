import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import RelayCore

/// `GET /ws/:userId` and `GET /ws`: authenticate, upgrade, then relay frames both ways.
struct WebSocketRoutes: Sendable {
    let relay: Relay
    let authenticator: Authenticator

    /// Routes tried before the upgrade; a refusal here answers 400/401/403 without upgrading.
    func register(on router: Router<RelayRequestContext>) {
        for path in ["ws", "ws/:userId"] {
            router.ws(
                RouterPath(path),
                shouldUpgrade: { request, context in
                    let userID = try await authenticator.webSocketUser(request, pathUserID: context.parameters.get("userId"))
                    // A draining node takes no new sockets: the client goes to another node.
                    guard !relay.isDraining else { throw APIError.unavailable("this node is draining; try another node") }
                    // Redis's clock before the 101 goes out: everything stored after the upgrade reaches the socket.
                    let openedAfter: StreamID
                    do {
                        openedAfter = try await relay.openingInstant()
                    } catch {
                        throw APIError.unavailable("Redis is unavailable; try another node")
                    }
                    context.identity.accepted = (userID, openedAfter)
                    return .upgrade([:])
                },
                onUpgrade: { inbound, outbound, context in
                    guard let (userID, openedAfter) = context.requestContext.identity.accepted else { return }
                    try await serve(
                        userID: userID,
                        openedAfter: openedAfter,
                        channel: context.requestContext.channel,
                        inbound: inbound,
                        outbound: outbound,
                        logger: context.logger
                    )
                }
            )
        }
    }

    /// The same paths on the plain HTTP router: a request that was not upgraded gets its auth error (or 426).
    func registerRefusals(on router: Router<RelayRequestContext>) {
        for path in ["ws", "ws/:userId"] {
            router.get(RouterPath(path)) { request, context -> Response in
                _ = try await authenticator.webSocketUser(request, pathUserID: context.parameters.get("userId"))
                guard relay.isReady, !relay.isDraining else { throw APIError.unavailable("this node cannot take sockets now; try another node") }
                throw APIError(status: .upgradeRequired, code: "bad_request", message: "this route takes a WebSocket upgrade")
            }
        }
    }

    private func serve(
        userID: String,
        openedAfter: StreamID,
        channel: any Channel,
        inbound: WebSocketInboundStream,
        outbound: WebSocketOutboundWriter,
        logger: Logger
    ) async throws {
        let socket = WebSocketConnection(
            id: relay.makeSocketID(),
            userID: userID,
            channel: channel,
            outbound: outbound,
            maximumQueuedFrames: relay.configuration.maximumQueuedFrames,
            maximumQueuedBytes: relay.configuration.maximumQueuedBytes
        )
        try await PongObserver.install(on: channel) { [heartbeats = relay.heartbeats] in heartbeats.pongReceived(from: socket) }
        let session: ClientSession
        do {
            session = try await relay.open(socket, openedAfter: openedAfter)
        } catch {
            if relay.isDraining {
                try await outbound.close(.goingAway, reason: nil)
            } else {
                logger.warning("cannot open a socket", metadata: ["user": "\(userID)", "error": "\(error)"])
                try await outbound.close(.unexpectedServerError, reason: "unavailable")
            }
            return
        }
        defer { relay.close(socket) }
        for try await message in inbound.messages(maxSize: relay.configuration.maximumFrameBytes) {
            switch message {
            case .text(let text):
                await session.handle(text.utf8)
            case .binary:
                socket.send(OutboundFrame.error(FrameError(.badJSON, "frames must be JSON text frames, not binary")))
            }
        }
    }
}
