import ChatProtocol
import Foundation
import Hummingbird
import NIOCore
import Prometheus
import RelayCore

/// The contract's HTTP API: users, friendships, history, broadcast, health and metrics.
struct APIRoutes<Context: PeerAddressContext>: Sendable {
    /// Which routes a port serves.
    enum Scope: Sendable {
        /// Every route: a node without `--admin-port`, or its admin port.
        case everything
        /// The public port of a node with `--admin-port`: the routes a user's token opens, and health.
        case userRoutes
    }

    let conversations: Conversations
    let broadcaster: Broadcaster
    let sockets: Sockets
    let presence: Presence
    let sessionControl: SessionControl
    let erasure: Erasure
    let redisMemory: RedisMemory
    let authenticator: Authenticator
    let metrics: PrometheusCollectorRegistry
    let scope: Scope

    struct NewUser: Decodable {
        var name: String
        var id: String?
    }

    struct NewFriendship: Decodable {
        var user1: String
        var user2: String
        var id: String?
    }

    struct NewBroadcast: Decodable {
        var content: String
        var type: String?
    }

    func register(on router: Router<Context>) {
        router.get("healthz") { _, _ in json(["status": "ok"]) }
        router.get("readyz") { _, _ in
            sockets.isReady
                ? json(["status": "ready"]) : json(["error": "unavailable", "message": "Redis is not connected"], status: .serviceUnavailable)
        }
        let api = router.group("api").add(middleware: APIErrorMiddleware<Context>())
        registerUserRoutes(on: api)
        registerErasureRoutes(on: api)
        guard scope == .everything else { return }
        registerAdminRoutes(on: api)
        registerSessionRoutes(on: api)
        registerRedisRoutes(on: api)
        router.get("metrics") { _, _ in
            var buffer: [UInt8] = []
            metrics.emit(into: &buffer)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
    }

    /// Routes that take only the admin token.
    private func registerAdminRoutes(on api: RouterGroup<Context>) {
        api.post("users") { request, context in
            try authenticator.requireAdmin(request, peer: context.peerAddress)
            let body = try await request.decode(as: NewUser.self, context: context)
            let user = try await conversations.directory.createUser(name: body.name, id: body.id)
            return json(["id": user.id, "name": user.name], status: .created)
        }
        // Not in the contract: operators (`chatrelay user show NAME`) look users up by name.
        api.get("usernames/:name") { request, context in
            try authenticator.requireAdmin(request, peer: context.peerAddress)
            let name = try context.parameters.require("name")
            guard let user = try await conversations.directory.user(named: name) else { throw APIError.notFound("no user named \(name)") }
            return json(["id": user.id, "name": user.name])
        }
        api.post("friendships") { request, context in
            try authenticator.requireAdmin(request, peer: context.peerAddress)
            let body = try await request.decode(as: NewFriendship.self, context: context)
            let (friendship, created) = try await conversations.directory.createFriendship(body.user1, body.user2, id: body.id)
            return json(
                ["id": friendship.id, "user1": friendship.user1, "user2": friendship.user2],
                status: created ? .created : .ok
            )
        }
        api.post("broadcast") { request, context in
            try authenticator.requireAdmin(request, peer: context.peerAddress)
            let body = try await request.decode(as: NewBroadcast.self, context: context)
            guard !body.content.isEmpty, body.content.utf8.count <= conversations.maximumContentBytes else {
                throw APIError.badRequest("content must be 1 to \(conversations.maximumContentBytes) bytes")
            }
            let type = body.type ?? "text"
            guard MessageType(rawValue: type) != nil else { throw APIError.badRequest("type must be text, emoji or file") }
            try await broadcaster.broadcast(content: body.content, type: type)
            return json(["status": "accepted"], status: .accepted)
        }
    }

    /// Routes that a user's token opens (and the admin token, where it is accepted).
    private func registerUserRoutes(on api: RouterGroup<Context>) {
        api.get("users/:id") { request, context in
            let id = try context.parameters.require("id")
            try await authenticator.requireSelf(id, request, peer: context.peerAddress)
            guard let user = try await conversations.directory.user(id) else { throw APIError.notFound("no user \(id)") }
            return json(["id": user.id, "name": user.name])
        }
        api.get("users/:id/friends") { request, context in
            let id = try context.parameters.require("id")
            try await authenticator.requireSelf(id, request, peer: context.peerAddress)
            guard Identifier.isValid(id) else { throw APIError.badRequest("invalid user id") }
            let friends = try await conversations.directory.friends(of: id)
            // Both reads are pipelined: two round trips for any number of friends.
            async let online = presence.areOnline(friends.map(\.user.id))
            async let summaries = conversations.readMarks.summaries(of: id, in: friends.map { ($0.friendship, $0.user.id) })
            let items = zip(friends, zip(try await online, try await summaries)).map { entry, state -> String in
                var writer = JSONWriter()
                writer.field("friend", entry.friendship)
                writer.field("user", entry.user.id)
                writer.field("name", entry.user.name)
                writer.field("online", state.0)
                writer.nullableField("last", state.1.last)
                writer.nullableField("read", state.1.read)
                writer.nullableField("friend_read", state.1.friendRead)
                return writer.finish()
            }
            return rawJSON(#"{"friends":["# + items.joined(separator: ",") + "]}")
        }
        api.get("friendships/:id/messages") { request, context in
            let id = try context.parameters.require("id")
            guard Identifier.isValid(id) else { throw APIError.badRequest("invalid friendship id") }
            guard let friendship = try await conversations.friendships.friendship(id) else { throw APIError.notFound("no friendship \(id)") }
            try await authenticator.requireReader(of: friendship, request, peer: context.peerAddress)
            let query = request.uri.queryParameters
            let before = query.get("before").flatMap { $0.isEmpty ? nil : $0 }
            let after = query.get("after").flatMap { $0.isEmpty ? nil : $0 }
            for cursor in [before, after].compactMap({ $0 }) where !Identifier.isValidStreamID(cursor) {
                throw APIError.badRequest("before and after must be stream ids such as 1732700000000-0")
            }
            let limit = try query.get("limit").map(Self.historyLimit) ?? ClientRequestParser.defaultHistoryLimit
            let messages =
                if let after {
                    try await conversations.store.range(friendship: id, after: after, before: before, limit: limit)
                } else {
                    try await conversations.store.history(friendship: id, before: before, limit: limit)
                }
            return rawJSON(ServerMessage.historyBody(messages, keepingNewest: after == nil))
        }
    }

    /// `limit` as the `history` op takes it: a whole number, over the maximum capped, below 1 refused.
    private static func historyLimit(_ text: String) throws -> Int {
        let digits = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw APIError.badRequest("limit must be a whole number from 1 (at most \(ClientRequestParser.maximumHistoryLimit) are sent)")
        }
        // Past Int's range it is only ever capped (or refused, when negative).
        let requested = Int(text) ?? (text.hasPrefix("-") ? Int.min : Int.max)
        do {
            return try ClientRequestParser.historyLimit(requested)
        } catch {
            throw APIError.badRequest(error.message)
        }
    }
}

func json(_ fields: KeyValuePairs<String, String>, status: HTTPResponse.Status = .ok) -> Response {
    var writer = JSONWriter()
    for (key, value) in fields { writer.field(key, value) }
    return rawJSON(writer.finish(), status: status)
}

func rawJSON(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
    Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
}
