import ChatProtocol
import Foundation
import Hummingbird
import RelayCore

extension APIRoutes {
    /// Unfriending (admin or a member) and erasing a user (admin or that user): 204 once done on every slot, so a
    /// client that saw an error runs it again and it finishes.
    func registerErasureRoutes(on api: RouterGroup<Context>) {
        api.delete("friendships/:id") { request, context in
            let id = try context.parameters.require("id")
            guard Identifier.isValid(id) else { throw APIError.badRequest("invalid friendship id") }
            guard let friendship = try await conversations.directory.friendship(id) else { throw APIError.notFound("no friendship \(id)") }
            try await authenticator.requireReader(of: friendship, request, peer: context.peerAddress)
            guard try await erasure.unfriend(id) else { throw APIError.notFound("no friendship \(id)") }
            return Response(status: .noContent)
        }
        api.delete("users/:id") { request, context in
            let id = try context.parameters.require("id")
            guard Identifier.isValid(id) else { throw APIError.badRequest("user ids are \(Identifier.rule)") }
            try await authenticator.requireSelf(id, request, peer: context.peerAddress)
            try await erasure.erase(id)
            return Response(status: .noContent)
        }
    }

    /// Not in the contract: what Redis holds, for `chatrelay redis memory` (admin).
    func registerRedisRoutes(on api: RouterGroup<Context>) {
        api.get("redis/memory") { request, context in
            try authenticator.requireAdmin(request, peer: context.peerAddress)
            let sample = request.uri.queryParameters.get("sample").flatMap { Int($0) }.map { min(max($0, 1), 10_000) } ?? 200
            let servers = await redisMemory.servers()
            let history = try await redisMemory.history(sample: sample)
            let body: [String: Any] = [
                "servers": servers.map { ["server": $0.name, "used_bytes": $0.usedBytes, "max_bytes": $0.maximumBytes, "policy": $0.policy] },
                "history": [
                    "streams": history.streams, "sampled": history.sampled, "sampled_bytes": history.sampledBytes,
                    "estimated_bytes": history.estimatedBytes,
                    "largest": history.largest.map { ["friend": $0.friendship, "bytes": $0.bytes] },
                ],
            ]
            return rawJSON(String(decoding: try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]), as: UTF8.self))
        }
    }
}
