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
    /// Commands to Redis, routed by key on a cluster.
    public var redis: any RedisCommands { backend.commands }
    let backend: RedisBackend
    public let sockets: Sockets
    public let conversations: Conversations
    public let broadcaster: Broadcaster
    /// Nil under `--auth none`.
    public let tokens: TokenVerifier?
    public let logger: Logger
    public let metrics: RelayMetrics
    /// Who is online, across nodes.
    public let presence: Presence
    /// Ends a user's sessions on every node, and blocks them.
    public let sessionControl: SessionControl
    /// Unfriends and erases users.
    public let erasure: Erasure
    /// Redis's memory, for `/metrics` and the start-up check of its eviction policy.
    public let redisMemory: RedisMemory
    private let registry: SocketRegistry

    /// `metricsFactory` receives the node's series and the Redis client's, labelled with the node id. `keySetFetcher`
    /// makes the HTTP request for `--jwks-url` (the surface's, so that the core holds no HTTP client).
    public init(
        configuration: RelayConfiguration,
        logger: Logger = Logger(label: "chatrelay"),
        metricsFactory: any MetricsFactory = MetricsSystem.factory,
        keySetFetcher: (@Sendable (String) throws -> RemoteKeySet.Fetch)? = nil
    ) async throws {
        self.configuration = configuration
        self.logger = logger
        metrics = RelayMetrics(nodeID: configuration.nodeID, factory: metricsFactory)
        let redisMetrics = RedisMetricsSettings(factory: metricsFactory, dimensions: [("node", configuration.nodeID)])
        keys = RedisKeys(prefix: configuration.prefix)
        switch configuration.auth {
        case .jwt:
            tokens = try await Self.verifier(configuration, logger: logger, metrics: metrics, keySetFetcher: keySetFetcher)
            // A short admin token falls to guessing as a short secret does, throttle or not.
            if let adminToken = configuration.adminToken, adminToken.utf8.count < Self.minimumAdminTokenBytes {
                throw RelayStartError(
                    "--admin-token must be at least \(Self.minimumAdminTokenBytes) bytes under --auth jwt (it is \(adminToken.utf8.count)); make one with: openssl rand -hex 32"
                )
            }
        case .none:
            tokens = nil
        }
        var redisConfiguration = try RedisConfiguration(url: configuration.redisURL)
        if let password = configuration.redisPassword {
            guard redisConfiguration.password == nil else {
                throw RelayStartError("the Redis URL names a password and CHATRELAY_REDIS_PASSWORD_FILE gives another; give one")
            }
            redisConfiguration.password = password
        }
        redisConfiguration.clientName = "chatrelay-\(configuration.nodeID)"
        // Published frames go to sockets as they came: room for the WebSocket header in front of each.
        redisConfiguration.pushPayloadHeadroom = FrameBuffer.headerRoom
        redisConfiguration.connectTimeout = .milliseconds(Int64(configuration.redisConnectTimeout * 1000))
        redisConfiguration.commandTimeout = .milliseconds(Int64(configuration.redisCommandTimeout * 1000))
        let backend = RedisBackend(
            configuration: redisConfiguration,
            separateWriter: configuration.minimumReplicas > 0,
            logger: logger,
            metrics: redisMetrics
        )
        self.backend = backend
        let redis = backend.commands
        let publisher = backend.publisher
        let store = MessageStore(
            redis: redis,
            keys: keys,
            publisher: publisher,
            writer: backend.writer,
            replicaConfirmation: configuration.minimumReplicas > 0
                ? ReplicaConfirmation(replicas: configuration.minimumReplicas, timeoutMilliseconds: configuration.replicaWaitMilliseconds) : nil,
            retention: configuration.retention
        )
        let directory = Directory(redis: redis, keys: keys)
        let friendships = FriendshipCache(directory: directory)
        erasure = Erasure(redis: redis, keys: keys, directory: directory, friendships: friendships, publisher: publisher)
        redisMemory = RedisMemory(backend: backend, keys: keys, logger: logger, metrics: metrics)
        conversations = Conversations(
            directory: directory,
            store: store,
            friendships: friendships,
            readMarks: ReadMarks(redis: redis, keys: keys, publisher: publisher),
            maximumContentBytes: configuration.maximumContentBytes
        )
        presence = Presence(
            redis: redis,
            publisher: publisher,
            keys: keys,
            nodeID: configuration.nodeID,
            heartbeat: configuration.heartbeat,
            logger: logger,
            metrics: metrics
        )
        registry = SocketRegistry(
            keys: keys,
            store: store,
            directory: directory,
            friendships: friendships,
            logger: logger,
            metrics: metrics,
            presence: presence,
            probe: SubscriptionProbe(
                keys: keys,
                instance: presence.instance,
                publisher: publisher,
                cluster: backend.cluster,
                timeout: .milliseconds(Int64(configuration.redisCommandTimeout * 1000)),
                logger: logger,
                metrics: metrics
            ),
            clockSkewAllowance: backend.isCluster ? Self.clusterClockSkewAllowance : 0,
            makeSubscriber: { backend.makeSubscriber(logger: logger, metrics: redisMetrics, events: $0) }
        )
        sockets = Sockets(
            configuration: configuration,
            registry: registry,
            tokens: tokens,
            conversations: conversations,
            backend: backend,
            logger: logger,
            metrics: metrics
        )
        broadcaster = Broadcaster(publisher: publisher, keys: keys)
        sessionControl = SessionControl(redis: redis, publisher: publisher, keys: keys)
    }

    /// Every key the configuration names; `--auth jwt` with none of them refuses to start.
    private static func verifier(
        _ configuration: RelayConfiguration,
        logger: Logger,
        metrics: RelayMetrics,
        keySetFetcher: (@Sendable (String) throws -> RemoteKeySet.Fetch)?
    ) async throws -> TokenVerifier {
        var keys: [VerificationKey] = []
        if let secret = configuration.jwtSecret, !secret.isEmpty {
            do {
                keys.append(try await .sharedSecret(secret))
            } catch {
                throw RelayStartError("--jwt-secret: \(error)")
            }
        }
        for path in configuration.jwtPublicKeyFiles {
            guard let pem = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw RelayStartError("--jwt-public-key: cannot read \(path)")
            }
            do {
                keys.append(try await .publicKey(pem: pem))
            } catch {
                throw RelayStartError("--jwt-public-key \(path): \(error)")
            }
        }
        var keySet: RemoteKeySet?
        if let url = configuration.jwksURL, !url.isEmpty {
            guard let keySetFetcher else { throw RelayStartError("--jwks-url needs an HTTP client, which this build of the node lacks") }
            do {
                keySet = RemoteKeySet(location: url, logger: logger, metrics: metrics, fetch: try keySetFetcher(url))
            } catch {
                throw RelayStartError("--jwks-url \(url): \(error)")
            }
        }
        guard !keys.isEmpty || keySet != nil else {
            throw RelayStartError("--auth jwt needs a key: --jwt-secret, --jwt-public-key or --jwks-url (or their CHATRELAY_* variables)")
        }
        return TokenVerifier(keys: keys, keySet: keySet, audience: configuration.jwtAudience, issuer: configuration.jwtIssuer)
    }

    /// Connects to Redis and subscribes the broadcast channel; throws with the Redis URL when it cannot. The
    /// connections are kept by ``services``.
    public func start() async throws {
        do {
            try await backend.connect()
            try await registry.subscriber.connect()
            try await registry.subscriber.subscribe(keys.broadcast).get()
        } catch {
            throw RelayStartError("cannot reach Redis at \(backend.redactedURL): \(error)")
        }
        await redisMemory.checkAtStart()
        // The start's fetch: a node whose provider is down starts all the same, with the keys it was given.
        await tokens?.keySet?.refreshNow()
    }

    /// The Redis the node uses, without its password.
    public var redactedRedisURL: String { backend.redactedURL }

    /// On a cluster a socket's baseline comes from one primary's clock and its streams' ids from others': how far
    /// those clocks may disagree. A socket opening receives messages stored up to this long before it, rather than
    /// miss one a slower clock dated before it.
    static let clusterClockSkewAllowance: UInt64 = 1000

    /// The node's long-lived parts, for its `ServiceGroup`, in start order (graceful shutdown goes in reverse): the
    /// command connection, the subscriber with its catch-ups, the presence leases, the heartbeat.
    public static let minimumAdminTokenBytes = 32

    public var services: [any Service] {
        backend.services + [registry, presence, sockets.heartbeats, redisMemory] + (tokens?.keySet.map { [$0] } ?? [])
    }
}
