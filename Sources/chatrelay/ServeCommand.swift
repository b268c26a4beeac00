import ArgumentParser
import Foundation
import Logging
import Metrics
import Prometheus
import RelayCore
import RelayServer
import UnixSignals

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run a relay node. Every flag can also be set with its CHATRELAY_* variable."
    )

    @Option(help: "Address to bind (CHATRELAY_HOST, default 127.0.0.1).") var host: String?
    @Option(help: "HTTP and WebSocket port (CHATRELAY_PORT, default 4000).") var port: Int?
    @Option(help: "Redis URL (CHATRELAY_REDIS_URL, default redis://127.0.0.1:6379/0).") var redis: String?
    @Option(help: "Prefix of every key and channel (CHATRELAY_PREFIX, default chat).") var prefix: String?
    @Option(help: "jwt, or none for local development only (CHATRELAY_AUTH, default jwt).") var auth: String?
    @Option(name: .customLong("jwt-secret"), help: "HS256 secret (CHATRELAY_JWT_SECRET).") var jwtSecret: String?
    @Option(name: .customLong("admin-token"), help: "Bearer token of the admin API (CHATRELAY_ADMIN_TOKEN).") var adminToken: String?
    @Option(help: "Seconds between pings (CHATRELAY_HEARTBEAT, default 10).") var heartbeat: Double?
    @Option(name: .customLong("node-id"), help: "Name in logs and metrics (CHATRELAY_NODE_ID, default host name and pid).") var nodeID: String?
    @Option(help: "Frames per second allowed per socket (CHATRELAY_RATE, default 50; 0 = no limit).") var rate: Double?
    @Option(help: "Burst of frames allowed over the rate (CHATRELAY_BURST, default 100).") var burst: Double?
    @Option(name: .customLong("max-content"), help: "Largest content in bytes (CHATRELAY_MAX_CONTENT, default 16384).") var maxContent: Int?
    @Option(name: .customLong("max-frame"), help: "Largest frame in bytes; larger closes with 1009 (CHATRELAY_MAX_FRAME, default 65536).")
    var maxFrame: Int?
    @Option(
        name: .customLong("max-queue"),
        help: "Frames a slow socket may fall behind before it is closed with 1008 (CHATRELAY_MAX_QUEUE, default 4096)."
    )
    var maxQueue: Int?
    @Option(name: .customLong("max-queue-bytes"), help: "The same bound in bytes (CHATRELAY_MAX_QUEUE_BYTES, default 8388608).")
    var maxQueueBytes: Int?
    @Option(
        help: """
            Event loop threads (CHATRELAY_THREADS, default 1). One loop per node avoids handing every delivery \
            across threads; scale out by running a node per core.
            """
    )
    var threads: Int?
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error (CHATRELAY_LOG_LEVEL, default notice).")
    var logLevel: String?

    /// Read before NIO's event loops exist (they cannot be resized later).
    var eventLoopThreads: Int {
        max(1, threads ?? Environment.value("CHATRELAY_THREADS").flatMap(Int.init) ?? 1)
    }

    func run() async throws {
        var configuration = RelayConfiguration()
        configuration.redisURL = redis ?? Environment.value("CHATRELAY_REDIS_URL") ?? configuration.redisURL
        configuration.prefix = prefix ?? Environment.value("CHATRELAY_PREFIX") ?? configuration.prefix
        let authName = auth ?? Environment.value("CHATRELAY_AUTH") ?? "jwt"
        guard let authMode = AuthMode(rawValue: authName) else { throw ValidationError("--auth must be jwt or none, not \(authName)") }
        configuration.auth = authMode
        configuration.jwtSecret = jwtSecret ?? Environment.value("CHATRELAY_JWT_SECRET")
        configuration.adminToken = adminToken ?? Environment.value("CHATRELAY_ADMIN_TOKEN")
        configuration.heartbeat = heartbeat ?? Environment.value("CHATRELAY_HEARTBEAT").flatMap(Double.init) ?? configuration.heartbeat
        configuration.nodeID = nodeID ?? Environment.value("CHATRELAY_NODE_ID") ?? configuration.nodeID
        configuration.rate = rate ?? Environment.value("CHATRELAY_RATE").flatMap(Double.init) ?? configuration.rate
        configuration.burst = burst ?? Environment.value("CHATRELAY_BURST").flatMap(Double.init) ?? configuration.burst
        configuration.maximumContentBytes =
            maxContent ?? Environment.value("CHATRELAY_MAX_CONTENT").flatMap(Int.init) ?? configuration.maximumContentBytes
        configuration.maximumFrameBytes = maxFrame ?? Environment.value("CHATRELAY_MAX_FRAME").flatMap(Int.init) ?? configuration.maximumFrameBytes
        configuration.maximumQueuedFrames =
            maxQueue ?? Environment.value("CHATRELAY_MAX_QUEUE").flatMap(Int.init) ?? configuration.maximumQueuedFrames
        configuration.maximumQueuedBytes =
            maxQueueBytes ?? Environment.value("CHATRELAY_MAX_QUEUE_BYTES").flatMap(Int.init) ?? configuration.maximumQueuedBytes
        guard configuration.heartbeat > 0 else { throw ValidationError("--heartbeat must be positive") }
        let host = host ?? Environment.value("CHATRELAY_HOST") ?? "127.0.0.1"
        let port = port ?? Environment.value("CHATRELAY_PORT").flatMap(Int.init) ?? 4000

        let levelName = logLevel ?? Environment.value("CHATRELAY_LOG_LEVEL") ?? "notice"
        guard let level = Logger.Level(rawValue: levelName) else { throw ValidationError("unknown --log-level \(levelName)") }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "chatrelay")
        logger[metadataKey: "node"] = "\(configuration.nodeID)"
        let metrics = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics))

        let relay: Relay
        do {
            relay = try await Relay(configuration: configuration, logger: logger)
            try await relay.start()
        } catch {
            FileHandle.standardError.write(Data("chatrelay: \(error)\n".utf8))
            throw ExitCode(1)
        }
        if authMode == .none {
            logger.warning("--auth none: the user id in the path is trusted; never use this in production")
        }
        let node = RelayNode(relay: relay, host: host, port: port, metrics: metrics, logger: logger)
        let listeningLogger = logger
        try await node.run(gracefulShutdownSignals: [.sigterm, .sigint]) { port in
            let logger = listeningLogger
            logger.notice("listening", metadata: ["host": "\(host)", "port": "\(port)", "redis": "\(relay.redis.configuration.redactedURL)"])
        }
    }
}
