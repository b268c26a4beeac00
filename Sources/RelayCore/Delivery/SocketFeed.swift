import Logging
import Synchronization

/// Live delivery to one socket, without gaps.
///
/// Pub/sub is at most once, but on one connection it loses nothing and keeps the publish order: publishes are lost
/// only while a subscriber has no connection (Redis stopped, or dropped it), and a node's subscriber reconnects
/// after that. So the feed catches up from the streams at the two moments a gap can open: when the socket opens
/// (entries stored between its opening instant and its subscription), and after every reconnect of the node's
/// subscriber. From the moment the socket is created, and again from the moment the subscriber loses its
/// connection, every live frame is held until that catch-up has read the streams from the last id the socket has
/// per friendship; then the held frames follow, so the socket sees every message of its friendships once, in id
/// order.
final class SocketFeed: Sendable {
    private struct FriendshipState {
        var last: StreamID
        /// Frames that arrived while a gap is being filled, in arrival order, with whether this socket gets them
        /// (not when it sent them); nil when not filling.
        var heldBack: [(frame: PublishedFrame, send: Bool)]?
        /// A catch-up was asked for while a fill was running (which may have read past already): read again after.
        var readAgain = false
        /// Entries after `last` that this socket sent itself, which a fill skips; in id order, as their acks came.
        var sentHere: [StreamID] = []

        mutating func recordSent(_ id: StreamID) {
            guard id > last else { return }
            if let lastSent = sentHere.last, id < lastSent {
                sentHere.insert(id, at: sentHere.firstIndex { $0 > id } ?? sentHere.endIndex)
            } else {
                sentHere.append(id)
            }
        }

        mutating func advance(to id: StreamID) {
            last = id
            // A few entries at most (the socket's unacknowledged sends); the profile showed a Set rebuilt here at 9%.
            if let stale = sentHere.firstIndex(where: { $0 > id }) {
                if stale > 0 { sentHere.removeFirst(stale) }
            } else if !sentHere.isEmpty {
                sentHere.removeAll(keepingCapacity: true)
            }
        }
    }

    private struct State {
        var friendships: [String: FriendshipState] = [:]
        /// Live frames of every friendship, held until the next catch-up starts (see ``holdUntilCatchUp()``); nil
        /// while frames flow.
        var holding: [(frame: PublishedFrame, send: Bool)]? = []
        var closed = false
    }

    let socket: any RelaySocket
    /// Entries after this id were stored after the socket's subscription was live (Redis time).
    let openedAfter: StreamID
    /// Shared by every feed of the node (one reference per socket instead of a store and a logger each).
    private let context: FeedContext
    private var store: MessageStore { context.store }
    private var logger: Logger { context.logger }
    /// A `Mutex` lives inside this object; a `NIOLockedValueBox` would be one more allocation per socket.
    private let state = Mutex(State())

    init(socket: any RelaySocket, openedAfter: StreamID, context: FeedContext) {
        self.socket = socket
        self.openedAfter = openedAfter
        self.context = context
    }

    func close() {
        state.withLock { $0.closed = true }
    }

    /// Holds every live frame from now until the next ``catchUp(friendships:)``: the node's subscriber lost its
    /// connection, and whatever was published meanwhile must come from the streams before anything newer.
    func holdUntilCatchUp() {
        state.withLock { state in
            if state.holding == nil { state.holding = [] }
        }
    }

    /// - Parameter send: false for the socket that sent the message: it must not get it back, but its cursor moves
    ///   on past it.
    func deliver(_ frame: PublishedFrame, send: Bool = true) {
        // Sending under the lock keeps live frames and fills in one order; `send` only enqueues.
        state.withLock { state in
            guard !state.closed else { return }
            if state.holding != nil {
                state.holding!.append((frame, send))
                return
            }
            // Mutated in place in the dictionary: a copy would make every held-back append copy the whole array.
            Self.accept(frame, send: send, into: &state.friendships[frame.friendship, default: FriendshipState(last: openedAfter)], socket: socket)
        }
    }

