import NIOCore

/// Receives the messages of a connection's subscriptions, on its event loop. The message is handed over, so that
/// its payload, held by nobody else, can be changed in place.
public typealias RedisPushHandler = @Sendable (consuming RedisPubSubMessage) -> Void

/// A message pushed on a subscribed channel, or the server's word that a sharded channel is no longer subscribed.
public struct RedisPubSubMessage: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case message
        /// `sunsubscribe CHANNEL COUNT`: on a cluster, the channel's slot moved away from this node (or the node lost
        /// its primary role), or the confirmation of this client's own `SUNSUBSCRIBE`. The payload is empty.
        case shardedUnsubscribe
    }

    public var kind: Kind = .message
    /// The channel it was published to.
    public var channel: String
    /// The pattern that matched, for `PSUBSCRIBE` subscriptions.
    public var pattern: String?
    public var payload: ByteBuffer

    public init(channel: String, pattern: String? = nil, payload: ByteBuffer, kind: Kind = .message) {
        self.kind = kind
        self.channel = channel
        self.pattern = pattern
        self.payload = payload
    }
}
