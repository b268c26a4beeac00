import Logging
import RedisClient
import ServiceLifecycle

/// The node's connections to Redis: one server (or the master Sentinels name), or a Redis Cluster. The rest of the
/// node sends commands through ``commands`` and ``writer`` alike on both; what differs is how frames are published
/// (``publisher``) and how channels are subscribed (``makeSubscriber(logger:metrics:events:)``).
enum RedisBackend: Sendable {
    /// `writer`: with `--min-replicas`, the stores' own connection.
    case server(RedisClient, writer: RedisClient?, configuration: RedisConfiguration)
    case cluster(RedisClusterClient, writer: RedisClusterClient?, configuration: RedisConfiguration)

    init(configuration: RedisConfiguration, separateWriter: Bool, logger: Logger, metrics: RedisMetricsSettings) {
        if let seeds = configuration.clusterSeeds {
            let cluster = RedisClusterClient(seeds: seeds, configuration: configuration, logger: logger, metrics: metrics)
            let writer =
                separateWriter
                ? RedisClusterClient(seeds: seeds, configuration: configuration, logger: logger, metrics: metrics, role: "writer") : nil
            self = .cluster(cluster, writer: writer, configuration: configuration)
        } else {
            let redis = RedisClient(configuration: configuration, logger: logger, metrics: metrics)
            let writer = separateWriter ? RedisClient(configuration: configuration, logger: logger, metrics: metrics, role: "writer") : nil
            self = .server(redis, writer: writer, configuration: configuration)
        }
    }

    var commands: any RedisCommands {
        switch self {
        case .server(let redis, _, _): redis
        case .cluster(let cluster, _, _): cluster
        }
    }

    var writer: (any RedisCommands)? {
        switch self {
        case .server(_, let writer, _): writer
        case .cluster(_, let writer, _): writer
        }
    }

    var cluster: RedisClusterClient? {
        if case .cluster(let cluster, _, _) = self { return cluster }
        return nil
    }

    var isCluster: Bool { cluster != nil }

    var publisher: Publisher { Publisher(redis: commands, cluster: isCluster) }

    var redactedURL: String {
        switch self {
        case .server(_, _, let configuration), .cluster(_, _, let configuration): configuration.redactedURL
        }
    }

    /// Commands (and stores) can go out: on a cluster, to every primary.
    var isReady: Bool {
        switch self {
        case .server(let redis, let writer, _): redis.state == .connected && (writer?.state ?? .connected) == .connected
        case .cluster(let cluster, let writer, _): cluster.isReady && writer?.isReady != false
        }
    }

    func connect() async throws {
        switch self {
        case .server(let redis, let writer, _):
            try await redis.connect()
            try await writer?.connect()
        case .cluster(let cluster, let writer, _):
            try await cluster.connect()
            try await writer?.connect()
        }
    }

    var services: [any Service] {
        switch self {
        case .server(let redis, let writer, _): [redis] + (writer.map { [$0] } ?? [])
        case .cluster(let cluster, let writer, _): [cluster] + (writer.map { [$0] } ?? [])
        }
    }

    func makeSubscriber(logger: Logger, metrics: RedisMetricsSettings, events: DeliverySubscriberEvents) -> any DeliverySubscriber {
        switch self {
        case .server(_, _, let configuration):
            ServerDeliverySubscriber(configuration: configuration, logger: logger, metrics: metrics, events: events)
        case .cluster(let cluster, _, let configuration):
            ClusterDeliverySubscriber(cluster: cluster, configuration: configuration, logger: logger, metrics: metrics, events: events)
        }
    }
}
