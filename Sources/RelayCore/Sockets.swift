import ChatProtocol
import Logging
import NIOConcurrencyHelpers
import RedisClient

/// The sockets of this node: opening them (subscription and catch-up) with their sessions, their heartbeats, closing
/// them, and the drain.
public final class Sockets: Sendable {
    /// The limits a socket and its session work within (frame and content sizes, queue bounds, the send rate).
    public let configuration: RelayConfiguration
    /// Pings every socket, and closes each when its token expires.
    public let heartbeats: HeartbeatMonitor
    public let logger: Logger
    public let metrics: RelayMetrics
    /// Each user's sockets and frame rate on this node, admitted before the upgrade's answer.
    public let allowances: UserAllowances
    let registry: SocketRegistry
    private let sessionContext: SessionContext
    private let backend: RedisBackend
    private let draining = NIOLockedValueBox(false)

    init(
        configuration: RelayConfiguration,
        registry: SocketRegistry,
        tokens: TokenVerifier?,
        conversations: Conversations,
        backend: RedisBackend,
        logger: Logger,
        metrics: RelayMetrics
    ) {
        self.metrics = metrics
        self.configuration = configuration
        self.registry = registry
        let allowances = UserAllowances(
            maximumSocketsPerUser: configuration.maximumSocketsPerUser,
            rate: configuration.rate,
            burst: configuration.burst
        )
        self.allowances = allowances
        let heartbeats = HeartbeatMonitor(period: configuration.heartbeat, metrics: metrics)
        self.heartbeats = heartbeats
        sessionContext = SessionContext(
            conversations: conversations,
            configuration: configuration,
            allowances: allowances,
            tokens: tokens,
            heartbeats: heartbeats,
            logger: logger,
            metrics: metrics
        )
        self.backend = backend
        self.logger = logger
    }

    public var count: Int { registry.socketCount }

    /// True once ``drain(grace:)`` began: sockets still opening are told to go away (1001), not that the node failed.
    public var isDraining: Bool { draining.withLockedValue { $0 } }

    /// Ready while commands (and stores) go out, the subscriptions' connections are up, and their probes came back.
    public var isReady: Bool {
        backend.isReady && registry.subscriber.isLive && registry.probe.isHealthy
    }

    /// Redis's clock now, as a stream position. Read it before answering a WebSocket upgrade and pass it to
    /// ``open(_:openedAfter:)``: the socket then receives every message stored after its upgrade.
    public func openingInstant() async throws -> StreamID {
        try await registry.redisNow()
    }

    /// Subscribes the user's channel (if this is their first socket here), catches the socket up from
    /// `openedAfter`, and returns the socket's session, which spends `allowance` (the user's rate, shared with their
    /// other sockets here). A socket opened with a token ends at `expiresAt` (Unix seconds) unless refreshed.
    public func open(
        _ socket: any RelaySocket,
        openedAfter: StreamID,
        allowance: UserAllowance,
        expiresAt: Int64? = nil
    ) async throws -> ClientSession {
        let feed = try await registry.add(socket, openedAfter: openedAfter)
        heartbeats.watch(socket, expiresAt: expiresAt)
        metrics.openSockets.increment()
        metrics.socketOpens.increment()
        return ClientSession(context: sessionContext, socket: socket, feed: feed, allowance: allowance)
    }

    /// The socket's session ends, for `reason`.
    public func close(_ socket: any RelaySocket, reason: SocketCloseReason) {
        registry.remove(socket)
        heartbeats.forget(socket)
        metrics.openSockets.decrement()
        metrics.closed(reason)
    }

    /// Closes every socket with 1001 (going away) and waits (up to `grace`) until they are gone, so that their close
    /// frames are written and their in-flight stores answered.
    public func drain(grace: Duration) async {
        draining.withLockedValue { $0 = true }
        for socket in registry.allSockets() { socket.close(.draining) }
        await registry.waitUntilEmpty(within: grace)
    }
}
