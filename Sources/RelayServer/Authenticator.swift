import ChatProtocol
import Hummingbird
import RelayCore

/// Who is calling: from a JWT (the `chatrelay.token.TOKEN` subprotocol, `Authorization: Bearer` or the query's
/// `token`), or the path under `--auth none`.
struct Authenticator: Sendable {
    let configuration: RelayConfiguration
    let tokens: TokenVerifier?
    /// False on the public port of a node with `--admin-port`: the admin token works only on the admin port.
    var acceptsAdminToken = true
    /// Shared by every port of the node.
    let throttle: AdminThrottle
    let metrics: RelayMetrics

    var mode: AuthMode { configuration.auth }

    static func bearer(_ request: Request) -> String? {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { return nil }
        return String(header.dropFirst("Bearer ".count))
    }

    static func token(_ request: Request) -> String? {
        if let offered = WebSocketSubprotocols(request.headers).token { return offered }
        return bearer(request) ?? request.uri.queryParameters.get("token")
    }

    /// Who a WebSocket connects as, and until when (Unix seconds; nil under `--auth none`, where sockets do not
    /// expire). `pathUserID` is the `:userId` of `/ws/:userId`, if any.
    func webSocketUser(_ request: Request, pathUserID: String?) async throws -> (userID: String, expiresAt: Int64?) {
        if let pathUserID, !Identifier.isValid(pathUserID) {
            throw APIError.badRequest("user ids are \(Identifier.rule)")
        }
        guard let tokens = tokens else {
            guard let pathUserID else { throw APIError.badRequest("/ws needs a user id under --auth none: use /ws/:userId") }
            return (pathUserID, nil)
        }
        guard let token = Self.token(request) else { throw APIError.unauthorized("a token is required") }
        let verified: VerifiedToken
        do {
            verified = try await tokens.verify(token)
        } catch {
            throw APIError.unauthorized(error.description)
        }
        if let pathUserID, pathUserID != verified.userID { throw APIError.forbidden("the token is for another user") }
        return (verified.userID, verified.expiresAt)
    }

    /// Admin routes: the admin token, or anyone under `--auth none`. `peer` is the caller's address, for the throttle.
    func requireAdmin(_ request: Request, peer: String?) throws {
        if mode == .none { return }
        guard acceptsAdminToken, let adminToken = configuration.adminToken, !adminToken.isEmpty else {
            throw APIError.forbidden("no admin token is accepted on this port")
        }
        try refuseIfThrottled(peer)
        // An attempt is a bearer that is not the token; a request without one guesses nothing.
        guard let presented = Self.bearer(request) else { throw APIError.unauthorized("the admin token is required") }
        guard Self.isAdminToken(presented, adminToken) else {
            throttle.failed(peer ?? "")
            throw APIError.unauthorized("wrong admin token")
        }
    }

    private func refuseIfThrottled(_ peer: String?) throws {
        guard throttle.isBlocked(peer ?? "") else { return }
        metrics.refused(.adminThrottle)
        throw APIError(status: .tooManyRequests, code: "too_many_attempts", message: "too many wrong admin tokens from this address; wait a minute")
    }

    /// Compares in time that depends only on the lengths, so that timing the answers does not reveal how much of a
    /// guess was right.
    static func isAdminToken(_ presented: String, _ adminToken: String) -> Bool {
        let (a, b) = (Array(presented.utf8), Array(adminToken.utf8))
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<min(a.count, b.count) { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    /// History routes: the admin token, or the token of a member of the friendship.
    func requireReader(of friendship: Friendship, _ request: Request, peer: String?) async throws {
        try await requireAdmin(orOneOf: [friendship.user1, friendship.user2], request, peer: peer, refusal: "not a member of this friendship")
    }

    /// A user's own routes (themselves, their friends): the admin token, or that user's token, so that a browser
    /// signed in with a token can list its friends.
    func requireSelf(_ userID: String, _ request: Request, peer: String?) async throws {
        try await requireAdmin(orOneOf: [userID], request, peer: peer, refusal: "a user's token reads only that user")
    }

    /// A user's token for the route passes as it is; anything else is an admin attempt, throttled as such where the
    /// admin token is accepted.
    private func requireAdmin(orOneOf users: [String], _ request: Request, peer: String?, refusal: String) async throws {
        if mode == .none { return }
        let token = Self.token(request)
        var userError: APIError
        if let tokens, let token {
            do {
                if users.contains(try await tokens.verify(token).userID) { return }
                userError = APIError.forbidden(refusal)
            } catch {
                userError = APIError.unauthorized(error.description)
            }
        } else {
            userError = APIError.unauthorized("a token is required")
        }
        guard acceptsAdminToken, let adminToken = configuration.adminToken, !adminToken.isEmpty, let presented = Self.bearer(request) else {
            throw userError
        }
        try refuseIfThrottled(peer)
        if Self.isAdminToken(presented, adminToken) { return }
        throttle.failed(peer ?? "")
        throw userError
    }
}
