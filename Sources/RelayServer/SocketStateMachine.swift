import NIOCore
import NIOWebSocket
import RelayCore
import WebSocketWire

/// One WebSocket's life as a value, from the upgrade to the end of its connection: the messages waiting to be handled,
/// the frames waiting for the event loop's flush, and the close handshake (RFC 6455 §7). Every event returns what to
/// do; ``WebSocketConnection`` keeps the machine under its lock and ``WebSocketFrameHandler`` carries the actions out.
struct SocketStateMachine {
    enum Phase: Equatable {
        /// Upgraded; the relay subscribes and catches the socket up. Messages wait.
        case opening
        case open
        /// This side sent a close frame with this code: nothing more goes out, and the peer's close ends the connection.
        case closing(WebSocketErrorCode)
        /// The peer closed, the connection failed, ended or was terminated: nothing more in or out.
        case ended
    }

    enum Arrival: Equatable {
        /// Nothing is in progress: handle it now.
        case handleNow
        case queued
        /// Queued, and the backlog reached the threshold: stop reading from the socket.
        case queuedPauseReading
        /// The connection ended: nothing it says is acted on any more.
        case ignore
    }

    enum Enqueued: Equatable {
        case nothing
        /// The first frame since the last flush: schedule one on the event loop.
        case scheduleFlush
        /// Over the bound: close the socket as a slow consumer (``closeRequested(_:)`` with `.slowConsumer`).
        case closeSlowConsumer
    }

    /// How this side's close goes out.
    struct Closing {
        var code: WebSocketErrorCode
        /// Written before the close frame; none for a slow consumer, who is not reading them.
        var framesBefore: [ServerFrame]
        /// How long the peer has to answer before the connection is dropped.
        var answerTimeout: TimeAmount
    }

    enum PeerCloseAction: Equatable {
        /// The peer answered this side's close: the handshake is complete, close the channel.
        case closeChannel
        /// Answer with this code, then close the channel.
        case answer(UInt16)
        case nothing
    }

    /// Messages waiting while one is in progress; past this, the socket stops reading until they are handled.
    static let readPauseThreshold = 64
    /// How long a peer has to answer this side's close frame; a slow consumer gets less, as it is not reading.
    static let closeTimeout: TimeAmount = .milliseconds(500)
    static let slowConsumerCloseTimeout: TimeAmount = .milliseconds(100)

    let maximumQueuedFrames: Int
    private(set) var phase = Phase.opening
    /// The relay opened a session for the socket, which must be closed when the connection ends.
    private var hasSession = false
    /// Why the socket ends, once that is known (the first reason stands).
    private(set) var endReason: SocketCloseReason?

    // Inbound.
    /// True while the socket opens or a message continues in a task.
    private(set) var isBusy = true
    /// Usually empty; an empty array costs nothing, which matters with tens of thousands of idle sockets.
    private var waiting: [String] = []
    private var readingPaused = false

    // Outbound.
    /// Frames handed over since the last flush.
    private var ready: [ServerFrame] = []
    /// The array of the batch before, emptied, whose storage the next batch reuses: a busy socket allocates no
    /// array per batch (two allocations per message otherwise). Empty, without storage, on an idle socket.
    private var spare: [ServerFrame] = []
    private var flushScheduled = false
    /// Syncs waiting for room; empty, without storage, on almost every socket.
    private var capacityWaiters: [CheckedContinuation<Void, Never>] = []

    init(maximumQueuedFrames: Int) {
        self.maximumQueuedFrames = maximumQueuedFrames
    }

    /// The close code that tells a client why this side ended its socket (the contract's table of close codes).
    static func closeCode(for reason: SocketEnd) -> WebSocketErrorCode {
        switch reason {
        case .draining: .goingAway
        case .slowConsumer: .policyViolation
        case .openFailed: .unexpectedServerError
        case .tokenExpired: .init(codeNumber: 4001)
        case .disconnected: .init(codeNumber: 4003)
        case .erased: .init(codeNumber: 4004)
        }
    }

    /// Nothing more is queued: this side closed, or the connection ended.
    var isFinished: Bool { phase != .opening && phase != .open }

    var hasSentClose: Bool {
        if case .closing = phase { true } else { false }
    }

    var queuedCount: Int { ready.count }

    // MARK: Opening

    /// The relay opened the socket's session: false when the connection ended meanwhile (close the session now).
    mutating func opened() -> Bool {
        guard phase != .ended else { return false }
        hasSession = true
        if phase == .opening { phase = .open }
        isBusy = false
        return true
    }

