import Logging
import NIOCore
import RelayCore

/// Serves one upgraded WebSocket on its event loop: assembles messages, answers pings, sees pongs for the heartbeat,
/// completes the close handshake, and hands text messages to the socket's ``ClientSession``.
///
/// A message that the session cannot finish at once (a history, a sync, a friendship not cached yet) continues in a
/// task; the socket's later messages wait in `waiting` until it is done, so a socket's frames are handled in order.
/// It reads the client's frames itself (``ClientFrame``) and fails the connection on a broken one: a frame over the
/// size limit with 1009, a protocol error with 1002.
final class WebSocketFrameHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    /// Messages read while one is in progress; past this, the socket stops reading until they are handled.
    private static let readPauseThreshold = 64

    private let relay: Relay
    private let accepted: RelayChildChannel.Accepted
    /// Made when the handler joins the pipeline: the socket writes its frames through this handler's context.
    private var socket: WebSocketConnection!
    private var session: ClientSession?
    /// True while the socket opens (subscription, catch-up) or a message continues in a task.
    private var busy = true
    /// Usually empty; an empty array costs nothing, which matters with tens of thousands of idle sockets.
    private var waiting: [String] = []
    private var readingPaused = false
    private var fragments: (opcode: ClientFrame.Opcode, data: ByteBuffer)?
    /// The start of a frame whose end has not been read yet; nil (no memory) between frames.
    private var unread: ByteBuffer?
    /// A close frame went out for a protocol failure: nothing more is read.
    private var failed = false
    private var ended = false

    private init(relay: Relay, accepted: RelayChildChannel.Accepted) {
        self.relay = relay
        self.accepted = accepted
    }

    /// The socket's only handler after the upgrade (``WebSocketUpgrader``).
    static func install(on channel: any Channel, relay: Relay, accepted: RelayChildChannel.Accepted) throws {
        try channel.pipeline.syncOperations.addHandler(WebSocketFrameHandler(relay: relay, accepted: accepted))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        socket = WebSocketConnection(
            userID: accepted.userID,
            channel: context.channel,
            output: context,
            maximumQueuedFrames: relay.configuration.maximumQueuedFrames,
            maximumQueuedBytes: relay.configuration.maximumQueuedBytes
        )
        let this = NIOLoopBound(self, eventLoop: context.eventLoop)
        let (relay, socket, openedAfter) = (relay, socket!, accepted.openedAfter)
        Task {
            do {
                let session = try await relay.open(socket, openedAfter: openedAfter)
                this.eventLoop.execute { this.value.opened(session) }
            } catch {
                if relay.isDraining {
                    socket.close(.goingAway)
                } else {
                    relay.logger.warning("cannot open a socket", metadata: ["user": "\(socket.userID)", "error": "\(error)"])
                    socket.close(.unexpectedServerError)
                }
            }
        }
    }

    private func opened(_ session: ClientSession) {
        guard !ended else {
            // The connection went away while the socket was opening.
            relay.close(socket)
            return
        }
        self.session = session
        resume()
    }

    func channelInactive(context: ChannelHandlerContext) {
        end()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        end()
    }

    private func end() {
        guard !ended else { return }
        ended = true
        waiting = []
        socket.connectionEnded()
        if session != nil { relay.close(socket) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        let isOwnBuffer = unread != nil
        if var unread {
            self.unread = nil
            unread.writeBuffer(&bytes)
            bytes = unread
        }
        while !failed {
            switch ClientFrame.read(from: &bytes, maximumPayload: relay.configuration.maximumFrameBytes) {
            case .frame(let frame):
                received(frame, context: context)
            case .incomplete:
                guard bytes.readableBytes > 0 else { return }
                if isOwnBuffer {
                    // Already the handler's own: keep growing it, instead of copying the partial frame on every read.
                    bytes.discardReadBytes()
                    unread = bytes
                } else {
                    // Copied out: the read buffer goes back to the channel for its next read.
                    var rest = context.channel.allocator.buffer(capacity: bytes.readableBytes)
                    rest.writeBuffer(&bytes)
                    unread = rest
                }
                return
            case .failure(let code):
                return fail(context, code: code.rawValue)
            }
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        socket.capacityMayHaveChanged()
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func received(_ frame: ClientFrame, context: ChannelHandlerContext) {
        switch frame.opcode {
        case .text, .binary:
            guard fragments == nil else { return fail(context, code: CloseCode.protocolError.rawValue) }
            if frame.fin {
                frame.withUnmaskedBytes { message(context, opcode: frame.opcode, bytes: $0) }
            } else {
                fragments = (frame.opcode, frame.unmaskedPayload)
            }
        case .continuation:
            guard let (opcode, assembled) = fragments else { return fail(context, code: CloseCode.protocolError.rawValue) }
            var data = assembled
            guard data.readableBytes + frame.maskedPayload.readableBytes <= relay.configuration.maximumFrameBytes else {
                return fail(context, code: CloseCode.messageTooBig.rawValue)
            }
            var more = frame.unmaskedPayload
            data.writeBuffer(&more)
            fragments = frame.fin ? nil : (opcode, data)
            if frame.fin { data.withUnsafeReadableBytes { message(context, opcode: opcode, bytes: $0) } }
        case .ping:
            guard !socket.hasSentClose else { return }
            _ = socket.writeNow(ServerFrame.encoded(.pong, payload: frame.unmaskedPayload, allocator: context.channel.allocator))
        case .pong:
            relay.heartbeats.pongReceived(from: socket)
        case .close:
            guard !socket.hasSentClose else {
                context.close(promise: nil)
                return
            }
            // Answer with the peer's code (RFC 6455 §5.5.1), then end the connection.
            var data = frame.unmaskedPayload
            fail(context, code: data.readInteger(as: UInt16.self) ?? 1000)
        }
    }

    /// A whole message, in one frame or assembled from fragments; `bytes` are valid only during the call.
    private func message(_ context: ChannelHandlerContext, opcode: ClientFrame.Opcode, bytes: UnsafeRawBufferPointer) {
        guard opcode == .text else {
            return socket.send(OutboundFrame.error(FrameError(.badJSON, "frames must be JSON text frames, not binary")))
        }
        // RFC 6455 §8.1: a text message that is not UTF-8 fails the connection.
        guard UTF8Check.isValid(bytes) else { return fail(context, code: CloseCode.invalidPayload.rawValue) }
        if busy {
            waiting.append(String(decoding: bytes, as: UTF8.self))
            if waiting.count >= Self.readPauseThreshold, !readingPaused {
                readingPaused = true
                context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
            }
        } else {
            handle(bytes.assumingMemoryBound(to: UInt8.self), eventLoop: context.eventLoop)
        }
    }

    private func handle(_ bytes: some Collection<UInt8>, eventLoop: any EventLoop) {
        guard let session else { return }
        if case .continueInTask(let work) = session.receive(bytes) {
            busy = true
            let this = NIOLoopBound(self, eventLoop: eventLoop)
            Task {
                await work()
                this.eventLoop.execute { this.value.resume() }
            }
        }
    }

    /// Takes the waiting messages until one needs a task again.
    private func resume() {
        busy = false
        let eventLoop = socket.eventLoop
        while !busy, !ended, !waiting.isEmpty {
            handle(waiting.removeFirst().utf8, eventLoop: eventLoop)
        }
        if readingPaused, waiting.count < Self.readPauseThreshold / 2 {
            readingPaused = false
            socket.resumeReading()
        }
    }

    /// Sends a close frame with `code`, then ends the connection once it is written.
    private func fail(_ context: ChannelHandlerContext, code: UInt16) {
        failed = true
        socket.connectionEnded()
        let channel = context.channel
        socket.writeNow(ServerFrame.close(code, allocator: channel.allocator)).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}
