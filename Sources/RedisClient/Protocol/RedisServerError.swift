/// An error reply from the server, such as `ERR unknown command` or `NOSCRIPT No matching script`.
public struct RedisServerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The whole message the server sent.
    public let message: String

    public init(message: String) {
        self.message = message
    }

    /// The error's first word (`ERR`, `WRONGTYPE`, `NOSCRIPT`, `WRONGPASS`, ...), by Redis convention its kind.
    public var code: String {
        String(message.prefix { $0 != " " })
    }

    public var description: String { "Redis error: \(message)" }
}
