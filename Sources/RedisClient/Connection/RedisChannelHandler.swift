import Logging
import NIOCore

/// Matches replies to commands on one connection, first in, first out.
///
/// Commands are written in order by ``RedisConnection``; each pending command waits for `expectedReplies` replies
/// (one, or one confirmation per channel of a `SUBSCRIBE`). Pushes of a subscribed connection go to `onPush`.
/// When the channel closes, fails or a reply is late, every pending command fails: nothing hangs.
final class RedisChannelHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    struct Pending {
        var responder: RedisResponder
        var expectedReplies: Int
        var deadline: NIODeadline
    }

    private static let feedSize = 2048
    private let decoder: RedisReplyDecoder
    private var pending = CircularBuffer<Pending>(initialCapacity: 64)
    private let commandTimeout: TimeAmount
    private let onPush: RedisPushHandler?
    private let pushPayloadHeadroom: Int
    private let endpoint: String
    private var context: ChannelHandlerContext?
    private var timeoutCheck: Scheduled<Void>?
    /// Set once the connection is unusable; later commands fail with it at once.
    private(set) var failure: RedisClientError?

    init(endpoint: String, commandTimeout: TimeAmount, pushPayloadHeadroom: Int, onPush: RedisPushHandler?) throws(RedisClientError) {
        self.pushPayloadHeadroom = pushPayloadHeadroom
        decoder = try RedisReplyDecoder()
        self.endpoint = endpoint
        self.commandTimeout = commandTimeout
        self.onPush = onPush
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        failAll(RedisClientError(.connectionClosed, "connection to \(endpoint) closed"))
        self.context = nil
    }

    /// Called on the event loop with commands already encoded into `bytes`, in the order of `commands`.
    func write(_ bytes: ByteBuffer, commands: [(responder: RedisResponder, expectedReplies: Int)]) {
        guard let context, failure == nil else {
            let error = failure ?? RedisClientError(.connectionClosed, "connection to \(endpoint) closed")
            for command in commands { command.responder.fail(error) }
            return
        }
        let deadline = NIODeadline.now() + commandTimeout
        for command in commands {
            pending.append(Pending(responder: command.responder, expectedReplies: command.expectedReplies, deadline: deadline))
        }
        context.writeAndFlush(NIOAny(bytes), promise: nil)
        scheduleTimeoutCheck()
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
                    case .push(let message): onPush?(consume message)
                    }
                }
            }
        } catch {
            failAll(error)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(RedisClientError(.connectionClosed, "connection to \(endpoint) closed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(RedisClientError(.connectionClosed, "connection to \(endpoint) failed: \(error)"))
        context.close(promise: nil)
    }

    private func route(_ reply: RedisReply) {
        guard !pending.isEmpty else {
            // A reply nobody asked for means the stream is out of step; replies can no longer be matched.
            failAll(RedisClientError(.protocolError, "unexpected reply from \(endpoint): \(reply)"))
            context?.close(promise: nil)
            return
        }
        if case .error(let error) = reply {
            pending.removeFirst().responder.fail(error)
            return
        }
        pending[pending.startIndex].expectedReplies -= 1
        if pending[pending.startIndex].expectedReplies <= 0 {
            pending.removeFirst().responder.succeed(reply)
        }
    }

    private func failAll(_ error: RedisClientError) {
        if failure == nil { failure = error }
        timeoutCheck?.cancel()
        timeoutCheck = nil
        while let command = pending.popFirst() {
            command.responder.fail(error)
        }
    }

    /// One timer for the whole queue: replies come in order, so only the oldest command can be the late one.
    private func scheduleTimeoutCheck() {
        guard timeoutCheck == nil, let head = pending.first, let context else { return }
        timeoutCheck = context.eventLoop.assumeIsolated().scheduleTask(deadline: head.deadline) { [self] in
            timeoutCheck = nil
            guard let oldest = pending.first else { return }
            if oldest.deadline <= .now() {
                let seconds = Double(commandTimeout.nanoseconds) / 1e9
                failAll(RedisClientError(.commandTimeout, "no reply from \(endpoint) within \(seconds) s"))
                self.context?.close(promise: nil)
            } else {
                scheduleTimeoutCheck()
            }
        }
    }
}
