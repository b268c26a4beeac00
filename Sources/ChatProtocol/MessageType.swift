/// What `content` holds: the original tutorial's three kinds.
public enum MessageType: String, Sendable, CaseIterable {
    case text
    case emoji
    /// `content` is where the client stored the file (a URL or a JSON string); the relay never stores file bodies.
    case file
}
