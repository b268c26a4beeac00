import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Sharded pub/sub across a Redis Cluster: each channel subscribed (`SSUBSCRIBE`, one channel a command) on the
/// primary that serves its slot, through one ``RedisSubscriber`` per primary.
///
/// A channel whose slot moves is moved with it: the old node's unasked `sunsubscribe` (or a `MOVED` answer to the
/// subscription) makes the map be read again and the channel subscribed on its new owner. Whatever was published in
/// between was missed, and so was anything published while a node's subscriber reconnected: `onInterrupted` names
/// the channels as they stop being live, and `onResubscribed` once they are live again, for their owner to hold live
/// messages meanwhile and catch up from durable storage.
public final class RedisClusterSubscriber: Sendable {
    private struct State {
        /// Each wanted channel, and the node it is subscribed on.
        var homes: [String: RedisEndpoint] = [:]
    }

    private let cluster: RedisClusterClient
    private let template: RedisConfiguration
    private let logger: Logger
    private let metrics: RedisMetricsSettings
    private let onMessage: RedisPushHandler
    private let onResubscribed: @Sendable ([String]) -> Void
    private let onInterrupted: @Sendable ([String]) -> Void
    private let state = Mutex(State())
    private let nodes = ClusterNodeConnections<RedisSubscriber>()
    /// Times a subscription is re-homed after `MOVED` before it fails.
    static let maximumMoves = 5
    /// Tries to subscribe a moved channel on its new owner, 250 ms apart.
    static let maximumRehomeAttempts = 40

    /// `cluster` provides the slot map (and reads it again when it is stale); `configuration` every connection's
    /// settings, its host and port replaced per node.
    public init(
        cluster: RedisClusterClient,
        configuration: RedisConfiguration,
        logger: Logger = Logger(label: "redis-cluster.pubsub"),
        metrics: RedisMetricsSettings = RedisMetricsSettings(),
        onInterrupted: @escaping @Sendable ([String]) -> Void = { _ in },
        onResubscribed: @escaping @Sendable ([String]) -> Void,
        onMessage: @escaping RedisPushHandler
    ) {
        self.cluster = cluster
        template = configuration
        self.logger = logger
        self.metrics = metrics
        self.onMessage = onMessage
        self.onResubscribed = onResubscribed
        self.onInterrupted = onInterrupted
    }

    /// The wanted channels, and where each is subscribed.
    public var homes: [String: RedisEndpoint] { state.withLock { $0.homes } }

    /// Subscribes `channel` on the primary of its slot; returns once that node confirmed it.
    ///
    /// A `MOVED` answer is followed to the node it names: while a slot moves, the nodes asked for the map may not
    /// all know yet.
    public func subscribe(_ channel: String) async throws {
        var moves = 0
        var named: RedisEndpoint?
        while true {
            var node = named
            if node == nil { node = try await owner(of: channel) }
            guard let node else { throw RedisClientError(.notConnected, "no primary serves the slot of \(channel)") }
            let subscriber = try await subscriber(for: node)
            state.withLock { $0.homes[channel] = node }
            do {
                try await subscriber.subscribe([channel])
                return
            } catch let error as RedisServerError where ClusterRedirect(error) != nil && moves < Self.maximumMoves {
                subscriber.forget([channel])
                moves += 1
                named = ClusterRedirect(error)?.endpoint
                _ = try? await cluster.refresh()
            }
        }
    }

    public func unsubscribe(_ channel: String) async throws {
        try await unsubscribeFuture(channel).get()
    }

    /// ``subscribe(_:)`` without suspending while the map names the channel's node and its subscriber exists: calls
    /// made one after the other then reach Redis in that order. Otherwise (and after a `MOVED`) it goes the long way.
    public func subscribeFuture(_ channel: String) -> EventLoopFuture<Void> {
        let loop = MultiThreadedEventLoopGroup.singleton.any()
        let slowly = { () -> EventLoopFuture<Void> in
            let promise = loop.makePromise(of: Void.self)
            promise.completeWithTask { try await self.subscribe(channel) }
            return promise.futureResult
        }
        guard let node = cluster.topology?.primary(for: HashSlot(key: channel)), let subscriber = nodes.existing(node) else {
            return slowly()
        }
        state.withLock { $0.homes[channel] = node }
        return subscriber.subscribeFuture([channel]).flatMapError { error in
            guard (error as? RedisServerError).flatMap(ClusterRedirect.init) != nil else { return loop.makeFailedFuture(error) }
            subscriber.forget([channel])
            return slowly()
        }
    }

    /// Unsubscribes `channel` on the node it is subscribed on.
    public func unsubscribeFuture(_ channel: String) -> EventLoopFuture<Void> {
        let home = state.withLock { $0.homes.removeValue(forKey: channel) }
        guard let subscriber = home.flatMap(nodes.existing) else { return MultiThreadedEventLoopGroup.singleton.any().makeSucceededVoidFuture() }
        return subscriber.unsubscribeFuture([channel])
    }

