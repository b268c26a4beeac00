/// The text of a client's requests, as the contract spells them, for clients that write them without a JSON
/// encoder.
public enum ClientRequestText {
    /// `{"friend":F,"content":C,"cid":ID}` (`cid` left out when nil).
    public static func send(friendship: String, content: String, cid: String? = nil) -> String {
        var text = #"{"friend":"# + quoted(friendship) + #","content":"# + quoted(content)
        if let cid { text += #","cid":"# + quoted(cid) }
        return text + "}"
    }

    /// `text` as a JSON string literal.
    public static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let control where control.value < 0x20:
                let hex = String(control.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
