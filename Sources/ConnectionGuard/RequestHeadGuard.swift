import NIOCore

/// The first handler of every connection until it upgrades: carries out its ``RequestHeadMachine`` (the request
/// timeout, the head's size, the decoder's refusals, the drain) and holds the connection's place among the node's
/// ``OpenConnections`` (and its user's socket slot, once an upgrade is admitted) until the connection ends or the
/// WebSocket handler takes them over. Refusals are written here, straight to the socket, as whole HTTP responses.
public final class RequestHeadGuard: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    /// How long a refused connection may go on sending before it is closed outright: long enough for the client to
    /// read the answer instead of a reset.
    static let lingerAfterRefusal = TimeAmount.seconds(2)

    private var machine = RequestHeadMachine()
    private let timeout: TimeAmount
    private let connections: OpenConnections?
    private let refusedAtOnce: RequestHeadMachine.Refusal?
    private var deadline: Scheduled<Void>?
    private var context: ChannelHandlerContext?
    /// True once the connection's place was given back, or taken over by the socket: it happens once.
    private var placeSettled = false
    /// What else to give back with the connection (the user's socket slot), while the guard holds it.
    private var alsoGiveBack: (() -> Void)?
    /// Told of every refusal this guard answers (for the metrics).
    private let onRefusal: @Sendable (RequestHeadMachine.Refusal) -> Void

    /// A counted connection: `connections.admit()` said yes.
    public init(
        timeout: TimeAmount,
        connections: OpenConnections,
        onRefusal: @escaping @Sendable (RequestHeadMachine.Refusal) -> Void = { _ in }
    ) {
        self.timeout = timeout
        self.connections = connections
        self.onRefusal = onRefusal
        refusedAtOnce = nil
    }

    private init(refusing refusal: RequestHeadMachine.Refusal) {
        timeout = .seconds(0)
        connections = nil
        onRefusal = { _ in }
        refusedAtOnce = refusal
        placeSettled = true
    }

    /// A connection over the node's maximum: answered `refusal` (503) at once, then closed.
    public static func refusing(_ refusal: RequestHeadMachine.Refusal) -> RequestHeadGuard {
        RequestHeadGuard(refusing: refusal)
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if let refusedAtOnce {
            machine.refusedAtOnce()
            return refuse(refusedAtOnce, context: context)
        }
        connections?.track(self, on: context.eventLoop)
        armDeadline(context: context)
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        ended()
        self.context = nil
    }

    public func channelInactive(context: ChannelHandlerContext) {
        ended()
        context.fireChannelInactive()
    }

    /// On the event loop: `giveBack` runs with the connection's end while the guard holds the connection (at once
    /// when it has ended already).
    public func holdUntilEnd(_ giveBack: @escaping () -> Void) {
        guard !placeSettled else { return giveBack() }
        alsoGiveBack = giveBack
    }

    /// The connection upgraded: its place (and its user's slot) now go with the socket, whose handler gives them
    /// back; the guard leaves the pipeline.
    public func handOver() {
        placeSettled = true
        alsoGiveBack = nil
    }

    private func ended() {
        deadline?.cancel()
        deadline = nil
        connections?.untrack(self)
        guard !placeSettled else { return }
        placeSettled = true
        connections?.released()
        alsoGiveBack?()
        alsoGiveBack = nil
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        switch machine.bytesArrived(buffer.readableBytesView) {
        case .forward:
            context.fireChannelRead(data)
        case .forwardHeadComplete:
            armDeadline(context: context)
            context.fireChannelRead(data)
        case .refuse(let refusal):
            refuse(refusal, context: context)
        case .discard:
            break
        }
    }

    /// The server stops accepting (its graceful shutdown): like the drain, for connections that came after it began.
    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent { drain() }
        context.fireUserInboundEventTriggered(event)
    }

    public func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let progress = event as? RequestProgress else {
            return context.triggerUserOutboundEvent(event, promise: promise)
        }
        promise?.succeed(())
        switch progress {
        case .requestReceived:
            machine.requestReceived()
            cancelDeadline()
        case .answered:
            switch machine.answered() {
            case .awaitNextHead: armDeadline(context: context)
            case .close: context.close(promise: nil)
            }
        case .malformed(let headerOverflow):
            carryOut(machine.malformed(headerOverflow: headerOverflow), context: context)
        }
    }

    /// On the event loop: the node began to drain.
    func drain() {
        guard let context else { return }
        switch machine.drain() {
        case .close: context.close(promise: nil)
        case .closeAfterAnswer, .nothing: break
        }
    }

    /// On the event loop: the drain's time is up.
    func closeNow() {
        context?.close(promise: nil)
    }

    private func carryOut(_ action: RequestHeadMachine.DeadlineAction, context: ChannelHandlerContext) {
        switch action {
        case .refuse(let refusal): refuse(refusal, context: context)
        case .close: context.close(promise: nil)
        case .nothing: break
        }
    }

    private func armDeadline(context: ChannelHandlerContext) {
        deadline?.cancel()
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: timeout) {
            let (this, context) = bound.value
            this.deadline = nil
            this.carryOut(this.machine.deadlinePassed(), context: context)
        }
    }

    private func cancelDeadline() {
        deadline?.cancel()
        deadline = nil
    }

    /// Answers and stops sending; what the client still sends is dropped until it closes, or the linger ends. Closing
    /// at once with unread bytes would reset the connection and the client might never read the answer.
    private func refuse(_ refusal: RequestHeadMachine.Refusal, context: ChannelHandlerContext) {
        cancelDeadline()
        onRefusal(refusal)
        let channel = context.channel
        let written = context.writeAndFlush(wrapOutboundOut(CannedResponse.bytes(for: refusal, allocator: channel.allocator)))
        // A node that is full closes at once: lingering would hold yet more descriptors.
        guard refusal != .overCapacity else { return written.whenComplete { _ in channel.close(promise: nil) } }
        written.whenComplete { _ in channel.close(mode: .output, promise: nil) }
        channel.eventLoop.scheduleTask(in: Self.lingerAfterRefusal) { channel.close(promise: nil) }
    }
}
