import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// One TCP connection to Redis, shared by any number of concurrent callers.
///
/// Callers on any thread append their encoded command to an outbox; the first one to find it empty schedules a
/// drain on the event loop, which writes and flushes everything gathered by then in one go. So commands issued
/// together cost one write and one round trip, and replies are matched in order by ``RedisChannelHandler``.
public final class RedisConnection: Sendable {
    public let channel: any Channel
    public let configuration: RedisConfiguration
    private let handler: NIOLoopBound<RedisChannelHandler>
    private let outbox: NIOLockedValueBox<Outbox>

    private struct Outbox {
        var bytes: ByteBuffer
        var commands: [(responder: RedisResponder, expectedReplies: Int)] = []
        var closed = false
    }

    public var eventLoop: any EventLoop { channel.eventLoop }
    public var closeFuture: EventLoopFuture<Void> { channel.closeFuture }

    private init(channel: any Channel, handler: RedisChannelHandler, configuration: RedisConfiguration) {
        self.channel = channel
        self.configuration = configuration
        self.handler = NIOLoopBound(handler, eventLoop: channel.eventLoop)
        self.outbox = NIOLockedValueBox(Outbox(bytes: channel.allocator.buffer(capacity: 0)))
        channel.closeFuture.whenComplete { [outbox] _ in
            outbox.withLockedValue { $0.closed = true }
        }
    }

    /// Connects, authenticates, selects the database and names the client; throws if any step fails.
    /// - Parameter onPush: for a subscriber connection, receives the messages of its subscriptions on the event loop.
    public static func connect(
        configuration: RedisConfiguration,
        eventLoop: any EventLoop,
        logger: Logger = Logger(label: "redis"),
        metrics: RedisMetricsSettings = RedisMetricsSettings(),
        onPush: RedisPushHandler? = nil
    ) async throws -> RedisConnection {
        try await connect(
            configuration: configuration,
            eventLoop: eventLoop,
            logger: logger,
            metrics: RedisMetrics(metrics, role: "connection"),
            onPush: onPush
        )
    }

    static func connect(
        configuration: RedisConfiguration,
        eventLoop: any EventLoop,
        logger: Logger,
        metrics: RedisMetrics,
        onPush: RedisPushHandler?
    ) async throws -> RedisConnection {
        let endpoint = configuration.redactedURL
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(configuration.connectTimeout)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                // One Redis connection carries the replies (or pushes) of a whole node and shares its event loop with
                // many client sockets: let it drain up to 16 reads of up to 1 MiB per loop turn, not 4 small ones, or
                // a subscriber falls behind and Redis drops it at its pub/sub output limit.
                .channelOption(.maxMessagesPerRead, value: 16)
                .channelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 16 * 1024, maximum: 1 << 20))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = try RedisChannelHandler(
                            endpoint: endpoint,
                            commandTimeout: configuration.commandTimeout,
                            pushPayloadHeadroom: configuration.pushPayloadHeadroom,
                            metrics: metrics,
                            leavesReadOnlyServer: configuration.sentinel != nil,
                            onPush: onPush
                        )
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                }
                .connect(host: configuration.host, port: configuration.port)
                .get()
        } catch {
            throw RedisClientError(.connectFailed, "cannot connect to \(endpoint): \(error)")
        }
        // NIOLoopBound wants to be made on its event loop.
        let connection = try await channel.eventLoop.submit {
            let handler = try channel.pipeline.syncOperations.handler(type: RedisChannelHandler.self)
            return RedisConnection(channel: channel, handler: handler, configuration: configuration)
        }.get()
        do {
            try await connection.handshake()
        } catch {
            try? await channel.close()
            throw error
        }
        logger.debug("connected", metadata: ["redis": "\(endpoint)"])
        return connection
    }

    private func handshake() async throws {
        var steps: [[RedisArgument]] = []
        if let password = configuration.password {
            steps.append(configuration.username.map { ["AUTH", .string($0), .string(password)] } ?? ["AUTH", .string(password)])
        }
        if configuration.database != 0 { steps.append(["SELECT", .integer(configuration.database)]) }
        if let name = configuration.clientName { steps.append(["CLIENT", "SETNAME", .string(name)]) }
        // PING proves the server is ready (not loading, not asking for a password we did not give).
        steps.append(["PING"])
        let replies = steps.map { send($0) }
        for (step, reply) in zip(steps, replies) {
            do {
                _ = try await reply.get()
            } catch let error as RedisServerError {
                let what = step.first == "AUTH" ? "authentication" : "connection set-up"
                throw RedisClientError(.connectFailed, "\(what) with \(configuration.redactedURL) failed: \(error.message)")
            }
        }
    }

    /// Sends one command; the future fails with ``RedisServerError`` for an error reply.
    public func send(_ arguments: [RedisArgument]) -> EventLoopFuture<RedisReply> {
        send(arguments, expectedReplies: 1)
    }

    /// Sends a command answered by several replies (one confirmation per channel of `SUBSCRIBE a b c`); the future
    /// holds the last.
    public func send(_ arguments: [RedisArgument], expectedReplies: Int) -> EventLoopFuture<RedisReply> {
        let promise = channel.eventLoop.makePromise(of: RedisReply.self)
        send(arguments, expectedReplies: expectedReplies, responder: .promise(promise))
        return promise.futureResult
    }

    /// Sends one command and calls `callback` with its reply on the connection's event loop: no future in between,
    /// for callers on the hot path.
    public func send(_ arguments: [RedisArgument], then callback: @escaping RedisReplyCallback) {
        send(arguments, expectedReplies: 1, responder: .callback(callback))
    }

    /// `expectedReplies` 0: a command whose answers come as pushes (a sharded subscriber's `SUNSUBSCRIBE`); it
    /// succeeds once queued.
    private func send(_ arguments: [RedisArgument], expectedReplies: Int, responder: RedisResponder) {
        let mustSchedule = outbox.withLockedValue { box -> Bool? in
            guard !box.closed else { return nil }
            let wasEmpty = box.bytes.readableBytes == 0
            RedisCommandEncoder.encode(arguments, into: &box.bytes)
            if expectedReplies > 0 { box.commands.append((responder, expectedReplies)) }
            return wasEmpty
        }
        if expectedReplies == 0, mustSchedule != nil { responder.succeed(.null) }
        switch mustSchedule {
        case nil:
            responder.fail(RedisClientError(.connectionClosed, "connection to \(configuration.redactedURL) is closed"))
        case true?:
            channel.eventLoop.execute { self.drain() }
        case false?:
            break
        }
    }

    public func command(_ arguments: [RedisArgument]) async throws -> RedisReply {
        try await send(arguments).get()
    }

    public func command(_ arguments: RedisArgument...) async throws -> RedisReply {
        try await send(arguments).get()
    }

    public func close() async {
        try? await channel.close()
    }

    /// Closes without waiting (from a cancellation handler).
    func close(promise: EventLoopPromise<Void>?) {
        channel.close(promise: promise)
    }

    private func drain() {
        let (bytes, commands) = outbox.withLockedValue { box in
            let taken = (box.bytes, box.commands)
            box.bytes = channel.allocator.buffer(capacity: 0)
            box.commands = []
            return taken
        }
        guard bytes.readableBytes > 0 else { return }
        handler.value.write(bytes, commands: commands)
    }
}
