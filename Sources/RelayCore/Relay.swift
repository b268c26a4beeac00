import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import RedisClient
import ServiceLifecycle

/// One relay node's core: its Redis connections, the sockets it holds, and what they may do.
///
/// Stateless beyond the sockets themselves: everything shared lives in Redis, so any number of nodes run side by side.
public final class Relay: Sendable {
    public let configuration: RelayConfiguration
    public let keys: RedisKeys
    public let redis: RedisClient
    public let registry: SocketRegistry
    public let store: MessageStore
    public let directory: Directory
    public let friendships: FriendshipCache
    public let tokens: TokenAuthority?
    public let heartbeats: HeartbeatMonitor
    public let logger: Logger
    private let draining = NIOLockedValueBox(false)

    /// True once ``shutdown()`` began: sockets still opening are told to go away (1001), not that the node failed.
    public var isDraining: Bool { draining.withLockedValue { $0 } }

    public init(configuration: RelayConfiguration, logger: Logger = Logger(label: "chatrelay")) async throws {
        self.configuration = configuration
        self.logger = logger
        keys = RedisKeys(prefix: configuration.prefix)
        heartbeats = HeartbeatMonitor(period: configuration.heartbeat)
        var redisConfiguration = try RedisConfiguration(url: configuration.redisURL)
        redisConfiguration.clientName = "chatrelay-\(configuration.nodeID)"
        // Published frames go to sockets as they came: room for the WebSocket header in front of each.
        redisConfiguration.pushPayloadHeadroom = FrameBuffer.headerRoom
        redisConfiguration.connectTimeout = .milliseconds(Int64(configuration.redisConnectTimeout * 1000))
        redisConfiguration.commandTimeout = .milliseconds(Int64(configuration.redisCommandTimeout * 1000))
        redis = RedisClient(configuration: redisConfiguration, logger: logger)
        store = MessageStore(redis: redis, keys: keys)
        directory = Directory(redis: redis, keys: keys)
        registry = SocketRegistry(keys: keys, redis: redisConfiguration, store: store, directory: directory, logger: logger)
        friendships = FriendshipCache(directory: directory)
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
            try await registry.subscriber.connect()
            try await registry.subscriber.subscribe([keys.broadcast])
        } catch {
            throw RelayStartError("cannot reach Redis at \(redis.configuration.redactedURL): \(error)")
        }
    }

    /// The node's long-lived parts, for its `ServiceGroup`, in start order (graceful shutdown goes in reverse): the
    /// command connection, the subscriber with its catch-ups, the heartbeat.
    public var services: [any Service] {
        [redis, registry, heartbeats]
    }

    /// Closes every socket with 1001 (going away) and waits (up to `grace`) until they are gone, so that their close
    /// frames are written and their in-flight stores answered. The Redis connections close after, as services.
    public func drain(grace: Duration = .seconds(5)) async {
        draining.withLockedValue { $0 = true }
        for socket in registry.allSockets() { socket.close(.draining) }
        await registry.waitUntilEmpty(within: grace)
    }

    /// Ready while commands go out and the subscriptions are live.
    public var isReady: Bool {
        redis.state == .connected && registry.subscriber.state == .connected
    }

    /// Redis's clock now, as a stream position. Read it before answering a WebSocket upgrade and pass it to
    /// ``open(_:openedAfter:)``: the socket then receives every message stored after its upgrade.
    public func openingInstant() async throws -> StreamID {
        try await registry.redisNow()
    }

    /// Subscribes the user's channel (if this is their first socket here), catches the socket up from
    /// `openedAfter`, and returns the socket's session.
    public func open(_ socket: any RelaySocket, openedAfter: StreamID) async throws -> ClientSession {
        let feed = try await registry.add(socket, openedAfter: openedAfter)
        heartbeats.watch(socket)
        RelayMetrics.openSockets.increment()
        return ClientSession(relay: self, socket: socket, feed: feed)
    }

    public func close(_ socket: any RelaySocket) {
        registry.remove(socket)
        heartbeats.forget(socket)
        RelayMetrics.openSockets.decrement()
    }

    /// Publishes to every open socket on every node.
    public func broadcast(content: String, type: String) async throws {
        let frame = OutboundFrame.broadcast(content: content, type: type, timestamp: Int(Date().timeIntervalSince1970 * 1000))
        _ = try await redis.command("PUBLISH", .string(keys.broadcast), .string(frame))
    }
}
