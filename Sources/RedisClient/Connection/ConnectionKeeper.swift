import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Keeps one connection up: makes the first one, and after a drop reconnects with capped backoff until shut down.
///
/// `prepare` runs on every new connection before it counts as connected; the subscriber restores its
/// subscriptions there, so a reconnected subscriber reports ready only once they are live again.
final class ConnectionKeeper: Sendable {
    typealias Prepare = @Sendable (RedisConnection) async throws -> Void

    private struct Inner {
        var state: RedisConnectionState = .connecting
        var connection: RedisConnection?
        var reconnectTask: Task<Void, Never>?
    }

    let configuration: RedisConfiguration
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let onPush: RedisPushHandler?
    private let prepare: Prepare
    private let onStateChange: @Sendable (RedisConnectionState) -> Void
    private let inner = NIOLockedValueBox(Inner())

    init(
        configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger,
        onPush: RedisPushHandler? = nil,
        prepare: @escaping Prepare = { _ in },
        onStateChange: @escaping @Sendable (RedisConnectionState) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.onPush = onPush
        self.prepare = prepare
        self.onStateChange = onStateChange
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

    func shutdown() async {
        let (connection, task) = inner.withLockedValue { inner in
            inner.state = .shutdown
            defer { inner.connection = nil }
            return (inner.connection, inner.reconnectTask)
        }
        task?.cancel()
        await connection?.close()
        onStateChange(.shutdown)
    }

    private func establish() async throws -> RedisConnection {
        let connection = try await RedisConnection.connect(
            configuration: configuration,
            eventLoop: eventLoopGroup.any(),
            logger: logger,
            onPush: onPush
        )
        do {
            try await prepare(connection)
        } catch {
            await connection.close()
            throw error
        }
        let accepted = inner.withLockedValue { inner -> Bool in
            guard inner.state != .shutdown else { return false }
            inner.state = .connected
            inner.connection = connection
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

    private func connectionClosed(_ connection: RedisConnection) {
        let shouldReconnect = inner.withLockedValue { inner -> Bool in
            guard inner.state != .shutdown, inner.connection === connection else { return false }
            inner.state = .reconnecting
            inner.connection = nil
            inner.reconnectTask = Task { await self.reconnect() }
            return true
        }
        guard shouldReconnect else { return }
        logger.warning("redis connection lost; reconnecting", metadata: ["redis": "\(configuration.redactedURL)"])
        onStateChange(.reconnecting)
    }

    private func reconnect() async {
        var backoff = Backoff(
            initial: .nanoseconds(configuration.initialReconnectDelay.nanoseconds),
            maximum: .nanoseconds(configuration.maximumReconnectDelay.nanoseconds)
        )
        var attempts = 0
        while !Task.isCancelled && state == .reconnecting {
            attempts += 1
            do {
                _ = try await establish()
                logger.info(
                    "redis connection restored",
                    metadata: ["redis": "\(configuration.redactedURL)", "attempts": "\(attempts)"]
                )
                return
            } catch {
                logger.debug("reconnect failed", metadata: ["error": "\(error)", "attempt": "\(attempts)"])
                try? await Task.sleep(for: backoff.nextDelay())
            }
        }
    }
}
