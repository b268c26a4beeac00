import Foundation
import RedisClient

/// Publishes to every open socket on every node.
public struct Broadcaster: Sendable {
    let publisher: Publisher
    let keys: RedisKeys

    public func broadcast(content: String, type: String) async throws {
        let frame = ServerMessage.broadcast(content: content, type: type, timestamp: Int(Date().timeIntervalSince1970 * 1000))
        try await publisher.broadcast(.string(frame), to: keys.broadcast)
    }
}
