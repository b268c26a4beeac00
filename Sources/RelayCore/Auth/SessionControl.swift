import Foundation
import RedisClient

/// Ends a user's sessions on every node, and keeps users blocked: the admin's side of the contract's "ended
/// sessions".
///
/// The end goes out on the user's own delivery channel, which exactly the nodes holding a socket of the user
/// subscribe (on one Redis, behind Sentinel, and as a sharded channel on a cluster); they close those sockets with
/// 4003 and forward nothing. A block is a key in the user's slot, `PREFIX:blocked:{id}`, holding when it was set (ms),
/// which every node reads before it answers an upgrade.
public struct SessionControl: Sendable {
    let redis: any RedisCommands
    let publisher: Publisher
    let keys: RedisKeys

    /// Closes every open socket of the user, on every node, with 4003.
    public func disconnect(_ userID: String) async throws {
        try await publisher.publishNow(.string(ServerMessage.sessionEnded), to: keys.deliver(userID))
    }

    /// Refuses the user's upgrades (403) from now on, on every node, and ends their open sockets.
    public func block(_ userID: String) async throws {
        _ = try await redis.command("SET", .string(keys.blocked(userID)), .string(String(Int(Date().timeIntervalSince1970 * 1000))))
        try await disconnect(userID)
    }

    public func unblock(_ userID: String) async throws {
        _ = try await redis.command("DEL", .string(keys.blocked(userID)))
    }

    public func isBlocked(_ userID: String) async throws -> Bool {
        try await redis.command("EXISTS", .string(keys.blocked(userID))) == .integer(1)
    }
}
