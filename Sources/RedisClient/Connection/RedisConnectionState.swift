/// Where a client or subscriber stands; a node reports ready only while it is `connected`.
public enum RedisConnectionState: Sendable, Hashable {
    /// The first connection is being made.
    case connecting
    /// Commands go out; for a subscriber, every subscription is live.
    case connected
    /// The connection dropped; new attempts are made with capped exponential backoff. Commands fail at once.
    case reconnecting
    case shutdown
}
