/// Users, friendships and their history, as the API and the sessions use them: the directory, the message store and
/// the friendship cache, and nothing of sockets.
public struct Conversations: Sendable {
    public let directory: Directory
    public let store: MessageStore
    public let friendships: FriendshipCache
    public let readMarks: ReadMarks
    /// The largest content a message (or a broadcast) may have.
    public let maximumContentBytes: Int
}