    /// Records an entry this socket sent (its ack came back): a fill must not hand it back to it.
    func sent(_ id: StreamID, friendship: String) {
        state.withLock { state in
            guard !state.closed else { return }
            state.friendships[friendship, default: FriendshipState(last: openedAfter)].recordSent(id)
        }
    }

    /// Holds `frame` back while a fill of its friendship runs, else applies it.
    private static func accept(_ frame: PublishedFrame, send: Bool, into entry: inout FriendshipState, socket: any RelaySocket) {
        if entry.heldBack != nil {
            entry.heldBack!.append((frame, send))
        } else {
            apply(frame, send: send, to: &entry, socket: socket)
        }
    }

    /// Delivers `frame` unless the socket has it already.
    private static func apply(_ frame: PublishedFrame, send: Bool, to entry: inout FriendshipState, socket: any RelaySocket) {
        guard frame.id > entry.last else { return }
        entry.advance(to: frame.id)
        if send { socket.send(frame: frame.bytes) }
    }

    /// Reads the streams of `friendships` (and of every friendship the socket has had frames of) from where this
    /// socket is: after it opened (before it reads any of its client's frames), and after the node's subscriber came
    /// back. The frames held since then wait behind each friendship's read. Returns when the reads are done.
    func catchUp(friendships: [String]) async {
        let starts = state.withLock { state -> [String] in
            guard !state.closed else { return [] }
            let held = state.holding ?? []
            state.holding = nil
            var starts: [String] = []
            let all = Set(friendships).union(state.friendships.keys).union(held.map(\.frame.friendship))
            for friendship in all {
                var entry = state.friendships[friendship] ?? FriendshipState(last: openedAfter)
                if entry.heldBack == nil {
                    entry.heldBack = []
                    starts.append(friendship)
                } else {
                    // A fill is running and may have read past already: it reads once more when done.
                    entry.readAgain = true
                }
                state.friendships[friendship] = entry
            }
            // In arrival order, behind whatever each friendship's running fill already holds.
            for (frame, send) in held { state.friendships[frame.friendship]!.heldBack!.append((frame, send)) }
            return starts
        }
        let fills = starts.map { friendship in Task { await fill(friendship) } }
        for fill in fills { await fill.value }
    }

    /// Reads every entry after the last one the socket has, delivers what it lacks, then replays the held-back
    /// frames.
    private func fill(_ friendship: String) async {
        var delay: UInt64 = 100_000_000
        while true {
            do {
                guard let from = state.withLock({ $0.friendships[friendship]?.last }) else { return }
                try await store.all(friendship: friendship, after: from.description, pageSize: 500) { page in
                    await socket.waitForCapacity()
                    for message in page { self.deliverStored(message) }
                }
                break
            } catch {
                // Redis is away; the held-back frames wait, and the fill tries again.
                if state.withLock({ $0.closed }) { return }
                logger.debug("gap fill failed; retrying", metadata: ["friendship": "\(friendship)", "error": "\(error)"])
                try? await Task.sleep(nanoseconds: delay)
                delay = min(delay * 2, 2_000_000_000)
            }
        }
        let readAgain = state.withLock { state -> Bool in
            guard var entry = state.friendships[friendship] else { return false }
            defer { state.friendships[friendship] = entry }
            if entry.readAgain {
                // Keep holding back and read once more from where the socket is now.
                entry.readAgain = false
                return true
            }
            let heldBack = entry.heldBack ?? []
            entry.heldBack = nil
            for held in heldBack { Self.apply(held.frame, send: held.send, to: &entry, socket: socket) }
            return false
        }
        if readAgain { Task { await fill(friendship) } }
    }

    private func deliverStored(_ message: StoredMessage) {
        guard let id = StreamID(message.id) else { return }
        state.withLock { state in
            guard !state.closed, var entry = state.friendships[message.friendship], id > entry.last else { return }
            let sentHere = entry.sentHere.contains(id)
            entry.advance(to: id)
            state.friendships[message.friendship] = entry
            if !sentHere { socket.send(OutboundFrame.message(message)) }
        }
    }
}

/// What every ``SocketFeed`` of a node needs: the message store to fill gaps from, and where to log.
final class FeedContext: Sendable {
    let store: MessageStore
    let logger: Logger

    init(store: MessageStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }
}
