import NIOCore

/// One argument of a command: text, raw bytes or an integer.
public enum RedisArgument: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    case string(String)
    case bytes(ByteBuffer)
    case integer(Int)

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .integer(value) }
}

/// Writes commands as RESP arrays of bulk strings, the form every Redis command takes on the wire.
public enum RedisCommandEncoder {
    public static func encode(_ arguments: [RedisArgument], into buffer: inout ByteBuffer) {
        buffer.writeStaticString("*")
        writeDecimal(arguments.count, into: &buffer)
        for argument in arguments {
            switch argument {
            case .string(let text):
                var text = text
                text.withUTF8 { bytes in
                    writeBulkHeader(bytes.count, into: &buffer)
                    buffer.writeBytes(bytes)
                }
            case .bytes(let bytes):
                writeBulkHeader(bytes.readableBytes, into: &buffer)
                buffer.writeImmutableBuffer(bytes)
            case .integer(let value):
                // Integers are short: format once and reuse the digits for the length.
                let digits = String(value)
                writeBulkHeader(digits.utf8.count, into: &buffer)
                buffer.writeString(digits)
            }
            buffer.writeStaticString("\r\n")
        }
    }

    private static func writeBulkHeader(_ length: Int, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("$")
        writeDecimal(length, into: &buffer)
    }

    private static func writeDecimal(_ value: Int, into buffer: inout ByteBuffer) {
        buffer.writeString(String(value))
        buffer.writeStaticString("\r\n")
    }
}
