import ConnectionGuard
import Hummingbird
import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Prometheus
import RelayCore
import ServiceLifecycle
import UnixSignals

/// A running relay node: the HTTP and WebSocket server in front of a ``Relay``, and with `--admin-port` a second,
/// internal server for the admin routes and `/metrics`.
public final class RelayNode: Sendable {
    public let relay: Relay
    public let host: String
    public let port: Int
    /// The node's TCP connections on its public port, bounded by `--max-connections`.
    public let connections: OpenConnections
    private let logger: Logger
    private let metrics: PrometheusCollectorRegistry
    private let bound = NIOLockedValueBox<Int?>(nil)
    private let boundAdmin = NIOLockedValueBox<Int?>(nil)
    private let group = NIOLockedValueBox<ServiceGroup?>(nil)

    public init(relay: Relay, host: String, port: Int, metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), logger: Logger) {
        self.relay = relay
        self.host = host
        self.port = port
        self.metrics = metrics
        self.logger = logger
        let reserve = RelayConfiguration.reservedFileDescriptors
        connections = OpenConnections(
            maximum: relay.configuration.maximumConnections ?? FileDescriptorLimit.defaultMaximumConnections(reserve: reserve)
        )
    }

    /// The port the server listens on, once it does (useful with port 0).
    public var boundPort: Int? { bound.withLockedValue { $0 } }
    /// The admin port, once it listens; nil without `--admin-port`.
    public var boundAdminPort: Int? { boundAdmin.withLockedValue { $0 } }

    /// Runs until `signals` (or ``shutdown()``) drain it: sockets are closed with 1001, connections still speaking HTTP
    /// are closed, then the servers stop.
    public func run(gracefulShutdownSignals: [UnixSignal] = [], onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let configuration = relay.configuration
        let throttle = AdminThrottle()
        let adminPort = configuration.adminPort
        var publicAuthenticator = Authenticator(configuration: configuration, tokens: relay.tokens, throttle: throttle, metrics: relay.metrics)
        publicAuthenticator.acceptsAdminToken = adminPort == nil
        let router = Router(context: RelayRequestContext.self)
        routes(authenticator: publicAuthenticator, scope: adminPort == nil ? .everything : .userRoutes).register(on: router)
        WebRoutes<RelayRequestContext>().register(on: router)
        let webSocketRoutes = WebSocketRoutes(
            sockets: relay.sockets,
            sessionControl: relay.sessionControl,
            authenticator: publicAuthenticator,
            origins: OriginPolicy(allowedOrigins: configuration.allowedOrigins)
        )
        webSocketRoutes.registerRefusals(on: router)

        let (connections, requestTimeout) = (connections, TimeAmount.nanoseconds(Int64(configuration.requestTimeout * 1e9)))
        let app = Application(
            router: router,
            // Upgraded sockets are served by NIO handlers, not a task each (see RelayChildChannel).
            server: HTTPServerBuilder { responder in
                RelayChildChannel(responder: responder, routes: webSocketRoutes, connections: connections, requestTimeout: requestTimeout)
            },
            configuration: .init(address: .hostname(host, port: port), serverName: "chatrelay"),
            onServerRunning: { [bound] channel in
                let port = channel.localAddress?.port ?? 0
                bound.withLockedValue { $0 = port }
                onListening(port)
            },
            logger: logger
        )
        var services: [any Service] = relay.services + [app]
        if let adminPort {
            let adminRouter = Router(context: RelayRequestContext.self)
            routes(
                authenticator: Authenticator(configuration: configuration, tokens: relay.tokens, throttle: throttle, metrics: relay.metrics),
                scope: .everything
            )
            .register(on: adminRouter)
            services.append(
                Application(
                    router: adminRouter,
                    configuration: .init(address: .hostname(configuration.adminHost, port: adminPort), serverName: "chatrelay-admin"),
                    onServerRunning: { [boundAdmin] channel in boundAdmin.withLockedValue { $0 = channel.localAddress?.port } },
                    logger: logger
                )
            )
        }
        // Services stop in reverse order: the drain closes every socket and HTTP connection first, so the servers
        // have nothing to wait for, and the Redis connections stay until the in-flight stores are answered.
        services.append(DrainService(sockets: relay.sockets, connections: connections, drainTime: .seconds(configuration.drainTime)))
        let serviceGroup = ServiceGroup(
            configuration: .init(
                services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
                gracefulShutdownSignals: gracefulShutdownSignals,
                logger: logger
            )
        )
        group.withLockedValue { $0 = serviceGroup }
        try await serviceGroup.run()
    }

    private func routes(authenticator: Authenticator, scope: APIRoutes<RelayRequestContext>.Scope) -> APIRoutes<RelayRequestContext> {
        APIRoutes<RelayRequestContext>(
            conversations: relay.conversations,
            broadcaster: relay.broadcaster,
            sockets: relay.sockets,
            presence: relay.presence,
            sessionControl: relay.sessionControl,
            erasure: relay.erasure,
            redisMemory: relay.redisMemory,
            authenticator: authenticator,
            metrics: metrics,
            scope: scope
        )
    }

    /// Drains the node as SIGTERM would.
    public func shutdown() async {
        await group.withLockedValue { $0 }?.triggerGracefulShutdown()
    }
}
