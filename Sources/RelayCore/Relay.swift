import Logging
import Metrics
import RedisClient
import ServiceLifecycle

/// One relay node's core, put together from its configuration: the Redis connections, and the narrow parts the
/// surface hands out (``Sockets`` to the WebSocket side, ``Conversations`` and ``Broadcaster`` to the API).
///
/// Stateless beyond the sockets themselves: everything shared lives in Redis, so any number of nodes run side by side.
public final class Relay: Sendable {
    public let configuration: RelayConfiguration
    public let keys: RedisKeys
    public let redis: RedisClient
    /// With `--min-replicas`: the stores' own connection, where each store is followed by a `WAIT`.
    private let writer: RedisClient?
    public let sockets: Sockets
    public let conversations: Conversations
    public let broadcaster: Broadcaster
    public let tokens: TokenAuthority?
    public let logger: Logger
    public let metrics: RelayMetrics
    /// Who is online, across nodes.
    public let presence: Presence
    private let registry: SocketRegistry

    /// `metricsFactory` receives the node's series and the Redis client's, labelled with the node id.
    public init(
        configuration: RelayConfiguration,
        logger: Logger = Logger(label: "chatrelay"),
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) async throws {
        self.configuration = configuration
        self.logger = logger
        metrics = RelayMetrics(nodeID: configuration.nodeID, factory: metricsFactory)
        let redisMetrics = RedisMetricsSettings(factory: metricsFactory, dimensions: [("node", configuration.nodeID)])
        keys = RedisKeys(prefix: configuration.prefix)
        var redisConfiguration = try RedisConfiguration(url: configuration.redisURL)
        redisConfiguration.clientName = "chatrelay-\(configuration.nodeID)"
        // Published frames go to sockets as they came: room for the WebSocket header in front of each.
        redisConfiguration.pushPayloadHeadroom = FrameBuffer.headerRoom
        redisConfiguration.connectTimeout = .milliseconds(Int64(configuration.redisConnectTimeout * 1000))
        redisConfiguration.commandTimeout = .milliseconds(Int64(configuration.redisCommandTimeout * 1000))
        redis = RedisClient(configuration: redisConfiguration, logger: logger, metrics: redisMetrics)
        if configuration.minimumReplicas > 0 {
            writer = RedisClient(configuration: redisConfiguration, logger: logger, metrics: redisMetrics, role: "writer")
        } else {
            writer = nil
        }
        let store = MessageStore(
            redis: redis,
            keys: keys,
            replicaConfirmation: writer.map {
                ReplicaConfirmation(writer: $0, replicas: configuration.minimumReplicas, timeoutMilliseconds: configuration.replicaWaitMilliseconds)
            }
        )
        let directory = Directory(redis: redis, keys: keys)
        conversations = Conversations(
            directory: directory,
            store: store,
            friendships: FriendshipCache(directory: directory),
            readMarks: ReadMarks(redis: redis, keys: keys),
            maximumContentBytes: configuration.maximumContentBytes
        )
        presence = Presence(
            redis: redis,
            keys: keys,
            nodeID: configuration.nodeID,
            heartbeat: configuration.heartbeat,
            logger: logger,
            metrics: metrics
        )
        registry = SocketRegistry(
            keys: keys,
            redis: redisConfiguration,
            store: store,
            directory: directory,
            logger: logger,
            metrics: metrics,
            redisMetrics: redisMetrics,
            presence: presence
        )
        sockets = Sockets(
            configuration: configuration,
            registry: registry,
            conversations: conversations,
            redis: redis,
            writer: writer,
            logger: logger,
            metrics: metrics
        )
        broadcaster = Broadcaster(redis: redis, keys: keys)
        switch configuration.auth {
        case .jwt:
            guard let secret = configuration.jwtSecret, !secret.isEmpty else {
                throw RelayStartError("--auth jwt needs --jwt-secret (or CHATRELAY_JWT_SECRET)")
            }
            do {
                tokens = try await TokenAuthority(secret: secret)
            } catch {
                throw RelayStartError("--jwt-secret: \(error)")
            }
        case .none:
            tokens = nil
        }
    }

    /// Connects to Redis and subscribes the broadcast channel; throws with the Redis URL when it cannot. The
    /// connections are kept by ``services``.
    public func start() async throws {
        do {
            try await redis.connect()
            try await writer?.connect()
            try await registry.subscriber.connect()
            try await registry.subscriber.subscribe([keys.broadcast])
        } catch {
            throw RelayStartError("cannot reach Redis at \(redis.configuration.redactedURL): \(error)")
        }
    }

    /// The node's long-lived parts, for its `ServiceGroup`, in start order (graceful shutdown goes in reverse): the
    /// command connection, the subscriber with its catch-ups, the presence leases, the heartbeat.
    public var services: [any Service] {
        [redis] + (writer.map { [$0] } ?? []) + [registry, presence, sockets.heartbeats]
    }
}
