import Hummingbird
import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Prometheus
import RelayCore
import ServiceLifecycle
import UnixSignals

/// A running relay node: the HTTP and WebSocket server in front of a ``Relay``.
public final class RelayNode: Sendable {
    public let relay: Relay
    public let host: String
    public let port: Int
    private let logger: Logger
    private let metrics: PrometheusCollectorRegistry
    private let bound = NIOLockedValueBox<Int?>(nil)
    private let group = NIOLockedValueBox<ServiceGroup?>(nil)

    public init(relay: Relay, host: String, port: Int, metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), logger: Logger) {
        self.relay = relay
        self.host = host
        self.port = port
        self.metrics = metrics
        self.logger = logger
    }

    /// The port the server listens on, once it does (useful with port 0).
    public var boundPort: Int? { bound.withLockedValue { $0 } }

    /// Runs until `signals` (or ``shutdown()``) drain it: sockets are closed with 1001, then the server stops.
    public func run(gracefulShutdownSignals: [UnixSignal] = [], onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let authenticator = Authenticator(configuration: relay.configuration, tokens: relay.tokens)
        let router = Router(context: RelayRequestContext.self)
        APIRoutes<RelayRequestContext>(
            conversations: relay.conversations,
            broadcaster: relay.broadcaster,
            sockets: relay.sockets,
            presence: relay.presence,
            authenticator: authenticator,
            metrics: metrics
        ).register(on: router)
        WebRoutes<RelayRequestContext>().register(on: router)
        let webSocketRoutes = WebSocketRoutes(sockets: relay.sockets, authenticator: authenticator)
        webSocketRoutes.registerRefusals(on: router)

        let app = Application(
            router: router,
            // Upgraded sockets are served by NIO handlers, not a task each (see RelayChildChannel).
            server: HTTPServerBuilder { responder in
                RelayChildChannel(responder: responder, routes: webSocketRoutes)
            },
            configuration: .init(address: .hostname(host, port: port), serverName: "chatrelay"),
            onServerRunning: { [bound] channel in
                let port = channel.localAddress?.port ?? 0
                bound.withLockedValue { $0 = port }
                onListening(port)
            },
            logger: logger
        )
        // Services stop in reverse order: the drain closes every socket first, so the server has nothing to wait for,
        // and the Redis connections stay until the in-flight stores are answered.
        let serviceGroup = ServiceGroup(
            configuration: .init(
                services: (relay.services + [app, DrainService(sockets: relay.sockets)]).map {
                    ServiceGroupConfiguration.ServiceConfiguration(service: $0)
                },
                gracefulShutdownSignals: gracefulShutdownSignals,
                logger: logger
            )
        )
        group.withLockedValue { $0 = serviceGroup }
        try await serviceGroup.run()
    }

    /// Drains the node as SIGTERM would.
    public func shutdown() async {
        await group.withLockedValue { $0 }?.triggerGracefulShutdown()
    }
}
