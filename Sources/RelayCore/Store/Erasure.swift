import ChatProtocol
import Foundation
import RedisClient

/// Unfriending and erasing users, on one Redis, behind Sentinel and on a cluster, where a user's keys, each friend's
/// keys and each friendship's keys live in different slots: every step touches one slot, and the steps go in an order
/// that a second run finishes whatever the first left, after a node crash or a failover.
///
/// - Unfriend: the members' entries first (each only if it still names this friendship), while the friendship's hash
///   still says who they are; then the friendship's keys, together in its slot; then `unfriended` to both members.
///   Once the hash is gone, the store script refuses the friendship (`not_friends`) on every node. A run cut short
///   leaves the hash, so `DELETE` again finds the friendship and finishes.
/// - Erase: the user's sockets end (4004) and friends see them go offline; every friendship is unfriended, the erased
///   user's own entry for it going last (a run cut short finds the friendship again through it, even once the
///   friendship's keys are gone); the node lists that name them lose them; the name is freed; the user's own keys go,
///   their hash last, so that a run cut short still finds the name the next time.
public struct Erasure: Sendable {
    let redis: any RedisCommands
    let keys: RedisKeys
    let directory: Directory
    let friendships: FriendshipCache
    let publisher: Publisher

    /// Days of cid records a friendship may still have: they expire three days after their day, and a node near
    /// midnight writes the next day's.
    private static let cidDays = -3...1

    /// Removes the friendship; false when there is none.
    public func unfriend(_ id: String) async throws -> Bool {
        guard let friendship = try await directory.friendship(id) else { return false }
        try await remove(friendship)
        return true
    }

    /// `keepingEntryOf` a member: that member's entry goes after the friendship's keys, not before.
    private func remove(_ friendship: Friendship, keepingEntryOf kept: String? = nil) async throws {
        for member in [friendship.user1, friendship.user2] where member != kept {
            try await removeEntry(of: member, for: friendship.other(than: member), naming: friendship.id)
        }
        try await deleteKeys(of: friendship.id)
        if let kept { try await removeEntry(of: kept, for: friendship.other(than: kept), naming: friendship.id) }
        friendships.forget(friendship.id)
        try await announce(friendship.id, to: [friendship.user1, friendship.user2])
    }

    /// Everything of the friendship, in its slot, in one command.
    private func deleteKeys(of friendship: String) async throws {
        let day = Int(Date().timeIntervalSince1970 / 86_400)
        var doomed: [RedisArgument] = [
            .string(keys.friendship(friendship)), .string(keys.history(friendship)), .string(keys.readMarks(friendship)),
        ]
        doomed += Self.cidDays.map { .string(keys.clientIDs(friendship: friendship, day: day + $0)) }
        _ = try await redis.command(["DEL"] + doomed)
    }

    private func announce(_ friendship: String, to members: [String]) async throws {
        let frame = RedisArgument.string(ServerMessage.unfriended(friendship: friendship))
        for member in members { try await publisher.publishNow(frame, to: keys.deliver(member)) }
    }

    /// `user`'s entry for `other`, if it still names `friendship`.
    private func removeEntry(of user: String, for other: String, naming friendship: String) async throws {
        _ = try await redis.run(
            ErasureScripts.removeFieldIfItNames,
            keys: [.string(keys.friends(user))],
            arguments: [.string(other), .string(friendship)]
        )
    }

    /// Erases the user and everything of theirs. Running it again finishes what a run cut short left; a user that
    /// is not there is nothing to do.
    public func erase(_ userID: String) async throws {
        let name = try await redis.command("HGET", .string(keys.user(userID)), "name").string
        let entries = try await redis.command("HGETALL", .string(keys.friends(userID))).array ?? []
        var friends: [(user: String, friendship: String)] = []
        var index = 0
        while index + 1 < entries.count {
            if let user = entries[index].string, let friendship = entries[index + 1].string { friends.append((user, friendship)) }
            index += 2
        }
        try await publisher.publishNow(.string(ServerMessage.sessionErased), to: keys.deliver(userID))
        let offline = RedisArgument.string(ServerMessage.presence(user: userID, online: false, timestamp: Int(WallClock.milliseconds)))
        for friend in friends { try await publisher.publishNow(offline, to: keys.deliver(friend.user)) }
        for friend in friends {
            if let friendship = try await directory.friendship(friend.friendship) {
                try await remove(friendship, keepingEntryOf: userID)
            } else {
                // A run cut short after the friendship's hash went: what else may be left of it goes now.
                try await deleteKeys(of: friend.friendship)
                try await removeEntry(of: friend.user, for: userID, naming: friend.friendship)
                try await removeEntry(of: userID, for: friend.user, naming: friend.friendship)
                try await announce(friend.friendship, to: [userID, friend.user])
            }
        }
        let instances = try await redis.command("ZRANGE", .string(keys.presence(userID)), "0", "-1").array ?? []
        for instance in instances.compactMap(\.string) {
            _ = try await redis.command("SREM", .string(keys.nodeUsers(instance)), .string(userID))
        }
        if let name {
            _ = try await redis.run(ErasureScripts.deleteIfItNames, keys: [.string(keys.username(name))], arguments: [.string(userID)])
        }
        _ = try await redis.command(
            "DEL",
            .string(keys.friends(userID)),
            .string(keys.presence(userID)),
            .string(keys.blocked(userID))
        )
        _ = try await redis.command("DEL", .string(keys.user(userID)))
    }
}

/// Conditional removals, each in one key's slot: an index entry goes only while it still names what is removed, so
/// that an erase racing a new friendship or a new user of the same name takes nothing of theirs.
enum ErasureScripts {
    /// KEYS: a hash. ARGV: field, value. Deletes the field if it holds the value.
    static let removeFieldIfItNames = RedisScript(
        """
        if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end
        return 0
        """
    )

    /// KEYS: a string. ARGV: value. Deletes the key if it holds the value.
    static let deleteIfItNames = RedisScript(
        """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """
    )
}
