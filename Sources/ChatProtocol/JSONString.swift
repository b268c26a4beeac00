/// JSON string literals (RFC 8259): the one escaping the relay writes its messages with and clients write their
/// requests with.
public enum JSONString {
    /// `value` as a JSON string literal, quotes included.
    public static func quoted(_ value: String) -> String {
        var out = ""
        appendQuoted(value, to: &out)
        return out
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
    public static func escaped(_ value: String) -> String {
        guard needsEscaping(value) else { return value }
        var out = ""
        appendEscaped(value, to: &out)
        return out
    }

    /// A plain loop over the contiguous UTF-8 of native strings: the generic `contains(where:)` was 1.3% of a node.
    public static func needsEscaping(_ value: String) -> Bool {
        let found = value.utf8.withContiguousStorageIfAvailable { bytes in
            for byte in bytes where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return true }
            return false
        }
        return found ?? value.utf8.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
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
