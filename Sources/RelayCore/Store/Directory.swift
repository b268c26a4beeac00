import ChatProtocol
import Foundation
import RedisClient

/// Users and friendships in Redis, as the contract lays them out.
///
/// Each step touches one key (one cluster slot) and the steps are ordered so that a race between two nodes leaves
/// consistent data: the unique index (`username`, `friends`) is claimed first with a conditional write, and the loser
/// undoes its own claim.
public struct Directory: Sendable {
    let redis: any RedisCommands
    let keys: RedisKeys

    public init(redis: any RedisCommands, keys: RedisKeys) {
        self.redis = redis
        self.keys = keys
    }

    /// Names follow the id rule (``Identifier``) plus `.`, so that they fit inside a hash tag.
    public static func isValidName(_ name: String) -> Bool {
        Identifier.isValid(name.replacingOccurrences(of: ".", with: "_"))
    }

    public func createUser(name: String, id requested: String?) async throws -> User {
        guard Self.isValidName(name) else {
            throw DirectoryError.invalid("name must be \(Identifier.rule) .")
        }
        if let requested, !Identifier.isValid(requested) {
            throw DirectoryError.invalid("id must be \(Identifier.rule)")
        }
        let id = requested ?? Identifier.generate()
        let claimed = try await redis.command("SET", .string(keys.username(name)), .string(id), "NX")
        guard !claimed.isNull else { throw DirectoryError.conflict("the name \(name) is taken") }
        let created = try await redis.command("HSETNX", .string(keys.user(id)), "name", .string(name))
        guard created == .integer(1) else {
            _ = try? await redis.command("DEL", .string(keys.username(name)))
            throw DirectoryError.conflict("the id \(id) is taken")
        }
        _ = try await redis.command("HSET", .string(keys.user(id)), "created", .integer(Self.nowMilliseconds()))
        return User(id: id, name: name)
    }

    public func user(_ id: String) async throws -> User? {
        guard Identifier.isValid(id) else { return nil }
        let name = try await redis.command("HGET", .string(keys.user(id)), "name")
        return name.string.map { User(id: id, name: $0) }
    }

    /// The user with this name, if any (names are unique).
    public func user(named name: String) async throws -> User? {
        guard Self.isValidName(name) else { return nil }
        guard let id = try await redis.command("GET", .string(keys.username(name))).string else { return nil }
        return try await user(id)
    }

    /// Creates the friendship, or returns the existing one (`created == false`) if the two are already friends.
    public func createFriendship(_ first: String, _ second: String, id requested: String?) async throws -> (Friendship, created: Bool) {
        for user in [first, second] where !Identifier.isValid(user) {
            throw DirectoryError.invalid("user ids must be \(Identifier.rule)")
        }
        if let requested, !Identifier.isValid(requested) {
            throw DirectoryError.invalid("id must be \(Identifier.rule)")
        }
        guard first != second else { throw DirectoryError.invalid("a user cannot befriend themselves") }
        let (user1, user2) = (min(first, second), max(first, second))
        for user in [user1, user2] where try await self.user(user) == nil {
            throw DirectoryError.notFound("no user \(user)")
        }
        if let existing = try await friendshipID(between: user1, and: user2), let friendship = try await friendship(existing) {
            return (friendship, false)
        }
        let id = requested ?? Identifier.generate()
        let key = keys.friendship(id)
        guard try await redis.command("HSETNX", .string(key), "user1", .string(user1)) == .integer(1) else {
            throw DirectoryError.conflict("the friendship id \(id) is taken")
        }
        _ = try await redis.command("HSET", .string(key), "user2", .string(user2), "created", .integer(Self.nowMilliseconds()))
        let claimed = try await redis.command("HSETNX", .string(keys.friends(user1)), .string(user2), .string(id))
        guard claimed == .integer(1) else {
            // Another node made them friends at the same moment: keep theirs.
            _ = try await redis.command("DEL", .string(key))
            if let theirs = try await friendshipID(between: user1, and: user2), let friendship = try await friendship(theirs) {
                return (friendship, false)
            }
            throw DirectoryError.conflict("the friendship changed while it was created; try again")
        }
        _ = try await redis.command("HSET", .string(keys.friends(user2)), .string(user1), .string(id))
        return (Friendship(id: id, user1: user1, user2: user2), true)
    }

    public func friendship(_ id: String) async throws -> Friendship? {
        guard Identifier.isValid(id) else { return nil }
        let reply = try await redis.command("HMGET", .string(keys.friendship(id)), "user1", "user2")
        guard let fields = reply.array, fields.count == 2, let user1 = fields[0].string, let user2 = fields[1].string else {
            return nil
        }
        return Friendship(id: id, user1: user1, user2: user2)
    }

    /// The user's friends: friendship id, friend's id and name.
    public func friends(of userID: String) async throws -> [(friendship: String, user: User)] {
        guard try await user(userID) != nil else { throw DirectoryError.notFound("no user \(userID)") }
        let reply = try await redis.command("HGETALL", .string(keys.friends(userID)))
        let fields = reply.array ?? []
        var pairs: [(friendship: String, userID: String)] = []
        var index = 0
        while index + 1 < fields.count {
            if let other = fields[index].string, let friendship = fields[index + 1].string { pairs.append((friendship, other)) }
            index += 2
        }
        let names = pairs.map { redis.send(["HGET", .string(keys.user($0.userID)), "name"]) }
        var result: [(friendship: String, user: User)] = []
        for (pair, name) in zip(pairs, names) {
            result.append((pair.friendship, User(id: pair.userID, name: try await name.get().string ?? "")))
        }
        return result.sorted { $0.user.name < $1.user.name }
    }

    /// Every friendship id of the user.
    public func friendshipIDs(of userID: String) async throws -> [String] {
        let reply = try await redis.command("HVALS", .string(keys.friends(userID)))
        return (reply.array ?? []).compactMap(\.string)
    }

    func friendshipID(between user1: String, and user2: String) async throws -> String? {
        try await redis.command("HGET", .string(keys.friends(user1)), .string(user2)).string
    }

    static func nowMilliseconds() -> Int {
        Int(Date().timeIntervalSince1970 * 1000)
    }
}
