/// Reads a string or number field out of a relay's message without a JSON parser, for clients that must not be the
/// bottleneck (the load generator): the messages it reads are the relay's own, with the fields it looks for free of
/// escapes.
public enum MessageFields {
    /// The value of `"name":"value"` or `"name":123`, as text.
    public static func value(_ name: String, in message: String) -> Substring? {
        guard let marker = message.firstRange(of: "\"\(name)\":") else { return nil }
        var start = marker.upperBound
        guard start < message.endIndex else { return nil }
        if message[start] == "\"" {
            start = message.index(after: start)
            guard let end = message[start...].firstIndex(of: "\"") else { return nil }
            return message[start..<end]
        }
        let end = message[start...].firstIndex(where: { $0 == "," || $0 == "}" }) ?? message.endIndex
        return message[start..<end]
    }

    /// True for a delivered message (it starts with its id, ``MessageLayout``), as against an ack, an error or
    /// another answer.
    public static func isDelivered(_ message: String) -> Bool {
        message.hasPrefix(MessageLayout.idOpen)
    }

    /// The `op` of an answer (`ack`, `error`, `history`, `synced`, `pong`), nil for a delivered message or a broadcast.
    public static func op(_ message: String) -> Substring? {
        message.hasPrefix(#"{"op":""#) ? value("op", in: message) : nil
    }
}
