import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

/// Keeps one connection up: ``start()`` makes the first one, and ``run()`` reconnects after every drop, with capped
/// backoff, until graceful shutdown or cancellation.
///
/// `prepare` runs on every new connection before it counts as connected; the subscriber restores its
/// subscriptions there, so a reconnected subscriber reports ready only once they are live again.
///
/// With Sentinels (``RedisConfiguration/sentinel``), every connection asks them for the master first and checks that
/// the server's `ROLE` is `master`; while connected, the keeper asks them again every ``sentinelCheckInterval`` and
/// leaves a server they no longer name (Sentinel's `+switch-master` events can be missed, and a demoted master keeps
/// its connections until it is reconfigured).
final class ConnectionKeeper: Sendable {
    typealias Prepare = @Sendable (RedisConnection) async throws -> Void

    private struct Inner {
        var state: RedisConnectionState = .connecting
        var connection: RedisConnection?
        /// The server connected to, when Sentinels named it.
        var master: RedisEndpoint?
    }

    static let sentinelCheckInterval: Duration = .seconds(1)

    let configuration: RedisConfiguration
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let onPush: RedisPushHandler?
    private let prepare: Prepare
    private let onStateChange: @Sendable (RedisConnectionState) -> Void
    let metrics: RedisMetrics
    private let inner = NIOLockedValueBox(Inner())
    private let sentinel: SentinelResolver?

    init(
        configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger,
        metrics: RedisMetrics,
        onPush: RedisPushHandler? = nil,
        prepare: @escaping Prepare = { _ in },
        onStateChange: @escaping @Sendable (RedisConnectionState) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.metrics = metrics
        self.onPush = onPush
        self.prepare = prepare
        self.onStateChange = onStateChange
        sentinel = configuration.sentinel.map {
            SentinelResolver(settings: $0, connectTimeout: configuration.connectTimeout, logger: logger, metrics: metrics)
        }
    }

    var state: RedisConnectionState { inner.withLockedValue { $0.state } }

    /// The live connection, or nil while there is none.
    var connection: RedisConnection? {
        inner.withLockedValue { $0.state == .connected ? $0.connection : nil }
    }

    var anyEventLoop: any EventLoop { eventLoopGroup.any() }

    /// Makes the first connection; throws when Redis cannot be reached, and then does not retry.
    func start() async throws {
        _ = try await establish()
    }

    /// Connects unless ``start()`` did, then keeps the connection (reconnecting after each drop) until graceful
    /// shutdown or cancellation, and shuts down.
    func run() async throws {
        if state == .connecting { try await start() }
        await withTaskCancellationOrGracefulShutdownHandler {
            await keepAlive()
        } onCancelOrGracefulShutdown: {
            // Closing the connection wakes the loop, which finds the keeper shut down.
            self.markShutdown()?.close(promise: nil)
        }
        await shutdown()
    }

    func shutdown() async {
        let connection = markShutdown()
        await connection?.close()
        await sentinel?.close()
        onStateChange(.shutdown)
    }

    /// Returns the connection to close, if any.
    private func markShutdown() -> RedisConnection? {
        inner.withLockedValue { inner in
            inner.state = .shutdown
            defer { inner.connection = nil }
            return inner.connection
        }
    }

    private var reconnectBackoff: Backoff {
        Backoff(
            initial: .nanoseconds(configuration.initialReconnectDelay.nanoseconds),
            maximum: .nanoseconds(configuration.maximumReconnectDelay.nanoseconds)
        )
    }

    /// Waits for the connection to drop, then reconnects with backoff, for as long as the keeper is not shut down.
    private func keepAlive() async {
        var backoff = reconnectBackoff
        var attempts = 0
        while !Task.isCancelled {
            let (state, connection) = inner.withLockedValue { ($0.state, $0.connection) }
            switch state {
            case .shutdown:
                return
            case .connected:
                if let sentinel, let connection {
                    await followMaster(sentinel, connection)
                } else {
                    try? await connection?.closeFuture.get()
                }
            case .connecting, .reconnecting:
                attempts += 1
                do {
                    _ = try await establish()
                    metrics.reconnects.increment()
                    logger.info("redis connection restored", metadata: ["redis": "\(configuration.redactedURL)", "attempts": "\(attempts)"])
                    attempts = 0
                    backoff = reconnectBackoff
                } catch {
                    logger.debug("reconnect failed", metadata: ["error": "\(error)", "attempt": "\(attempts)"])
                    try? await Task.sleep(for: backoff.nextDelay())
                }
            }
        }
    }

    /// While the connection lives, asks the Sentinels every second which server is the master, and closes the
    /// connection when it is another (the reconnect then goes to the new one).
    private func followMaster(_ sentinel: SentinelResolver, _ connection: RedisConnection) async {
        while connection.channel.isActive, !Task.isCancelled {
            // Looked at every tenth of the interval: a dropped connection is reconnected without waiting for the check.
            for _ in 0..<10 where connection.channel.isActive {
                try? await Task.sleep(for: Self.sentinelCheckInterval / 10)
            }
            guard connection.channel.isActive, !Task.isCancelled else { return }
            let current = inner.withLockedValue { $0.master }
            guard let named = try? await sentinel.masterAddress(on: connection.eventLoop), named != current else { continue }
            logger.info(
                "Sentinel names a new master; reconnecting",
                metadata: ["master": "\(sentinel.settings.masterName)", "from": "\(current.map(String.init(describing:)) ?? "?")", "to": "\(named)"]
            )
            metrics.masterChanges.increment()
            await connection.close()
            return
        }
    }

    private func establish() async throws -> RedisConnection {
        var target = configuration
        if let sentinel { target = configuration.at(try await sentinel.masterAddress(on: eventLoopGroup.any())) }
        let connection = try await RedisConnection.connect(
            configuration: target,
            eventLoop: eventLoopGroup.any(),
            logger: logger,
            metrics: metrics,
            onPush: onPush
        )
        do {
            if sentinel != nil { try await Self.requireMaster(connection) }
            try await prepare(connection)
        } catch {
            await connection.close()
            throw error
        }
        let accepted = inner.withLockedValue { inner -> Bool in
            guard inner.state != .shutdown else { return false }
            inner.state = .connected
            inner.connection = connection
            inner.master = sentinel == nil ? nil : RedisEndpoint(host: target.host, port: target.port)
            return true
        }
        guard accepted else {
            await connection.close()
            throw RedisClientError(.shutdown, "client for \(configuration.redactedURL) was shut down")
        }
        onStateChange(.connected)
        connection.closeFuture.whenComplete { [self] _ in connectionClosed(connection) }
        return connection
    }

    /// The Sentinel client protocol's check: a server that Sentinels named may not be the master yet (or any more).
    private static func requireMaster(_ connection: RedisConnection) async throws {
        let role = try await connection.command("ROLE").array?.first?.string
        guard role == "master" else {
            let endpoint = "\(connection.configuration.host):\(connection.configuration.port)"
            throw RedisClientError(.connectFailed, "\(endpoint) is a \(role ?? "server of unknown role"), not the master")
        }
    }

    private func connectionClosed(_ connection: RedisConnection) {
        let shouldReconnect = inner.withLockedValue { inner -> Bool in
            guard inner.state != .shutdown, inner.connection === connection else { return false }
            inner.state = .reconnecting
            inner.connection = nil
            return true
        }
        guard shouldReconnect else { return }
        logger.warning("redis connection lost; reconnecting", metadata: ["redis": "\(configuration.redactedURL)"])
        onStateChange(.reconnecting)
    }
}
