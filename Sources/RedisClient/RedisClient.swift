import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// A Redis client for commands: one pipelined connection shared by every caller, reconnected by itself.
///
/// ``connect()`` makes the first connection; ``run()`` keeps it, reconnecting after every drop, until graceful shutdown
/// (run the client in a `ServiceGroup`, or call `run()` in a task of its own).
///
/// While the connection is down, commands fail at once with ``RedisClientError/Kind-swift.enum/notConnected``
/// rather than queueing: the caller (a chat node answering `unavailable`) decides what to do.
public final class RedisClient: Sendable {
    let keeper: ConnectionKeeper
    let scripts = ScriptRegistry()

    public init(
        configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "redis"),
        metrics: RedisMetricsSettings = RedisMetricsSettings(),
        role: String = "commands",
        onStateChange: @escaping @Sendable (RedisConnectionState) -> Void = { _ in }
    ) {
        let scripts = self.scripts
        keeper = ConnectionKeeper(
            configuration: configuration,
            eventLoopGroup: eventLoopGroup,
            logger: logger,
            metrics: RedisMetrics(metrics, role: role),
            prepare: { connection in
                // A restarted Redis has lost its scripts: load them before anyone sends an EVALSHA here.
                for loaded in scripts.loadAll(on: connection) { _ = try await loaded.get() }
            },
            onStateChange: onStateChange
        )
    }

    public var configuration: RedisConfiguration { keeper.configuration }
    public var state: RedisConnectionState { keeper.state }

    /// Connects for the first time; throws a clear error when Redis cannot be reached or refuses the credentials.
    public func connect() async throws {
        try await keeper.start()
    }

    public func shutdown() async {
        await keeper.shutdown()
    }

    /// Connects unless ``connect()`` did, keeps the connection until graceful shutdown or cancellation, then closes
    /// it.
    public func run() async throws {
        try await keeper.run()
    }

    /// Sends a command without suspending; the future fails with ``RedisServerError`` for an error reply.
    public func send(_ arguments: [RedisArgument]) -> EventLoopFuture<RedisReply> {
        guard let connection = keeper.connection else { return keeper.anyEventLoop.makeFailedFuture(notConnected) }
        return connection.send(arguments)
    }

    /// Sends one command and calls `callback` with its reply, on an event loop, without a future in between.
    public func send(_ arguments: [RedisArgument], then callback: @escaping RedisReplyCallback) {
        guard let connection = keeper.connection else {
            let error = notConnected
            return keeper.anyEventLoop.execute { callback(.failure(error)) }
        }
        connection.send(arguments, then: callback)
    }

    private var notConnected: RedisClientError {
        RedisClientError(keeper.state == .shutdown ? .shutdown : .notConnected, "not connected to \(keeper.configuration.redactedURL)")
    }
}

extension RedisClient: RedisCommands {}

extension RedisClient: Service {}
