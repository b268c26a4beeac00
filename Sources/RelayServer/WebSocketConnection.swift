import Metrics
import NIOCore
import NIOWebSocket
import RelayCore
import Synchronization
import WebSocketWire

/// A WebSocket as the relay core sees it, carrying out its ``SocketStateMachine``: frames go straight to the NIO
/// channel, and the frames that become ready together go out in one flush (one `writev`), without a task per socket.
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
    let machine: Mutex<SocketStateMachine>
    private let outboundBytes: Counter

    init(
        userID: String,
        channel: any Channel,
        output: ChannelHandlerContext,
        maximumQueuedFrames: Int,
        maximumQueuedBytes: Int,
        outboundBytes: Counter
    ) {
        self.outboundBytes = outboundBytes
        self.userID = userID
        self.channel = channel
        self.output = output
        self.maximumQueuedBytes = maximumQueuedBytes
        machine = Mutex(SocketStateMachine(maximumQueuedFrames: maximumQueuedFrames))
    }

    func send(_ text: String) {
        var buffer = FrameBuffer.allocate(payloadCapacity: text.utf8.count, allocator: channel.allocator)
        buffer.writeString(text)
        send(frame: buffer)
    }

    func send(frame bytes: ByteBuffer) {
        outboundBytes.increment(by: bytes.readableBytes)
        switch machine.withLock({ $0.enqueue(ServerFrame(.text, payload: bytes)) }) {
        case .nothing: break
        case .scheduleFlush: channel.eventLoop.execute { self.flushReady() }
        case .closeSlowConsumer: close(.slowConsumer)
        }
    }

    /// Written at once on the socket's event loop, ahead of any frames waiting for their flush (a control frame may
    /// go between messages): no queue, and no array for an idle socket.
    func ping() {
        guard channel.eventLoop.inEventLoop else {
            return channel.eventLoop.execute { self.ping() }
        }
        guard machine.withLock({ $0.pingDue() }) else { return }
        output.writeAndFlush(NIOAny(ServerFrame.ping.payload), promise: nil)
    }

    /// A channel holding more than this is not writable.
    private static let highWaterMark = RelayChildChannel.writeBufferWaterMark.high

    /// Sends the close frame (after what is queued, unless the client is not reading); the peer's answer (or the
    /// timeout) ends the connection.
    func close(_ reason: SocketEnd) {
        guard let closing = machine.withLock({ $0.closeRequested(reason) }) else { return }
        channel.eventLoop.execute { [channel] in
            var frames = closing.framesBefore
            self.write(&frames)
            _ = self.writeNow(ServerFrame.close(closing.code, allocator: channel.allocator))
            channel.eventLoop.scheduleTask(in: closing.answerTimeout) { channel.close(promise: nil) }
        }
    }

    var eventLoop: any EventLoop { channel.eventLoop }

    /// Reads again after the handler paused reading while messages waited.
    func resumeReading() {
        channel.setOption(ChannelOptions.autoRead, value: true).whenSuccess { [channel] in channel.read() }
    }

    /// On the event loop: the connection ended. The reason to close the socket's session for, when it must be
    /// closed; a sync waiting for room finds out.
    func connectionEnded() -> SocketCloseReason? {
        let closeSession = machine.withLock { $0.connectionEnded() }
        capacityMayHaveChanged()
        return closeSession
    }

    /// On the event loop: writes a control frame now, ahead of anything still queued.
    func writeNow(_ frame: ByteBuffer) -> EventLoopFuture<Void> {
        output.writeAndFlush(NIOAny(frame))
    }

    /// On the event loop: writes a control frame now, like ``writeNow(_:)``, then holds the socket to the outbound bound
    /// in bytes: a client that pings without reading is a slow consumer like one that does not read its messages.
    func writeBounded(_ frame: ByteBuffer) {
        output.writeAndFlush(NIOAny(frame), promise: nil)
        enforceByteBound()
    }

    func terminate() {
        machine.withLock { $0.terminated() }
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
                    self.machine.withLock { $0.waitForCapacity(continuation) }
                }
            }
        }
    }

    /// On the event loop, when the channel became writable, the queue was flushed, or the connection ended.
    func capacityMayHaveChanged() {
        guard hasCapacity else { return }
        let waiters = machine.withLock { $0.takeCapacityWaiters() }
        for waiter in waiters { waiter.resume() }
    }

    /// Room for a sync page (100 frames) with margin, in both bounds; or the socket is gone, and the sync ends.
    private var hasCapacity: Bool {
        let (finished, queued, bound) = machine.withLock { ($0.isFinished, $0.queuedCount, $0.maximumQueuedFrames) }
        guard !finished, channel.isActive else { return true }
        return channel.isWritable && queued <= max(0, bound - 2 * 100)
    }

    /// On the event loop: writes every ready frame and flushes once, then enforces the bound.
    private func flushReady() {
        var frames = machine.withLock { $0.takeForFlush() }
        guard !frames.isEmpty else { return }
        write(&frames)
        channel.flush()
        let syncWaiting = machine.withLock { $0.recycle(&frames) }
        if syncWaiting { capacityMayHaveChanged() }
        enforceByteBound()
    }

    /// What the kernel did not take stays in the channel, waiting for the client to read: past the bound in bytes, the
    /// socket is a slow consumer. Below the high water mark the channel is writable, and the option's generic lookup
    /// (1.3% of a node at 10,000 msg/s) is skipped.
    private func enforceByteBound() {
        guard !channel.isWritable || maximumQueuedBytes < Self.highWaterMark else { return }
        let buffered = (try? channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
        if buffered > maximumQueuedBytes { close(.slowConsumer) }
    }

    /// On the event loop, without flushing. In place: a payload nobody else holds any more takes its header in
    /// front, one buffer per frame.
    private func write(_ frames: inout [ServerFrame]) {
        for index in frames.indices { frames[index].write(to: output) }
    }
}
