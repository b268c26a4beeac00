/// A store into a friendship that was unfriended: nothing was stored, and the sender is answered `not_friends`.
public struct FriendshipGone: Error, Sendable {
    public let friendship: String
}
