import Foundation
import RedisClient

/// Publishes to every open socket on every node.
public struct Broadcaster: Sendable {
    let redis: RedisClient
    let keys: RedisKeys

    public func broadcast(content: String, type: String) async throws {
        let frame = ServerMessage.broadcast(content: content, type: type, timestamp: Int(Date().timeIntervalSince1970 * 1000))
        _ = try await redis.command("PUBLISH", .string(keys.broadcast), .string(frame))
    }
}
