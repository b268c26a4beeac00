import NIOCore

/// Receives the messages of a connection's subscriptions, on its event loop. The message is handed over, so that
/// its payload, held by nobody else, can be changed in place.
public typealias RedisPushHandler = @Sendable (consuming RedisPubSubMessage) -> Void

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
}
