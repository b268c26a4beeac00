import Hummingbird
import RelayCore

/// `GET /ws/:userId` and `GET /ws`: who may open a socket there, for the upgrade and for a plain request alike.
struct WebSocketRoutes: Sendable {
    let sockets: Sockets
    let sessionControl: SessionControl
    let authenticator: Authenticator
    let origins: OriginPolicy

    /// Decides an upgrade request: the user it connects as and until when, their allowance on this node, and Redis's
    /// clock before the 101 goes out (everything stored after it reaches the socket). Throws the ``APIError`` to answer
    /// instead: 401, 403 (another user's token, a foreign origin, a blocked user), 404, 429, 503.
    func admit(_ request: Request) async throws -> RelayChildChannel.Accepted {
        guard origins.permits(request) else {
            sockets.metrics.refused(.origin)
            throw APIError.forbidden("pages of this origin may not open sockets here")
        }
        let (userID, expiresAt) = try await check(request, pathUserID: try Self.pathUserID(request.uri.path))
        guard let allowance = sockets.allowances.admit(userID) else {
            sockets.metrics.refused(.socketsPerUser)
            throw APIError(
                status: .tooManyRequests,
                code: "too_many_sockets",
                message: "this user holds \(sockets.allowances.maximumSocketsPerUser) sockets on this node already"
            )
        }
        do {
            // One round trip for both: the block is in the user's slot, the clock on any server.
            async let blocked = sessionControl.isBlocked(userID)
            let openedAfter = try await sockets.openingInstant()
            if try await blocked {
                sockets.allowances.release(userID)
                sockets.metrics.refused(.blocked)
                throw Self.blocked
            }
            return .init(
                userID: userID,
                expiresAt: expiresAt,
                openedAfter: openedAfter,
                allowance: allowance,
                subprotocol: WebSocketSubprotocols(request.headers).answer
            )
        } catch let error as APIError {
            throw error
        } catch {
            sockets.allowances.release(userID)
            throw APIError.unavailable("Redis is unavailable; try another node")
        }
    }

    static let blocked = APIError.forbidden("this user is blocked by an admin")

    /// The same paths without an upgrade: the refusal the upgrade would get, or 426.
    func registerRefusals(on router: Router<RelayRequestContext>) {
        for path in ["ws", "ws/:userId"] {
            router.get(RouterPath(path)) { request, context -> Response in
                let user = try await check(request, pathUserID: context.parameters.get("userId"))
                if (try? await sessionControl.isBlocked(user.userID)) == true { throw Self.blocked }
                guard sockets.isReady else { throw APIError.unavailable("this node cannot take sockets now; try another node") }
                throw APIError(status: .upgradeRequired, code: "bad_request", message: "this route takes a WebSocket upgrade")
            }
        }
    }

    /// Authentication, then a draining node takes no new sockets: the client goes to another node.
    private func check(_ request: Request, pathUserID: String?) async throws -> (userID: String, expiresAt: Int64?) {
        let user = try await authenticator.webSocketUser(request, pathUserID: pathUserID)
        guard !sockets.isDraining else { throw APIError.unavailable("this node is draining; try another node") }
        return user
    }

    /// The `:userId` of `/ws/:userId`, nil for `/ws`; any other path is not a socket route.
    static func pathUserID(_ path: String) throws -> String? {
        if path == "/ws" { return nil }
        let userID = path.dropFirst("/ws/".count)
        guard path.hasPrefix("/ws/"), !userID.isEmpty, !userID.contains("/") else { throw APIError.notFound("no WebSocket route at \(path)") }
        return String(userID)
    }
}
