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
                // Never runs: RelayChildChannel installs WebSocketFrameHandler on the upgraded channel instead.
                onUpgrade: { _, _, _ in }
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
}
