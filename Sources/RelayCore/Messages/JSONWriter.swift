import ChatProtocol
import NIOCore

/// Builds JSON text by appending fields in a fixed order, the way every outbound frame is made.
///
/// Frames are small and their shapes fixed, so writing them by hand keeps the field order of the contract and
/// costs one string a frame; `JSONEncoder` is kept for the HTTP API.
public struct JSONWriter {
    public private(set) var text: String
    private var needsComma = false

    public init(capacity: Int = 128) {
        text = "{"
        text.reserveCapacity(capacity)
    }

    public mutating func field(_ name: String, _ value: String) {
        key(name)
        JSONString.appendQuoted(value, to: &text)
    }

    public mutating func field(_ name: String, _ value: String?) {
        guard let value else { return }
        field(name, value)
    }

    /// Writes `null` for nil, where a field is always present (`field(_:_:)` with an optional leaves it out).
    public mutating func nullableField(_ name: String, _ value: String?) {
        guard let value else { return rawField(name, "null") }
        field(name, value)
    }

    public mutating func field(_ name: String, _ value: Int) {
        key(name)
        text += String(value)
    }

    public mutating func field(_ name: String, _ value: Bool) {
        key(name)
        text += value ? "true" : "false"
    }

    /// Writes `value`, which must already be JSON text, as the field's value.
    public mutating func rawField(_ name: String, _ json: String) {
        key(name)
        text += json
    }

    public mutating func finish() -> String {
        text += "}"
        return text
    }

    private mutating func key(_ name: String) {
        if needsComma { text += "," }
        needsComma = true
        JSONString.appendQuoted(name, to: &text)
        text += ":"
    }

    /// Writes `value` as a JSON string straight into `buffer`, for frames that never become a `String`.
    public static func writeQuoted(_ value: String, to buffer: inout ByteBuffer) {
        if JSONString.needsEscaping(value) {
            buffer.writeString(JSONString.quoted(value))
        } else {
            buffer.writeInteger(UInt8(ascii: "\""))
            buffer.writeString(value)
            buffer.writeInteger(UInt8(ascii: "\""))
        }
    }
}
