import Logging
import NIOConcurrencyHelpers
import NIOCore
import RedisClient

/// The node's subscriptions: users' `deliver` channels and the broadcast, on one server (`SUBSCRIBE`) or on the
/// primaries of a cluster (`SSUBSCRIBE`, ``ClusterDeliverySubscriber``). Calls made one after the other reach Redis in
/// that order.
protocol DeliverySubscriber: Sendable {
    func connect() async throws
    /// Keeps the connections until graceful shutdown.
    func run() async throws
    /// Completes once Redis confirmed the subscription.
    func subscribe(_ channel: String) -> EventLoopFuture<Void>
    func unsubscribe(_ channel: String)
    /// Every connection that carries subscriptions is up.
    var isLive: Bool { get }
    /// Drops the connection that carries `channel`: it is made again, its channels subscribed again and caught up.
    func reconnect(carrying channel: String)
}

/// What a ``DeliverySubscriber`` tells the registry besides messages.
struct DeliverySubscriberEvents: Sendable {
    /// Publishes to these channels (nil: every channel) may be missed from now on.
    var interrupted: @Sendable (_ channels: [String]?) -> Void
    /// These channels (nil: every channel) are live again: what was published meanwhile must be read from the streams.
    var resumed: @Sendable (_ channels: [String]?) -> Void
    /// The subscriber shut down.
    var finished: @Sendable () -> Void
    var message: RedisPushHandler
}

/// Classic pub/sub on one server (or the master Sentinels name), through one connection.
struct ServerDeliverySubscriber: DeliverySubscriber {
    let subscriber: RedisSubscriber

    init(configuration: RedisConfiguration, logger: Logger, metrics: RedisMetricsSettings, events: DeliverySubscriberEvents) {
        let hasConnected = NIOLockedValueBox(false)
        subscriber = RedisSubscriber(
            configuration: configuration,
            logger: logger,
            metrics: metrics,
            onStateChange: { state in
                // Called once the lost connection's last push is dispatched, before the new connection exists.
                if state == .reconnecting { events.interrupted(nil) }
                if state == .shutdown { events.finished() }
                guard state == .connected else { return }
                // The first connection has nothing to catch up on; a reconnection may have missed publishes.
                let reconnected = hasConnected.withLockedValue { seen in
                    defer { seen = true }
                    return seen
                }
                if reconnected { events.resumed(nil) }
            },
            onMessage: events.message
        )
    }

    func connect() async throws { try await subscriber.connect() }
    func run() async throws { try await subscriber.run() }
    func subscribe(_ channel: String) -> EventLoopFuture<Void> { subscriber.subscribeFuture([channel]) }
    func unsubscribe(_ channel: String) { _ = subscriber.unsubscribeFuture([channel]) }
    var isLive: Bool { subscriber.state == .connected }
    func reconnect(carrying channel: String) { subscriber.reconnect() }
}

/// Sharded pub/sub on a cluster: each channel on its slot's primary, moved with its slot.
struct ClusterDeliverySubscriber: DeliverySubscriber {
    let subscriber: RedisClusterSubscriber
    private let events: DeliverySubscriberEvents

    init(
        cluster: RedisClusterClient,
        configuration: RedisConfiguration,
        logger: Logger,
        metrics: RedisMetricsSettings,
        events: DeliverySubscriberEvents
    ) {
        self.events = events
        subscriber = RedisClusterSubscriber(
            cluster: cluster,
            configuration: configuration,
            logger: logger,
            metrics: metrics,
            onInterrupted: { events.interrupted($0) },
            onResubscribed: { events.resumed($0) },
            onMessage: events.message
        )
    }

    // The cluster client has read the map and connected; each node's subscriber connects with its first channel.
    func connect() async throws {}

    func run() async throws {
        defer { events.finished() }
        try await subscriber.run()
    }

    func subscribe(_ channel: String) -> EventLoopFuture<Void> { subscriber.subscribeFuture(channel) }
    func unsubscribe(_ channel: String) { _ = subscriber.unsubscribeFuture(channel) }
    var isLive: Bool { subscriber.isLive }
    func reconnect(carrying channel: String) { subscriber.reconnect(carrying: channel) }
}
