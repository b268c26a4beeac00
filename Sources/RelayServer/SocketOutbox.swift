import WebSocketWire

/// A socket's outbound side as a value: the frames waiting for the event loop's flush, the bound past which the
/// socket is dropped as a slow consumer, the node's own close, and the syncs waiting for room. No I/O:
/// ``WebSocketConnection`` keeps it under its lock and carries out what each call returns.
struct SocketOutbox {
    enum Enqueued: Equatable {
        case nothing
        /// The first frame since the last flush: schedule one on the event loop.
        case scheduleFlush
        /// Over the bound: close the socket as a slow consumer.
        case dropSlowConsumer
    }

    let maximumQueuedFrames: Int
    /// Frames handed over since the last flush.
    private(set) var ready: [ServerFrame] = []
    /// The array of the batch before, emptied, whose storage the next batch reuses: a busy socket allocates no
    /// array per batch (two allocations per message otherwise). Empty, without storage, on an idle socket.
    private var spare: [ServerFrame] = []
    private var flushScheduled = false
    /// Nothing more is queued: the connection ended, or the node closed or dropped it.
    private(set) var isFinished = false
    /// A close frame went out: the peer's answering close ends the connection.
    private(set) var closeSent = false
    /// Syncs waiting for room; empty, without storage, on almost every socket.
    private var capacityWaiters: [CheckedContinuation<Void, Never>] = []

    init(maximumQueuedFrames: Int) {
        self.maximumQueuedFrames = maximumQueuedFrames
    }

    mutating func enqueue(_ frame: ServerFrame) -> Enqueued {
        guard !isFinished else { return .nothing }
        guard ready.count < maximumQueuedFrames else { return .dropSlowConsumer }
        ready.append(frame)
        defer { flushScheduled = true }
        return flushScheduled ? .nothing : .scheduleFlush
    }

    /// The scheduled flush: the frames to write now.
    mutating func takeForFlush() -> [ServerFrame] {
        flushScheduled = false
        let taken = ready
        ready = spare
        spare = []
        return taken
    }

    /// After the flush wrote `frames`: their emptied array becomes the next batch's, moved rather than copied, so that
    /// it stays uniquely held (`frames` is left empty). True when a sync waits for room.
    mutating func recycle(_ frames: inout [ServerFrame]) -> Bool {
        frames.removeAll(keepingCapacity: true)
        if !isFinished { swap(&spare, &frames) }
        return !capacityWaiters.isEmpty
    }

    /// The node closes the socket: the frames still to write before the close frame, or nil when it was finished
    /// already (and no close frame goes out).
    mutating func close() -> [ServerFrame]? {
        guard !isFinished else { return nil }
        isFinished = true
        closeSent = true
        defer { ready = [] }
        return ready
    }

    /// The slow consumer's drop: true the first time, when its close frame must go out.
    mutating func dropSlowConsumer() -> Bool {
        defer {
            isFinished = true
            ready = []
        }
        return !isFinished
    }

    /// The connection is gone (or failed, and the surface closes it): nothing more is queued.
    mutating func connectionEnded() {
        isFinished = true
        ready = []
        spare = []
    }

    /// The heartbeat gave up on the peer.
    mutating func terminate() {
        isFinished = true
    }

    var queuedCount: Int { ready.count }

    mutating func waitForCapacity(_ waiter: CheckedContinuation<Void, Never>) {
        capacityWaiters.append(waiter)
    }

    /// The waiting syncs, to resume now that there is room (or the socket is gone).
    mutating func takeCapacityWaiters() -> [CheckedContinuation<Void, Never>] {
        defer { capacityWaiters = [] }
        return capacityWaiters
    }
}
