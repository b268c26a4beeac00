/// The error codes of the contract's `{"op": "error"}` frame.
public enum ErrorCode: String, Sendable, Hashable, CaseIterable {
    case badJSON = "bad_json"
    case badMessage = "bad_message"
    case forbidden
    case notFriends = "not_friends"
    case rateLimited = "rate_limited"
    case unavailable
    /// A `refresh` whose token is invalid or names another user.
    case badToken = "bad_token"
}
