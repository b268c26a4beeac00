import Logging
import NIOCore

/// Matches replies to commands on one connection, first in, first out.
///
/// Commands are written in order by ``RedisConnection``; each pending command waits for `expectedReplies` replies
/// (one, or one confirmation per channel of a `SUBSCRIBE`). Pushes of a subscribed connection go to `onPush`.
/// When the channel closes, fails or a reply is late, every pending command fails: nothing hangs.
final class RedisChannelHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private static let feedSize = 2048
    private let decoder: RedisReplyDecoder
    private var machine: StateMachine<RedisResponder>
    private let onPush: RedisPushHandler?
    private let pushPayloadHeadroom: Int
    private let endpoint: String
    private var context: ChannelHandlerContext?
    private var timeoutCheck: Scheduled<Void>?
    private let metrics: RedisMetrics
    /// With Sentinels: a `READONLY` reply means the server was demoted, so the connection goes (its reconnect asks
    /// the Sentinels again).
    private let leavesReadOnlyServer: Bool

    /// Set once the connection is unusable; later commands fail with it at once.
    var failure: RedisClientError? { machine.failure }

    init(
        endpoint: String,
        commandTimeout: TimeAmount,
        pushPayloadHeadroom: Int,
        metrics: RedisMetrics,
        leavesReadOnlyServer: Bool = false,
        onPush: RedisPushHandler?
    ) throws(RedisClientError) {
        self.metrics = metrics
        self.leavesReadOnlyServer = leavesReadOnlyServer
        self.pushPayloadHeadroom = pushPayloadHeadroom
        decoder = try RedisReplyDecoder()
        self.endpoint = endpoint
        machine = StateMachine(endpoint: endpoint, commandTimeout: commandTimeout)
        self.onPush = onPush
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        closeAll(RedisClientError(.connectionClosed, "connection to \(endpoint) closed"))
        self.context = nil
    }

    /// Called on the event loop with commands already encoded into `bytes`, in the order of `commands`.
    func write(_ bytes: ByteBuffer, commands: [(responder: RedisResponder, expectedReplies: Int)]) {
        metrics.commands.increment(by: commands.count)
        guard let context else {
            return fail(commands.map(\.responder), RedisClientError(.connectionClosed, "connection to \(endpoint) closed"))
        }
        // Only commands answered by pushes: nothing to wait for.
        guard !commands.isEmpty else { return context.writeAndFlush(NIOAny(bytes), promise: nil) }
        switch machine.sent(commands, now: .now()) {
        case .write(let checkAt):
            context.writeAndFlush(NIOAny(bytes), promise: nil)
            scheduleTimeoutCheck(at: checkAt)
        case .fail(let error):
            fail(commands.map(\.responder), error)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        do {
            // hiredis moves the unread rest of its buffer to the front after every reply once 1 KiB is consumed, so a
            // large read fed at once costs a copy of itself per reply (7.6% of a node in memmove): feed small slices.
            while let slice = bytes.readSlice(length: min(Self.feedSize, bytes.readableBytes)), slice.readableBytes > 0 {
                try decoder.feed(slice)
                while let decoded = try decoder.next(pushHeadroom: onPush == nil ? nil : pushPayloadHeadroom) {
                    switch consume decoded {
                    case .reply(let reply): route(reply)
                    case .push(let message):
                        metrics.pushes.increment()
                        onPush?(consume message)
                    }
                }
            }
        } catch {
            closeAll(error)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closeAll(RedisClientError(.connectionClosed, "connection to \(endpoint) closed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        closeAll(RedisClientError(.connectionClosed, "connection to \(endpoint) failed: \(error)"))
        context.close(promise: nil)
    }

    private func route(_ reply: RedisReply) {
        switch machine.received(reply) {
        case .succeed(let responder, let reply, let sentAt):
            metrics.roundTrip.recordInterval(since: sentAt)
            responder.succeed(reply)
        case .fail(let responder, let error, let sentAt):
            metrics.roundTrip.recordInterval(since: sentAt)
            metrics.failures.increment()
            responder.fail(error)
            if leavesReadOnlyServer, error.code == "READONLY" {
                metrics.masterChanges.increment()
                context?.close(promise: nil)
            }
        case .nothing:
            break
        case .failAllAndClose(let error, let responders):
            fail(responders, error)
            context?.close(promise: nil)
        }
    }

    private func closeAll(_ error: RedisClientError) {
        timeoutCheck?.cancel()
        timeoutCheck = nil
        fail(machine.closed(error), error)
    }

    private func fail(_ responders: [RedisResponder], _ error: RedisClientError) {
        metrics.failures.increment(by: responders.count)
        for responder in responders { responder.fail(error) }
    }

    /// One timer for the whole queue: replies come in order, so only the oldest command can be the late one.
    private func scheduleTimeoutCheck(at deadline: NIODeadline) {
        guard timeoutCheck == nil, let context else { return }
        timeoutCheck = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            timeoutCheck = nil
            switch machine.timeoutCheck(now: .now()) {
            case .nothing:
                break
            case .checkAgain(let next):
                scheduleTimeoutCheck(at: next)
            case .failAllAndClose(let error, let responders):
                fail(responders, error)
                self.context?.close(promise: nil)
            }
        }
    }
}