    // MARK: Inbound messages

    /// A text message arrived; `text` is made only when it must wait. After this side's close a message is still
    /// handled (a send is stored, though its ack cannot go out; the client resends it with its cid, which stores
    /// once): a client that sent before it saw the close loses nothing.
    mutating func messageArrived(_ text: () -> String) -> Arrival {
        guard phase != .ended else { return .ignore }
        guard isBusy else { return .handleNow }
        waiting.append(text())
        guard waiting.count >= Self.readPauseThreshold, !readingPaused else { return .queued }
        readingPaused = true
        return .queuedPauseReading
    }

    /// The message being handled continues in a task: the next ones wait for it.
    mutating func messageContinuedInTask() {
        isBusy = true
    }

    /// A task finished its message: the waiting ones may be handled.
    mutating func messageFinished() {
        isBusy = false
    }

    /// The next waiting message to handle now, or nil while one is in progress, none waits or the connection ended.
    mutating func nextWaiting() -> String? {
        guard !isBusy, phase != .ended, !waiting.isEmpty else { return nil }
        return waiting.removeFirst()
    }

    /// True once, when reading was paused and the backlog has fallen below half the threshold.
    mutating func shouldResumeReading() -> Bool {
        guard readingPaused, waiting.count < Self.readPauseThreshold / 2 else { return false }
        readingPaused = false
        return true
    }

    // MARK: Outbound frames

    mutating func enqueue(_ frame: ServerFrame) -> Enqueued {
        guard !isFinished else { return .nothing }
        guard ready.count < maximumQueuedFrames else { return .closeSlowConsumer }
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

    mutating func waitForCapacity(_ waiter: CheckedContinuation<Void, Never>) {
        capacityWaiters.append(waiter)
    }

    /// The waiting syncs, to resume now that there is room (or the socket is finished).
    mutating func takeCapacityWaiters() -> [CheckedContinuation<Void, Never>] {
        defer { capacityWaiters = [] }
        return capacityWaiters
    }

    // MARK: Control

    /// This side ends the socket for `reason`: the close to send, or nil when it is finished already (and no close
    /// frame goes out). Messages that wait are still handled (``messageArrived(_:)``).
    mutating func closeRequested(_ reason: SocketEnd) -> Closing? {
        guard !isFinished else { return nil }
        let code = Self.closeCode(for: reason)
        phase = .closing(code)
        switch reason {
        case .draining: record(.drain)
        case .slowConsumer: record(.slowConsumer)
        case .openFailed: record(.protocolError)
        case .tokenExpired: record(.tokenExpired)
        case .disconnected: record(.disconnected)
        case .erased: record(.erased)
        }
        defer {
            ready = []
            spare = []
        }
        if reason == .slowConsumer {
            return Closing(code: code, framesBefore: [], answerTimeout: Self.slowConsumerCloseTimeout)
        }
        return Closing(code: code, framesBefore: ready, answerTimeout: Self.closeTimeout)
    }

    /// The peer's ping: answered with a pong unless this side closed (nothing may follow its close frame).
    func pingReceived() -> Bool {
        !isFinished
    }

    /// Whether the heartbeat may ping the socket.
    func pingDue() -> Bool {
        !isFinished
    }

    /// The peer sent a close frame, which RFC 6455 answers with `answer` (``PeerClose``) unless it answers ours.
    mutating func peerClosed(answer: UInt16) -> PeerCloseAction {
        switch phase {
        case .closing:
            phase = .ended
            return .closeChannel
        case .ended:
            return .nothing
        case .opening, .open:
            record(.client)
            end()
            return .answer(answer)
        }
    }

    /// The peer broke the protocol: fail the connection with the reader's code, once.
    mutating func failed() -> Bool {
        guard phase != .ended else { return false }
        record(.protocolError)
        end()
        return true
    }

    /// The heartbeat gave up on the peer: the connection is dropped without a close frame.
    mutating func terminated() {
        record(.heartbeat)
        end()
    }

    /// The connection is gone: the reason to close the socket's session for, when it must be closed (once).
    mutating func connectionEnded() -> SocketCloseReason? {
        record(.client)
        end()
        defer { hasSession = false }
        return hasSession ? endReason : nil
    }

    private mutating func record(_ reason: SocketCloseReason) {
        if endReason == nil { endReason = reason }
    }

    private mutating func end() {
        phase = .ended
        waiting = []
        ready = []
        spare = []
    }
}
