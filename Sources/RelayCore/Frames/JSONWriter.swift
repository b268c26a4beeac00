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

    public static func appendQuoted(_ value: String, to out: inout String) {
        out += "\""
        // Fast path: nothing to escape, append as it is.
        if !value.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out += value
        } else {
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
        out += "\""
    }
}
