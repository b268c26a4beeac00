import Logging
import RedisClient
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
        /// Frames that arrived while a gap is being filled, in arrival order; nil when not filling.
        var heldBack: [PublishedFrame]?
        /// A catch-up was asked for while a fill was running (which may have read past already): read again after.
        var readAgain = false
        /// Entries after `last` that this socket sent itself (their store replies came), which it must not get back;
        /// in id order.
        var sentHere: [StreamID] = []
        /// This socket's sends to the friendship whose store reply has not come yet.
        var inFlight = 0
        /// The highest id a store reply gave this socket: the sends still in flight get higher ones, because one
        /// pipelined connection runs a node's scripts in the order they were sent.
        var repliedThrough = StreamID.zero
        /// Frames behind one that may be this socket's own message, whose store reply has not come: in arrival
        /// order, released as replies come.
        var undecided: [PublishedFrame] = []

        mutating func recordSent(_ id: StreamID) {
            repliedThrough = max(repliedThrough, id)
            guard id > last else { return }
            if let lastSent = sentHere.last, id < lastSent {
                sentHere.insert(id, at: sentHere.firstIndex { $0 > id } ?? sentHere.endIndex)
            } else {
                sentHere.append(id)
            }
        }

        /// The socket has every entry up to `id` (a sync replayed them), which may be behind where it is.
        mutating func advance(past id: StreamID) {
            if id > last { advance(to: id) }
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

        /// Sent by this socket's user, new to the socket, not known as this socket's own, and a send of the
        /// socket's is still in flight that may turn out to be it.
        func mayBeOwnInFlight(_ frame: PublishedFrame) -> Bool {
            frame.isOwn && inFlight > 0 && frame.id > repliedThrough && frame.id > last && !sentHere.contains(frame.id)
        }
    }

    private struct State {
        var friendships: [String: FriendshipState] = [:]
        /// Live frames of every friendship, held until the next catch-up starts (see ``holdUntilCatchUp()``); nil
        /// while frames flow.
        var holding: [PublishedFrame]? = []
        /// One field for both, so that a feed pays a pointer's room for syncs it almost never runs.
        var phase = Phase.open

        var closed: Bool {
            if case .closed = phase { true } else { false }
        }
    }

    private enum Phase {
        case open
        /// From when the socket's `sync` request was read until its replay is over.
        case syncing(SyncHold)
        case closed
    }

    /// Frames due to the socket while its `sync` replays their friendships: the contract wants the replay and
    /// nothing else of them until `synced`.
    ///
    /// A class, so that a feed without a sync (almost every one) pays one nil pointer for it, not the struct's room.
    private final class SyncHold {
        let scope: SyncScope
        /// In the order they would have gone out, at most ``maximumHeldDuringSync``.
        var held: [PublishedFrame] = []

        init(scope: SyncScope) {
            self.scope = scope
        }
    }

    /// Past this many live frames held behind a sync, the socket is closed as a slow consumer (1008) instead of
    /// growing the node's memory; the client reconnects and syncs again.
    static let maximumHeldDuringSync = 10_000

    /// How a gap fill waits for Redis to come back: soon at first, every 2 s at most.
    static let fillBackoff = Backoff(initial: .milliseconds(100), maximum: .seconds(2))

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
        state.withLock { $0.phase = .closed }
    }

    /// Holds every live frame from now until the next ``catchUp(friendships:)``: the node's subscriber lost its
    /// connection, and whatever was published meanwhile must come from the streams before anything newer.
    func holdUntilCatchUp() {
        state.withLock { state in
            if state.holding == nil { state.holding = [] }
        }
    }

    func deliver(_ frame: PublishedFrame) {
        // Sending under the lock keeps live frames and fills in one order; `send` only enqueues.
        state.withLock { state in
            guard !state.closed else { return }
            if state.holding != nil {
                state.holding!.append(frame)
                return
            }
            // Mutated in place in the dictionary: a copy would make every held-back append copy the whole array.
            Self.accept(
                frame,
                into: &state.friendships[frame.friendship, default: FriendshipState(last: openedAfter)],
                phase: &state.phase,
                socket: socket
            )
        }
    }

    /// The socket is sending to `friendship`: until the store replies, a frame of its user's might be its own.
    func willStore(friendship: String) {
        state.withLock { state in
            guard !state.closed else { return }
            state.friendships[friendship, default: FriendshipState(last: openedAfter)].inFlight += 1
        }
    }

    /// The store replied: with the entry's id, or nil when it failed. The socket must not get that entry back;
    /// frames that waited to see whether they were it go on.
    func didStore(_ id: StreamID?, friendship: String) {
        state.withLock { state in
            guard !state.closed else { return }
            // In place: one lookup, once per send.
            Self.settle(id, &state.friendships[friendship, default: FriendshipState(last: openedAfter)], phase: &state.phase, socket: socket)
        }
    }

    /// A `sync` request was read: until ``endSync(replayedThrough:)``, frames of `scope`'s friendships wait.
    func beginSync(_ scope: SyncScope) {
        state.withLock { state in
            guard !state.closed else { return }
            state.phase = .syncing(SyncHold(scope: scope))
        }
    }

    /// The sync's replay is over (or failed), having sent each friendship's entries up to `replayedThrough`: the
    /// frames held meanwhile follow, except those the replay already brought.
    func endSync(replayedThrough replayed: [String: StreamID]) {
        state.withLock { state in
            guard case .syncing(let hold) = state.phase else { return }
            state.phase = .open
            for (friendship, id) in replayed {
                state.friendships[friendship, default: FriendshipState(last: openedAfter)].advance(past: id)
            }
            for frame in hold.held {
                Self.send(
                    frame,
                    to: &state.friendships[frame.friendship, default: FriendshipState(last: openedAfter)],
                    phase: &state.phase,
                    socket: socket
                )
            }
        }
    }

    private static func settle(_ id: StreamID?, _ entry: inout FriendshipState, phase: inout Phase, socket: any RelaySocket) {
        entry.inFlight = max(0, entry.inFlight - 1)
        if let id { entry.recordSent(id) }
        if !entry.undecided.isEmpty { release(&entry, phase: &phase, socket: socket) }
    }

    /// Holds `frame` back while a fill of its friendship runs, else applies it.
    private static func accept(_ frame: PublishedFrame, into entry: inout FriendshipState, phase: inout Phase, socket: any RelaySocket) {
        if entry.heldBack != nil {
            entry.heldBack!.append(frame)
        } else {
            apply(frame, to: &entry, phase: &phase, socket: socket)
        }
    }

    /// Delivers `frame` unless the socket has it already or sent it, keeping it (and what follows) while it may be
    /// the socket's own message whose reply has not come.
    private static func apply(_ frame: PublishedFrame, to entry: inout FriendshipState, phase: inout Phase, socket: any RelaySocket) {
        if !entry.undecided.isEmpty || entry.mayBeOwnInFlight(frame) {
            entry.undecided.append(frame)
        } else {
            send(frame, to: &entry, phase: &phase, socket: socket)
        }
    }

    private static func release(_ entry: inout FriendshipState, phase: inout Phase, socket: any RelaySocket) {
        var next = 0
        while next < entry.undecided.count, !entry.mayBeOwnInFlight(entry.undecided[next]) {
            send(entry.undecided[next], to: &entry, phase: &phase, socket: socket)
            next += 1
        }
        if next > 0 { entry.undecided.removeFirst(next) }
    }

    /// The one place a frame goes to the socket, unless a sync replays its friendship: then it waits for the
    /// replay's end, which tells what the replay already sent.
    private static func send(_ frame: PublishedFrame, to entry: inout FriendshipState, phase: inout Phase, socket: any RelaySocket) {
        guard frame.id > entry.last else { return }
        if case .syncing(let hold) = phase, hold.scope.covers(frame.friendship) {
            guard hold.held.count < maximumHeldDuringSync else {
                phase = .open
                return socket.close(.slowConsumer)
            }
            hold.held.append(frame)
            return
        }
        let sentHere = frame.isOwn && entry.sentHere.contains(frame.id)
        entry.advance(to: frame.id)
        if !sentHere { socket.send(frame: frame.bytes) }
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
            let all = Set(friendships).union(state.friendships.keys).union(held.map(\.friendship))
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
            for frame in held { state.friendships[frame.friendship]!.heldBack!.append(frame) }
            return starts
        }
        let fills = starts.map { friendship in Task { await fill(friendship) } }
        for fill in fills { await fill.value }
    }

    /// Reads every entry after the last one the socket has, delivers what it lacks, then replays the held-back
    /// frames.
    private func fill(_ friendship: String) async {
        var backoff = Self.fillBackoff
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
                try? await Task.sleep(for: backoff.nextDelay())
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
            for frame in heldBack { Self.apply(frame, to: &entry, phase: &state.phase, socket: socket) }
            return false
        }
        if readAgain { Task { await fill(friendship) } }
    }

    private func deliverStored(_ message: StoredMessage) {
        guard let frame = PublishedFrame(message, owner: socket.userID) else { return }
        state.withLock { state in
            guard !state.closed, var entry = state.friendships[message.friendship] else { return }
            Self.apply(frame, to: &entry, phase: &state.phase, socket: socket)
            state.friendships[message.friendship] = entry
        }
    }
}
