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

    @Option(name: .customLong(S.host.flag), help: .init(S.host.help)) var host: String?
    @Option(name: .customLong(S.port.flag), help: .init(S.port.help)) var port: Int?
    @Option(name: .customLong(S.redis.flag), help: .init(S.redis.help)) var redis: String?
    @Option(name: .customLong(S.prefix.flag), help: .init(S.prefix.help)) var prefix: String?
    @Option(name: .customLong(S.auth.flag), help: .init(S.auth.help)) var auth: String?
    @Option(name: .customLong(S.jwtSecret.flag), help: .init(S.jwtSecret.help)) var jwtSecret: String?
    @Option(name: .customLong(S.jwtPublicKey.flag), help: .init(S.jwtPublicKey.help)) var jwtPublicKey: String?
    @Option(name: .customLong(S.jwksURL.flag), help: .init(S.jwksURL.help)) var jwksURL: String?
    @Option(name: .customLong(S.jwtAudience.flag), help: .init(S.jwtAudience.help)) var jwtAudience: String?
    @Option(name: .customLong(S.jwtIssuer.flag), help: .init(S.jwtIssuer.help)) var jwtIssuer: String?
    @Option(name: .customLong(S.adminToken.flag), help: .init(S.adminToken.help)) var adminToken: String?
    @Option(name: .customLong(S.historyMaxLen.flag), help: .init(S.historyMaxLen.help)) var historyMaxLen: Int?
    @Option(name: .customLong(S.historyMaxAge.flag), help: .init(S.historyMaxAge.help)) var historyMaxAge: Double?
    @Option(name: .customLong(S.heartbeat.flag), help: .init(S.heartbeat.help)) var heartbeat: Double?
    @Option(name: .customLong(S.minReplicas.flag), help: .init(S.minReplicas.help)) var minReplicas: Int?
    @Option(name: .customLong(S.nodeID.flag), help: .init(S.nodeID.help)) var nodeID: String?
    @Option(name: .customLong(S.rate.flag), help: .init(S.rate.help)) var rate: Double?
    @Option(name: .customLong(S.burst.flag), help: .init(S.burst.help)) var burst: Double?
    @Option(name: .customLong(S.maxContent.flag), help: .init(S.maxContent.help)) var maxContent: Int?
    @Option(name: .customLong(S.maxFrame.flag), help: .init(S.maxFrame.help)) var maxFrame: Int?
    @Option(name: .customLong(S.maxQueue.flag), help: .init(S.maxQueue.help)) var maxQueue: Int?
    @Option(name: .customLong(S.maxQueueBytes.flag), help: .init(S.maxQueueBytes.help)) var maxQueueBytes: Int?
    @Option(name: .customLong(S.maxConnections.flag), help: .init(S.maxConnections.help)) var maxConnections: Int?
    @Option(name: .customLong(S.maxSocketsPerUser.flag), help: .init(S.maxSocketsPerUser.help)) var maxSocketsPerUser: Int?
    @Option(name: .customLong(S.requestTimeout.flag), help: .init(S.requestTimeout.help)) var requestTimeout: Double?
    @Option(name: .customLong(S.allowedOrigins.flag), help: .init(S.allowedOrigins.help)) var allowedOrigins: String?
    @Option(name: .customLong(S.adminPort.flag), help: .init(S.adminPort.help)) var adminPort: Int?
    @Option(name: .customLong(S.adminHost.flag), help: .init(S.adminHost.help)) var adminHost: String?
    @Option(name: .customLong(S.threads.flag), help: .init(S.threads.help)) var threads: Int?
    @Option(name: .customLong(S.logLevel.flag), help: .init(S.logLevel.help)) var logLevel: String?

    private typealias S = ServeSettings

    var flags: ServeFlags {
        var flags = ServeFlags()
        (flags.host, flags.port, flags.redis, flags.prefix, flags.auth) = (host, port, redis, prefix, auth)
        (flags.jwtSecret, flags.adminToken, flags.heartbeat, flags.nodeID) = (jwtSecret, adminToken, heartbeat, nodeID)
        (flags.rate, flags.burst, flags.maxContent, flags.maxFrame) = (rate, burst, maxContent, maxFrame)
        (flags.maxQueue, flags.maxQueueBytes, flags.threads, flags.logLevel) = (maxQueue, maxQueueBytes, threads, logLevel)
        (flags.maxConnections, flags.maxSocketsPerUser, flags.requestTimeout) = (maxConnections, maxSocketsPerUser, requestTimeout)
        (flags.allowedOrigins, flags.adminPort, flags.adminHost) = (allowedOrigins, adminPort, adminHost)
        (flags.jwtPublicKey, flags.jwksURL, flags.jwtAudience, flags.jwtIssuer) = (jwtPublicKey, jwksURL, jwtAudience, jwtIssuer)
        (flags.historyMaxLen, flags.historyMaxAge) = (historyMaxLen, historyMaxAge)
        flags.minReplicas = minReplicas
        return flags
    }

    /// Every setting, resolved once; read before NIO's event loops exist (they cannot be resized later). The open-file
    /// limit is raised first, so that `--max-connections`' default follows the raised limit.
    func options() throws -> ServeOptions {
        FileDescriptorLimit.raiseToHard()
        do {
            return try ServeOptions(flags, environment: ProcessInfo.processInfo.environment)
        } catch let error as ServeSettingError {
            throw ValidationError(error.description)
        }
    }

    func run() async throws {
        try await run(options())
    }

    /// With the settings already resolved (``ChatRelayCommand/main()`` needs the thread count first).
    func run(_ options: ServeOptions) async throws {
        let configuration = options.relay
        let (host, port, level) = (options.host, options.port, options.logLevel)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "chatrelay")
        logger[metadataKey: "node"] = "\(configuration.nodeID)"
        let metrics = PrometheusCollectorRegistry()
        let metricsFactory = PrometheusMetricsFactory(registry: metrics)
        MetricsSystem.bootstrap(metricsFactory)

        let relay: Relay
        do {
            relay = try await Relay(
                configuration: configuration,
                logger: logger,
                metricsFactory: metricsFactory,
                keySetFetcher: KeySetFetcher.fetch(from:)
            )
            try await relay.start()
        } catch {
            FileHandle.standardError.write(Data("chatrelay: \(error)\n".utf8))
            throw ExitCode(1)
        }
        if configuration.auth == .none {
            logger.warning("--auth none: the user id in the path is trusted; never use this in production")
        }
        let node = RelayNode(relay: relay, host: host, port: port, metrics: metrics, logger: logger)
        if let adminPort = configuration.adminPort {
            logger.notice("admin routes and /metrics", metadata: ["host": "\(configuration.adminHost)", "port": "\(adminPort)"])
        }
        let listeningLogger = logger
        try await node.run(gracefulShutdownSignals: [.sigterm, .sigint]) { port in
            let logger = listeningLogger
            logger.notice("listening", metadata: ["host": "\(host)", "port": "\(port)", "redis": "\(relay.redactedRedisURL)"])
        }
    }
}
