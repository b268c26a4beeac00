/// Two users who may message each other; `user1 < user2`.
public struct Friendship: Sendable, Hashable {
    public let id: String
    public let user1: String
    public let user2: String

    public init(id: String, user1: String, user2: String) {
        self.id = id
        self.user1 = min(user1, user2)
        self.user2 = max(user1, user2)
    }

    public func contains(_ user: String) -> Bool { user == user1 || user == user2 }

    /// The member who is not `user`.
    public func other(than user: String) -> String { user == user1 ? user2 : user1 }
}
