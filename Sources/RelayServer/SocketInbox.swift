/// A socket's inbound messages as a value: while the socket opens, or a message continues in a task, the later
/// ones wait, in order; past ``readPauseThreshold`` waiting the socket stops reading, and reads again once the
/// backlog is half gone. No I/O: ``WebSocketFrameHandler`` carries out what each call returns.
struct SocketInbox {
    enum Arrival: Equatable {
        /// Nothing is in progress: handle it now.
        case handleNow
        case queued
        /// Queued, and the backlog reached the threshold: stop reading from the socket.
        case queuedPauseReading
    }

    /// Messages waiting while one is in progress; past this, the socket stops reading until they are handled.
    static let readPauseThreshold = 64

    /// True while the socket opens (subscription, catch-up) or a message continues in a task.
    private(set) var isBusy = true
    /// Usually empty; an empty array costs nothing, which matters with tens of thousands of idle sockets.
    private var waiting: [String] = []
    private var readingPaused = false
    private(set) var isEnded = false

    /// A text message arrived; `text` is made only when it must wait.
    mutating func arrived(_ text: () -> String) -> Arrival {
        guard isBusy else { return .handleNow }
        waiting.append(text())
        guard waiting.count >= Self.readPauseThreshold, !readingPaused else { return .queued }
        readingPaused = true
        return .queuedPauseReading
    }

    /// The message being handled continues in a task: the next ones wait for it.
    mutating func continuedInTask() {
        isBusy = true
    }

    /// The socket opened, or a task finished: later messages may be handled again.
    mutating func becameIdle() {
        isBusy = false
    }

    /// The next waiting message to handle now, or nil while one is in progress, none waits or the socket ended.
    mutating func nextWaiting() -> String? {
        guard !isBusy, !isEnded, !waiting.isEmpty else { return nil }
        return waiting.removeFirst()
    }

    /// True once, when reading was paused and the backlog has fallen below half the threshold.
    mutating func shouldResumeReading() -> Bool {
        guard readingPaused, waiting.count < Self.readPauseThreshold / 2 else { return false }
        readingPaused = false
        return true
    }

    /// The connection ended: what waits is dropped.
    mutating func end() {
        isEnded = true
        waiting = []
    }
}
