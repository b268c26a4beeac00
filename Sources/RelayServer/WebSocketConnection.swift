import NIOCore
import NIOWebSocket
import RelayCore
import Synchronization
import WebSocketWire

/// A WebSocket as the relay core sees it: frames go straight to the NIO channel, and the frames that become ready
/// together go out in one flush (one `writev`), without a task per socket.
///
/// The queue is bounded twice: more than `maximumQueuedFrames` frames waiting for the event loop, or more than
/// `maximumQueuedBytes` bytes in the channel waiting for the client to read, and the socket is closed with 1008 instead
/// of growing the node's memory; the client recovers what it missed with `sync` when it reconnects.
final class WebSocketConnection: RelaySocket {
    let userID: String
    private let channel: any Channel
    /// The context of the socket's ``WebSocketFrameHandler``, through which encoded frames go out. Used on the event
    /// loop only.
    nonisolated(unsafe) private let output: ChannelHandlerContext
    private let maximumQueuedBytes: Int
    /// A `Mutex` lives inside this object; a `NIOLockedValueBox` would be one more allocation per socket.
    private let state: Mutex<SocketOutbox>

    init(
        userID: String,
        channel: any Channel,
        output: ChannelHandlerContext,
        maximumQueuedFrames: Int,
        maximumQueuedBytes: Int
    ) {
        self.userID = userID
        self.channel = channel
        self.output = output
        self.maximumQueuedBytes = maximumQueuedBytes
        state = Mutex(SocketOutbox(maximumQueuedFrames: maximumQueuedFrames))
    }

    func send(_ text: String) {
        var buffer = FrameBuffer.allocate(payloadCapacity: text.utf8.count, allocator: channel.allocator)
        buffer.writeString(text)
        send(frame: buffer)
    }

    func send(frame bytes: ByteBuffer) {
        enqueue(ServerFrame(.text, payload: bytes))
    }

    /// Written at once on the socket's event loop, ahead of any frames waiting for their flush (a control frame may
    /// go between messages): no queue, and no array for an idle socket.
    func ping() {
        guard channel.eventLoop.inEventLoop else {
            return channel.eventLoop.execute { self.ping() }
        }
        guard !state.withLock({ $0.isFinished }) else { return }
        output.writeAndFlush(NIOAny(ServerFrame.ping.payload), promise: nil)
    }

    /// A channel holding more than this is not writable.
    private static let highWaterMark = RelayChildChannel.writeBufferWaterMark.high

    /// How long a peer has to answer a close frame before the connection is dropped.
    static let closeTimeout: TimeAmount = .milliseconds(500)

    /// The close code that tells a client why its socket ended (the contract's table of close codes).
    static func closeCode(for reason: SocketEnd) -> WebSocketErrorCode {
        switch reason {
        case .draining: .goingAway
        case .slowConsumer: .policyViolation
        case .openFailed: .unexpectedServerError
        }
    }

    /// Sends what is queued, then the close frame; the peer's answer (or the timeout) ends the connection.
    func close(_ reason: SocketEnd) {
        let code = Self.closeCode(for: reason)
        guard let ready = state.withLock({ $0.close() }) else { return }
        channel.eventLoop.execute { [channel] in
            var frames = ready
            self.write(&frames)
            _ = self.writeNow(ServerFrame.close(code, allocator: channel.allocator))
            channel.eventLoop.scheduleTask(in: Self.closeTimeout) { channel.close(promise: nil) }
        }
    }

    var eventLoop: any EventLoop { channel.eventLoop }

    /// Reads again after the handler paused reading while messages waited.
    func resumeReading() {
        channel.setOption(ChannelOptions.autoRead, value: true).whenSuccess { [channel] in channel.read() }
    }

    /// True once this side sent a close frame.
    var hasSentClose: Bool { state.withLock { $0.closeSent } }

    /// On the event loop: marks the socket finished when the connection ends, so that nothing more is queued for
    /// it, and lets a sync waiting for room find out.
    func connectionEnded() {
        state.withLock { $0.connectionEnded() }
        capacityMayHaveChanged()
    }

    /// On the event loop: writes a control frame now, ahead of anything still queued.
    func writeNow(_ frame: ByteBuffer) -> EventLoopFuture<Void> {
        output.writeAndFlush(NIOAny(frame))
    }

    func terminate() {
        state.withLock { $0.terminate() }
        channel.close(promise: nil)
    }

    /// Returns at once when there is room, else when the client has read enough for the channel to be writable and
    /// the queue has gone out (or the socket ended). Checked and woken on the event loop, where the channel's
    /// writability and the queue's flushes change, so no wake-up falls between a check and the wait.
    func waitForCapacity() async {
        await withCheckedContinuation { continuation in
            channel.eventLoop.execute {
                if self.hasCapacity {
                    continuation.resume()
                } else {
                    self.state.withLock { $0.waitForCapacity(continuation) }
                }
            }
        }
    }

    /// On the event loop, when the channel became writable, the queue was flushed, or the connection ended.
    func capacityMayHaveChanged() {
        guard hasCapacity else { return }
        let waiters = state.withLock { $0.takeCapacityWaiters() }
        for waiter in waiters { waiter.resume() }
    }

    /// Room for a sync page (100 frames) with margin, in both bounds; or the socket is gone, and the sync ends.
    private var hasCapacity: Bool {
        let (finished, queued, bound) = state.withLock { ($0.isFinished, $0.queuedCount, $0.maximumQueuedFrames) }
        guard !finished, channel.isActive else { return true }
        return channel.isWritable && queued <= max(0, bound - 2 * 100)
    }

    private func enqueue(_ frame: ServerFrame) {
        switch state.withLock({ $0.enqueue(frame) }) {
        case .nothing: break
        case .scheduleFlush: channel.eventLoop.execute { self.flushReady() }
        case .dropSlowConsumer: dropSlowConsumer()
        }
    }

    /// On the event loop: writes every ready frame and flushes once, then enforces the bound.
    private func flushReady() {
        var frames = state.withLock { $0.takeForFlush() }
        guard !frames.isEmpty else { return }
        write(&frames)
        channel.flush()
        let syncWaiting = state.withLock { $0.recycle(&frames) }
        if syncWaiting { capacityMayHaveChanged() }
        // What the kernel did not take stays in the channel, waiting for the client to read. Below the high water
        // mark the channel is writable, and the option's generic lookup (1.3% of a node at 10,000 msg/s) is skipped.
        guard !channel.isWritable || maximumQueuedBytes < Self.highWaterMark else { return }
        let buffered = (try? channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
        if buffered > maximumQueuedBytes { dropSlowConsumer() }
    }

    /// On the event loop, without flushing. In place: a payload nobody else holds any more takes its header in
    /// front, one buffer per frame.
    private func write(_ frames: inout [ServerFrame]) {
        for index in frames.indices { frames[index].write(to: output) }
    }

    /// The close frame cannot wait behind the frames the client is not reading: it goes to the channel directly.
    private func dropSlowConsumer() {
        guard state.withLock({ $0.dropSlowConsumer() }) else { return }
        channel.eventLoop.execute { [channel] in
            _ = self.writeNow(ServerFrame.close(Self.closeCode(for: .slowConsumer), allocator: channel.allocator))
            channel.eventLoop.scheduleTask(in: .milliseconds(100)) { channel.close(promise: nil) }
        }
    }
}
