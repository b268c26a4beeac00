import NIOCore

/// One reply from Redis, as hiredis parsed it.
///
/// A top-level error reply never reaches callers as a value: ``RedisConnection`` turns it into a thrown
/// ``RedisServerError``. Errors nested inside arrays (the results of `EXEC`, for example) stay values.
public enum RedisReply: Sendable, Hashable {
    case simpleString(String)
    case error(RedisServerError)
    case integer(Int64)
    case bulkString(ByteBuffer)
    case array([RedisReply])
    case null
}

extension RedisReply {
    /// The text of a simple or bulk string (bulk bytes decoded as UTF-8, invalid bytes repaired).
    public var string: String? {
        switch self {
        case .simpleString(let text): text
        case .bulkString(let bytes): String(buffer: bytes)
        default: nil
        }
    }

    public var int: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    public var array: [RedisReply]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    public var bytes: ByteBuffer? {
        switch self {
        case .bulkString(let bytes): bytes
        case .simpleString(let text): ByteBuffer(string: text)
        default: nil
        }
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

extension RedisReply: CustomStringConvertible {
    public var description: String {
        switch self {
        case .simpleString(let text): "+\(text)"
        case .error(let error): "-\(error.message)"
        case .integer(let value): ":\(value)"
        case .bulkString(let bytes): "$\(String(buffer: bytes).debugDescription)"
        case .array(let elements): "[" + elements.map(\.description).joined(separator: ", ") + "]"
        case .null: "(nil)"
        }
    }
}