    /// Drops the connection that carries `channel` (see ``RedisSubscriber/reconnect()``).
    public func reconnect(carrying channel: String) {
        state.withLock { $0.homes[channel] }.flatMap(nodes.existing)?.reconnect()
    }

    /// Connected to every primary that has subscriptions here.
    public var isLive: Bool {
        let used = Set(state.withLock { $0.homes.values })
        return used.allSatisfy { nodes.existing($0)?.state == .connected }
    }

    private func owner(of channel: String) async throws -> RedisEndpoint? {
        if let known = cluster.topology?.primary(for: HashSlot(key: channel)) { return known }
        return try await cluster.refresh().primary(for: HashSlot(key: channel))
    }

    private func subscriber(for node: RedisEndpoint) async throws -> RedisSubscriber {
        try await nodes.connection(for: node) { makeSubscriber(for: node) }
    }

    private func makeSubscriber(for node: RedisEndpoint) -> RedisSubscriber {
        let hasConnected = Mutex(false)
        return RedisSubscriber(
            configuration: template.at(node),
            mode: .sharded,
            logger: logger,
            metrics: metrics,
            onStateChange: { [self] connectionState in
                if connectionState == .reconnecting {
                    let channels = state.withLock { $0.homes.filter { $0.value == node }.map(\.key) }
                    if !channels.isEmpty { onInterrupted(channels) }
                    // The node may be gone for good (a failover): once the map is read again, its channels whose
                    // slots another primary serves now move there.
                    Task { await rehomeAll(leaving: node) }
                    return
                }
                guard connectionState == .connected else { return }
                // After a reconnect every channel of this node is subscribed again, with a gap behind it.
                let reconnected = hasConnected.withLock { seen in
                    defer { seen = true }
                    return seen
                }
                guard reconnected else { return }
                let channels = state.withLock { $0.homes.filter { $0.value == node }.map(\.key) }
                if !channels.isEmpty { onResubscribed(channels) }
            },
            onServerUnsubscribe: { [self] channel in rehome(channel, leaving: node) },
            onMessage: onMessage
        )
    }

    /// After `node`'s subscriber lost its connection: moves every channel whose slot another primary serves now,
    /// reading the map until it names a new owner or the node is back (a failover takes a few seconds).
    private func rehomeAll(leaving node: RedisEndpoint) async {
        for attempt in 0..<20 {
            if attempt > 0 { try? await Task.sleep(for: .milliseconds(500)) }
            guard let topology = try? await cluster.refresh() else { continue }
            let moved = state.withLock { state in
                state.homes.filter { $0.value == node && topology.primary(for: HashSlot(key: $0.key)) != node }.map(\.key)
            }
            let subscriber = nodes.existing(node)
            if !moved.isEmpty {
                subscriber?.forget(moved)
                logger.info(
                    "a primary is gone; subscribing its channels on their new nodes",
                    metadata: ["from": "\(node)", "channels": "\(moved.count)"]
                )
                await resubscribe(moved)
                return
            }
            if subscriber?.state == .connected { return }
        }
    }

    /// The node no longer serves the channel's slot: subscribe it where the slot went, then report the gap.
    private func rehome(_ channel: String, leaving node: RedisEndpoint) {
        guard state.withLock({ $0.homes[channel] == node }), let subscriber = nodes.existing(node) else { return }
        subscriber.forget([channel])
        onInterrupted([channel])
        logger.info("a subscribed slot moved; subscribing on its new node", metadata: ["channel": "\(channel)", "from": "\(node)"])
        Task { await resubscribe([channel]) }
    }
}

extension RedisClusterSubscriber {
    /// Subscribes channels that left their node on their slots' owners now, each tried until it holds (the nodes asked
    /// for the map may not all know of a move yet: a refresh may fail or lag, and a subscription follows `MOVED`),
    /// then reports those that are live again. A channel unsubscribed meanwhile is dropped.
    private func resubscribe(_ channels: [String]) async {
        var live: [String] = []
        for channel in channels {
            var lastError: (any Error)?
            for attempt in 0..<Self.maximumRehomeAttempts {
                if attempt > 0 {
                    try? await Task.sleep(for: .milliseconds(250))
                    _ = try? await cluster.refresh()
                }
                guard state.withLock({ $0.homes[channel] != nil }) else { break }
                do {
                    try await subscribe(channel)
                    live.append(channel)
                    lastError = nil
                    break
                } catch {
                    lastError = error
                }
            }
            if let lastError {
                logger.warning("a moved channel could not be subscribed again", metadata: ["channel": "\(channel)", "error": "\(lastError)"])
            }
        }
        guard !live.isEmpty else { return }
        cluster.clusterMetrics.resubscriptions.increment(by: live.count)
        onResubscribed(live)
    }
}

extension RedisClusterSubscriber: Service {
    /// Keeps every node's subscriber connection until graceful shutdown.
    public func run() async throws {
        await nodes.run {
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
        }
    }
}
