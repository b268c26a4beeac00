import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Pub/sub on a connection of its own, with the subscriptions kept across reconnects.
///
/// The subscriber remembers which channels it was asked for. After a reconnect it subscribes to all of them again
/// before it reports ``RedisConnectionState/connected``, and then calls `onStateChange(.connected)`: the moment to
/// catch up on whatever was published while it was away (pub/sub itself keeps nothing).
///
/// Messages reach `onMessage` on the connection's event loop, in publish order per channel: keep the handler short.
///
/// In sharded mode a cluster node ends subscriptions by itself when their slot moves (an unasked `sunsubscribe`):
/// `onServerUnsubscribe` hears of each channel this subscriber still wants, so that its owner can subscribe it on the
/// slot's new node and catch up on what it missed. (The subscriber's own `SUNSUBSCRIBE` is not waited for: its
/// confirmations come the same way, and are told apart by the channel no longer being wanted. A channel unsubscribed
/// and subscribed again at once may be reported once too many; subscribing it again is harmless.)
public final class RedisSubscriber: Sendable {
    /// `SUBSCRIBE` on a single Redis, `SSUBSCRIBE` (sharded pub/sub, Redis 7) where channels live in cluster slots.
    public enum Mode: Sendable {
        case classic
        case sharded

        var subscribe: RedisArgument { self == .classic ? "SUBSCRIBE" : "SSUBSCRIBE" }
        var unsubscribe: RedisArgument { self == .classic ? "UNSUBSCRIBE" : "SUNSUBSCRIBE" }
        /// Replies an unsubscribe of `count` channels waits for: none in sharded mode, where its confirmations
        /// arrive as pushes (see the type's notes).
        func unsubscribeReplies(_ count: Int) -> Int { self == .classic ? count : 0 }
    }

    private struct Interest {
        var channels: Set<String> = []
        /// The connection subscriptions go to; a stale one only makes sends fail until the next is prepared.
        var connection: RedisConnection?
    }

    private let interest: NIOLockedValueBox<Interest>
    private let keeper: ConnectionKeeper
    private let mode: Mode

    public init(
        configuration: RedisConfiguration,
        mode: Mode = .classic,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "redis.pubsub"),
        metrics: RedisMetricsSettings = RedisMetricsSettings(),
        onStateChange: @escaping @Sendable (RedisConnectionState) -> Void = { _ in },
        onServerUnsubscribe: @escaping @Sendable (String) -> Void = { _ in },
        onMessage: @escaping RedisPushHandler
    ) {
        let interest = NIOLockedValueBox(Interest())
        self.interest = interest
        self.mode = mode
        keeper = ConnectionKeeper(
            configuration: configuration,
            eventLoopGroup: eventLoopGroup,
            logger: logger,
            metrics: RedisMetrics(metrics, role: "subscriber"),
            onPush: { message in
                guard message.kind == .shardedUnsubscribe else { return onMessage(message) }
                if interest.withLockedValue({ $0.channels.contains(message.channel) }) { onServerUnsubscribe(message.channel) }
            },
            prepare: { connection in
                // Sending under the lock keeps the order of (un)subscribes on the wire the order of the calls.
                let restored = interest.withLockedValue { interest -> EventLoopFuture<RedisReply>? in
                    interest.connection = connection
                    guard !interest.channels.isEmpty else { return nil }
                    let channels = interest.channels.sorted()
                    return connection.send([mode.subscribe] + channels.map { .string($0) }, expectedReplies: channels.count)
                }
                _ = try await restored?.get()
            },
            onStateChange: onStateChange
        )
    }

    /// A subscriber whose messages come out of an `AsyncStream` instead of a handler.
    public static func makeStream(
        configuration: RedisConfiguration,
        mode: Mode = .classic,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "redis.pubsub")
    ) -> (RedisSubscriber, AsyncStream<RedisPubSubMessage>) {
        let (stream, continuation) = AsyncStream.makeStream(of: RedisPubSubMessage.self)
        let subscriber = RedisSubscriber(
            configuration: configuration,
            mode: mode,
            eventLoopGroup: eventLoopGroup,
            logger: logger,
            onStateChange: { state in if state == .shutdown { continuation.finish() } },
            onMessage: { message in continuation.yield(message) }
        )
        return (subscriber, stream)
    }

    public var state: RedisConnectionState { keeper.state }

    /// The channels this subscriber is asked to listen to, live or waiting for a reconnect.
    public var channels: Set<String> { interest.withLockedValue { $0.channels } }

    public func connect() async throws {
        try await keeper.start()
    }

    public func shutdown() async {
        await keeper.shutdown()
    }

    /// Connects unless ``connect()`` did, keeps the connection (resubscribing after every drop) until graceful
    /// shutdown or cancellation, then closes it.
    public func run() async throws {
        try await keeper.run()
    }

    /// Drops the connection (one that no longer delivers, say): it is made again and every channel subscribed again,
    /// as after any lost connection.
    public func reconnect() {
        keeper.connection?.close(promise: nil)
    }

    /// Subscribes and returns once Redis has confirmed every channel.
    ///
    /// When the connection is down it throws, but the channels are remembered and subscribed on reconnect;
    /// call ``unsubscribe(_:)`` to drop them.
    public func subscribe(_ channels: [String]) async throws {
        guard !channels.isEmpty else { return }
        _ = try await change(channels, command: mode.subscribe, replies: channels.count) { $0.formUnion(channels) }.get()
    }

    public func unsubscribe(_ channels: [String]) async throws {
        guard !channels.isEmpty else { return }
        _ = try await change(channels, command: mode.unsubscribe, replies: mode.unsubscribeReplies(channels.count)) { $0.subtract(channels) }.get()
    }

    /// Drops channels the server already unsubscribed (a moved slot), without a command: they are not subscribed
    /// again on reconnect.
    public func forget(_ channels: [String]) {
        interest.withLockedValue { interest in
            let before = interest.channels.count
            interest.channels.subtract(channels)
            keeper.metrics.subscriptions.increment(by: Double(interest.channels.count - before))
        }
    }

    /// ``subscribe(_:)`` without suspending: calls made one after the other reach Redis in that order.
    public func subscribeFuture(_ channels: [String]) -> EventLoopFuture<Void> {
        change(channels, command: mode.subscribe, replies: channels.count) { $0.formUnion(channels) }.map { _ in }
    }

    public func unsubscribeFuture(_ channels: [String]) -> EventLoopFuture<Void> {
        change(channels, command: mode.unsubscribe, replies: mode.unsubscribeReplies(channels.count)) { $0.subtract(channels) }.map { _ in }
    }

    private func change(
        _ channels: [String],
        command: RedisArgument,
        replies: Int,
        update: (inout Set<String>) -> Void
    ) -> EventLoopFuture<RedisReply> {
        let sent = interest.withLockedValue { interest -> EventLoopFuture<RedisReply>? in
            let before = interest.channels.count
            update(&interest.channels)
            keeper.metrics.subscriptions.increment(by: Double(interest.channels.count - before))
            guard keeper.state != .shutdown, let connection = interest.connection else { return nil }
            return connection.send([command] + channels.map { .string($0) }, expectedReplies: replies)
        }
        if let sent { return sent }
        let error = RedisClientError(
            keeper.state == .shutdown ? .shutdown : .notConnected,
            "subscriber not connected to \(keeper.configuration.redactedURL); will subscribe on reconnect"
        )
        return keeper.anyEventLoop.makeFailedFuture(error)
    }
}

extension RedisSubscriber: Service {}
