import NIOConcurrencyHelpers
import NIOCore
import NIOWebSocket
import RelayCore

/// A WebSocket as the relay core sees it: frames are queued here and written by the socket's writer task.
///
/// The queue is bounded: the writer waits while the client does not read (channel writability), and a client
/// that falls more than `maximumQueuedFrames` frames or `maximumQueuedBytes` bytes behind is closed with 1008
/// instead of growing the node's memory.
/// It recovers what it missed with `sync` when it reconnects.
final class WebSocketConnection: RelaySocket {
    enum Outbound: Sendable {
        case text(String)
        case ping
        case close(CloseCode)

        var size: Int {
            if case .text(let text) = self { return text.utf8.count }
            return 0
        }
    }

    let id: String
    let userID: String
    private let continuation: AsyncStream<Outbound>.Continuation
    private let channel: any Channel
    private let maximumQueuedFrames: Int
    private let maximumQueuedBytes: Int
    private let queued = NIOLockedValueBox((frames: 0, bytes: 0))

    init(
        id: String,
        userID: String,
        channel: any Channel,
        maximumQueuedFrames: Int,
        maximumQueuedBytes: Int,
        continuation: AsyncStream<Outbound>.Continuation
    ) {
        self.id = id
        self.userID = userID
        self.channel = channel
        self.maximumQueuedFrames = maximumQueuedFrames
        self.maximumQueuedBytes = maximumQueuedBytes
        self.continuation = continuation
    }

    func waitForCapacity() async {
        // Room for a sync page (100 frames) with margin; polling is fine at this rate and only runs during sync.
        let limit = max(0, maximumQueuedFrames - 2 * 100)
        while queued.withLockedValue({ $0.frames > limit || $0.bytes > maximumQueuedBytes / 2 }), !isFinished {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    private let finished = NIOLockedValueBox(false)
    private var isFinished: Bool { finished.withLockedValue { $0 } }

    /// The writer took a frame off the queue.
    func dequeued(_ item: Outbound) {
        let size = item.size
        queued.withLockedValue {
            $0.frames -= 1
            $0.bytes -= size
        }
    }

    private func enqueue(_ item: Outbound) {
        let size = item.size
        let overflow = queued.withLockedValue { queued -> Bool in
            queued.frames += 1
            queued.bytes += size
            return queued.frames > maximumQueuedFrames || queued.bytes > maximumQueuedBytes
        }
        if overflow {
            dropSlowConsumer()
        } else {
            continuation.yield(item)
        }
    }

    /// The close frame cannot wait behind the frames the client is not reading: it goes to the channel directly.
    private func dropSlowConsumer() {
        finished.withLockedValue { $0 = true }
        continuation.finish()
        var reason = channel.allocator.buffer(capacity: 2)
        reason.write(webSocketErrorCode: .policyViolation)
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, data: reason)
        channel.writeAndFlush(NIOAny(frame), promise: nil)
        channel.eventLoop.scheduleTask(in: .milliseconds(100)) { [channel] in channel.close(promise: nil) }
    }

    func ping() {
        enqueue(.ping)
    }

    func terminate() {
        finished.withLockedValue { $0 = true }
        continuation.finish()
        channel.close(promise: nil)
    }

    func send(_ text: String) {
        enqueue(.text(text))
    }

    func close(_ code: CloseCode) {
        continuation.yield(.close(code))
        continuation.finish()
    }
}
