import HummingbirdWebSocket
import NIOConcurrencyHelpers
import NIOCore
import NIOWebSocket
import RelayCore

/// A WebSocket as the relay core sees it: frames go straight to the NIO channel, and the frames that become ready
/// together go out in one flush (one `writev`), without a task per socket.
///
/// The queue is bounded twice: more than `maximumQueuedFrames` frames waiting for the event loop, or more than
/// `maximumQueuedBytes` bytes in the channel waiting for the client to read, and the socket is closed with 1008 instead
/// of growing the node's memory; the client recovers what it missed with `sync` when it reconnects.
final class WebSocketConnection: RelaySocket {
    private struct State {
        /// Frames handed over since the last flush on the event loop.
        var ready: [WebSocketFrame] = []
        var flushScheduled = false
        var finished = false
    }

    let id: String
    let userID: String
    private let channel: any Channel
    private let outbound: WebSocketOutboundWriter
    private let maximumQueuedFrames: Int
    private let maximumQueuedBytes: Int
    private let state = NIOLockedValueBox(State())

    init(
        id: String,
        userID: String,
        channel: any Channel,
        outbound: WebSocketOutboundWriter,
        maximumQueuedFrames: Int,
        maximumQueuedBytes: Int
    ) {
        self.id = id
        self.userID = userID
        self.channel = channel
        self.outbound = outbound
        self.maximumQueuedFrames = maximumQueuedFrames
        self.maximumQueuedBytes = maximumQueuedBytes
    }

    func send(_ text: String) {
        send(frame: channel.allocator.buffer(string: text))
    }

    func send(frame bytes: ByteBuffer) {
        enqueue(WebSocketFrame(fin: true, opcode: .text, data: bytes))
    }

    func ping() {
        enqueue(WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer()))
    }

    /// Sends what is queued, then the close frame through HummingbirdWebSocket, which completes the handshake.
    func close(_ code: CloseCode) {
        let ready = state.withLockedValue { state -> [WebSocketFrame]? in
            guard !state.finished else { return nil }
            state.finished = true
            defer { state.ready = [] }
            return state.ready
        }
        guard let ready else { return }
        channel.eventLoop.execute { [channel, outbound] in
            for frame in ready { channel.write(NIOAny(frame), promise: nil) }
            channel.flush()
            Task { try? await outbound.close(.init(codeNumber: Int(code.rawValue)), reason: nil) }
        }
    }

    func terminate() {
        state.withLockedValue { $0.finished = true }
        channel.close(promise: nil)
    }

    func waitForCapacity() async {
        // Room for a sync page (100 frames) with margin; polling is fine at this rate and only runs during sync.
        while !channel.isWritable || hasBacklog(frames: max(0, maximumQueuedFrames - 2 * 100)), isOpen {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    private var isOpen: Bool { !state.withLockedValue { $0.finished } && channel.isActive }

    private func hasBacklog(frames limit: Int) -> Bool {
        state.withLockedValue { $0.ready.count > limit }
    }

    private func enqueue(_ frame: WebSocketFrame) {
        enum Next { case nothing, scheduleFlush, drop }
        let next = state.withLockedValue { state -> Next in
            guard !state.finished else { return .nothing }
            guard state.ready.count < maximumQueuedFrames else { return .drop }
            state.ready.append(frame)
            defer { state.flushScheduled = true }
            return state.flushScheduled ? .nothing : .scheduleFlush
        }
        switch next {
        case .nothing: break
        case .scheduleFlush: channel.eventLoop.execute { self.flushReady() }
        case .drop: dropSlowConsumer()
        }
    }

    /// On the event loop: writes every ready frame and flushes once, then enforces the bound.
    private func flushReady() {
        let frames = state.withLockedValue { state -> [WebSocketFrame] in
            state.flushScheduled = false
            defer { state.ready = [] }
            return state.ready
        }
        guard !frames.isEmpty else { return }
        for frame in frames { channel.write(NIOAny(frame), promise: nil) }
        channel.flush()
        // What the kernel did not take stays in the channel, waiting for the client to read.
        let buffered = (try? channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
        if buffered > maximumQueuedBytes { dropSlowConsumer() }
    }

    /// The close frame cannot wait behind the frames the client is not reading: it goes to the channel directly.
    private func dropSlowConsumer() {
        let first = state.withLockedValue { state -> Bool in
            defer {
                state.finished = true
                state.ready = []
            }
            return !state.finished
        }
        guard first else { return }
        var reason = channel.allocator.buffer(capacity: 2)
        reason.write(webSocketErrorCode: .policyViolation)
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, data: reason)
        channel.writeAndFlush(NIOAny(frame), promise: nil)
        channel.eventLoop.scheduleTask(in: .milliseconds(100)) { [channel] in channel.close(promise: nil) }
    }
}
