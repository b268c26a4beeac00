import NIOCore

/// A message pushed on a subscribed channel.
public struct RedisPubSubMessage: Sendable, Hashable {
    /// The channel it was published to.
    public var channel: String
    /// The pattern that matched, for `PSUBSCRIBE` subscriptions.
    public var pattern: String?
    public var payload: ByteBuffer

    public init(channel: String, pattern: String? = nil, payload: ByteBuffer) {
        self.channel = channel
        self.pattern = pattern
        self.payload = payload
    }

    /// Recognises `message`, `smessage` and `pmessage` pushes; anything else is a reply to a command.
    init?(push reply: RedisReply) {
        guard case .array(let parts) = reply, let kind = parts.first?.string else { return nil }
        switch kind {
        case "message", "smessage":
            guard parts.count == 3, let channel = parts[1].string, let payload = parts[2].bytes else { return nil }
            self.init(channel: channel, payload: payload)
        case "pmessage":
            guard parts.count == 4, let pattern = parts[1].string, let channel = parts[2].string, let payload = parts[3].bytes
            else { return nil }
            self.init(channel: channel, pattern: pattern, payload: payload)
        default:
            return nil
        }
    }
}
