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
        JSONWriter.appendQuoted(value, to: &text)
    }

    public mutating func field(_ name: String, _ value: String?) {
        guard let value else { return }
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
        JSONWriter.appendQuoted(name, to: &text)
        text += ":"
    }

    public static func quoted(_ value: String) -> String {
        var out = ""
        appendQuoted(value, to: &out)
        return out
    }

    /// Writes `value` as a JSON string straight into `buffer`, for frames that never become a `String`.
    public static func writeQuoted(_ value: String, to buffer: inout ByteBuffer) {
        if needsEscaping(value) {
            buffer.writeString(quoted(value))
        } else {
            buffer.writeInteger(UInt8(ascii: "\""))
            buffer.writeString(value)
            buffer.writeInteger(UInt8(ascii: "\""))
        }
    }

    /// A plain loop over the contiguous UTF-8 of native strings: the generic `contains(where:)` was 1.3% of a node.
    static func needsEscaping(_ value: String) -> Bool {
        let found = value.utf8.withContiguousStorageIfAvailable { bytes in
            for byte in bytes where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return true }
            return false
        }
        return found ?? value.utf8.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
    }

    public static func appendQuoted(_ value: String, to out: inout String) {
        out += "\""
        // Fast path: nothing to escape, append as it is.
        if !needsEscaping(value) {
            out += value
        } else {
            appendEscaped(value, to: &out)
        }
        out += "\""
    }

    /// `value` as the inside of a JSON string: itself, without a copy, when nothing needs escaping.
    static func escaped(_ value: String) -> String {
        guard needsEscaping(value) else { return value }
        var out = ""
        appendEscaped(value, to: &out)
        return out
    }

    private static func appendEscaped(_ value: String, to out: inout String) {
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                out.unicodeScalars.append(scalar)
            }
        }
    }
}
