import ChatProtocol
import ConnectionGuard
import Logging
import NIOCore
import RelayCore
import WebSocketWire

/// Serves one upgraded WebSocket on its event loop: feeds its ``WebSocketReader``'s events (messages, pings, pongs,
/// the peer's close, failures) to the socket's ``SocketStateMachine``, carries out what it answers, and hands text
/// messages to the socket's ``ClientSession``.
///
/// A message that the session cannot finish at once (a history, a sync, a friendship not cached yet) continues in a
/// task; the socket's later messages wait in the machine until it is done, so a socket's frames are handled in order.
/// The reader fails the connection on a broken frame: over the size limit with 1009, text that is not UTF-8 with 1007,
/// a protocol error with 1002; the handler then closes as RFC 6455 §7.1.1 asks (``WebSocketClosing``).
final class WebSocketFrameHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let sockets: Sockets
    /// The node's connections and the user's allowance, whose places this socket holds until it ends.
    private let connections: OpenConnections
    private let allowance: UserAllowance
    /// Made when the handler joins the pipeline: the socket writes its frames through this handler's context.
    private var socket: WebSocketConnection!
    private var session: ClientSession?
    private var reader = WebSocketReader()
    private var placesGivenBack = false

    private init(sockets: Sockets, connections: OpenConnections, allowance: UserAllowance) {
        self.sockets = sockets
        self.connections = connections
        self.allowance = allowance
    }

    /// The socket's only handler after the upgrade (``WebSocketUpgrader``). It takes over the connection's place on
    /// the node and its user's socket slot from the HTTP guard, and gives them back when the socket ends. What only the
    /// opening needs (the instant it catches up from) is passed on, not kept: an idle socket's handler stays small.
    static func install(on channel: any Channel, sockets: Sockets, accepted: RelayChildChannel.Accepted, connections: OpenConnections) throws {
        let handler = WebSocketFrameHandler(sockets: sockets, connections: connections, allowance: accepted.allowance)
        try channel.pipeline.syncOperations.addHandler(handler)
        handler.open(
            userID: accepted.userID,
            openedAfter: accepted.openedAfter,
            expiresAt: accepted.expiresAt,
            context: try channel.pipeline.syncOperations.context(handler: handler)
        )
    }

    private func open(userID: String, openedAfter: StreamID, expiresAt: Int64?, context: ChannelHandlerContext) {
        socket = WebSocketConnection(
            userID: userID,
            channel: context.channel,
            output: context,
            maximumQueuedFrames: sockets.configuration.maximumQueuedFrames,
            maximumQueuedBytes: sockets.configuration.maximumQueuedBytes,
            outboundBytes: sockets.metrics.outboundBytes
        )
        let this = NIOLoopBound(self, eventLoop: context.eventLoop)
        let (sockets, socket, allowance) = (sockets, socket!, allowance)
        Task {
            do {
                let session = try await sockets.open(socket, openedAfter: openedAfter, allowance: allowance, expiresAt: expiresAt)
                this.eventLoop.execute { this.value.opened(session) }
            } catch {
                if sockets.isDraining {
                    socket.close(.draining)
                } else {
                    sockets.logger.warning("cannot open a socket", metadata: ["user": "\(socket.userID)", "error": "\(error)"])
                    socket.close(.openFailed)
                }
            }
        }
    }

    private func opened(_ session: ClientSession) {
        guard socket.machine.withLock({ $0.opened() }) else {
            // The connection went away while the socket was opening.
            sockets.close(socket, reason: socket.machine.withLock { $0.endReason } ?? .client)
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
        if let reason = socket.connectionEnded() { sockets.close(socket, reason: reason) }
        guard !placesGivenBack else { return }
        placesGivenBack = true
        connections.released()
        sockets.allowances.release(socket.userID)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        reader.read(
            unwrapInboundIn(data),
            maximumMessageBytes: sockets.configuration.maximumFrameBytes,
            allocator: context.channel.allocator
        ) { event in
            switch event {
            case .message(let opcode, let bytes):
                message(context, opcode: opcode, bytes: bytes)
            case .ping(let payload):
                // A ping is a frame like any other against the user's rate; one over it goes unanswered (RFC 6455
                // lets a pong wait), and a pong counts in the outbound bound.
                guard socket.machine.withLock({ $0.pingReceived() }), sockets.allowances.take(allowance) else { return }
                socket.writeBounded(ServerFrame.encoded(.pong, payload: payload, allocator: context.channel.allocator))
            case .pong:
                sockets.heartbeats.pongReceived(from: socket)
            case .peerClosed(let answer):
                switch socket.machine.withLock({ $0.peerClosed(answer: answer) }) {
                case .closeChannel: context.close(promise: nil)
                case .answer(let code): WebSocketClosing.answer(peerClose: code, context: context)
                case .nothing: break
                }
            case .failed(let code):
                guard socket.machine.withLock({ $0.failed() }) else { return }
                WebSocketClosing.fail(code, context: context)
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

    /// A whole message, in one frame or assembled from fragments; `bytes` are valid only during the call.
    private func message(_ context: ChannelHandlerContext, opcode: FrameOpcode, bytes: UnsafeRawBufferPointer) {
        guard opcode == .text else {
            // Open or still opening, the same answer within the user's rate.
            let error = sockets.allowances.refusalOfBinaryFrame(allowance)
            sockets.metrics.errorSent(error.code)
            return socket.send(ServerMessage.error(error))
        }
        switch socket.machine.withLock({ $0.messageArrived { String(decoding: bytes, as: UTF8.self) } }) {
        case .handleNow:
            handle(bytes.assumingMemoryBound(to: UInt8.self), eventLoop: context.eventLoop)
        case .queued, .ignore:
            break
        case .queuedPauseReading:
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
        }
    }

    private func handle(_ bytes: some Collection<UInt8>, eventLoop: any EventLoop) {
        guard let session else { return }
        if case .continueInTask(let work) = session.receive(bytes) {
            socket.machine.withLock { $0.messageContinuedInTask() }
            let this = NIOLoopBound(self, eventLoop: eventLoop)
            Task {
                await work()
                this.eventLoop.execute { this.value.resume() }
            }
        }
    }

    /// Takes the waiting messages until one needs a task again.
    private func resume() {
        socket.machine.withLock { $0.messageFinished() }
        let eventLoop = socket.eventLoop
        while let text = socket.machine.withLock({ $0.nextWaiting() }) {
            handle(text.utf8, eventLoop: eventLoop)
        }
        if socket.machine.withLock({ $0.shouldResumeReading() }) { socket.resumeReading() }
    }
}
