/// A failure of the client or the connection rather than of the command.
public struct RedisClientError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The URL could not be parsed.
        case invalidURL
        /// No connection could be made within the connect timeout, or it was refused.
        case connectFailed
        /// The connection closed (or was closed) while the command was pending or before it was sent.
        case connectionClosed
        /// The client is between connections; the command was not sent.
        case notConnected
        /// No reply came within the command timeout; the connection was closed because replies can no longer be matched.
        case commandTimeout
        /// The server sent bytes hiredis could not parse.
        case protocolError
        /// A reply had a shape the caller did not expect.
        case unexpectedReply
        /// The client was shut down.
        case shutdown
        /// hiredis could not allocate its reader: the machine is out of memory.
        case outOfMemory
    }

    public let kind: Kind
    /// What happened, with the endpoint or the reply where it helps.
    public let detail: String

    public init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }

    public var description: String { "Redis client error (\(kind)): \(detail)" }
}
