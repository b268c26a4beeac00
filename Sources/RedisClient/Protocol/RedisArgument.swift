import NIOCore

/// One argument of a command: text, raw bytes or an integer.
public enum RedisArgument: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    case string(String)
    case bytes(ByteBuffer)
    case integer(Int)

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .integer(value) }
}

extension RedisArgument {
    var encodedLength: Int {
        switch self {
        case .string(let text): text.utf8.count
        case .bytes(let bytes): bytes.readableBytes
        case .integer(let value): RedisCommandEncoder.digits(value)
        }
    }
}
