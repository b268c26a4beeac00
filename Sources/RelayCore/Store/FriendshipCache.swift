import NIOConcurrencyHelpers

/// Friendships by id, kept per node so that a send costs no Redis round trip to check it.
///
/// A friendship's members never change, but it may end (unfriend, erase): the node forgets it when it unfriends it,
/// when an `unfriended` frame passes through it, and when a store finds it gone (the store script checks, so a stale
/// entry never stores). Only hits are cached: a friendship created after a socket opened is a miss, read from Redis,
/// then cached.
public final class FriendshipCache: Sendable {
    private let entries = NIOLockedValueBox<[String: Friendship]>([:])
    private let directory: Directory
    private let capacity: Int

    public init(directory: Directory, capacity: Int = 100_000) {
        self.directory = directory
        self.capacity = capacity
    }

    /// The friendship if this node has it cached, without asking Redis.
    public func cached(_ id: String) -> Friendship? {
        entries.withLockedValue { $0[id] }
    }

    public func forget(_ id: String) {
        _ = entries.withLockedValue { $0.removeValue(forKey: id) }
    }

    public func friendship(_ id: String) async throws -> Friendship? {
        if let hit = entries.withLockedValue({ $0[id] }) { return hit }
        guard let found = try await directory.friendship(id) else { return nil }
        entries.withLockedValue { entries in
            // Crude but bounded: a full cache starts over rather than tracking recency on every send.
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[id] = found
        }
        return found
    }
}
