import Logging
import Synchronization

/// Live delivery to one socket, without gaps.
///
/// Pub/sub is at most once: a publish can be missed while a subscription is coming back, or never go out when
/// Redis stops right after storing. Every published frame names the friendship's previous entry (`prev`), and
/// the feed remembers the last id it delivered per friendship. A frame whose `prev` is newer than that means a
/// gap: the feed reads the missing entries from the stream, delivers them, then the frames held back meanwhile,
/// so the socket sees every message of its friendships in id order. Ids it already has are dropped.
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

    /// Friendships this socket has had frames of.
    var knownFriendships: [String] { state.withLock { Array($0.friendships.keys) } }

    /// - Parameter send: false for the socket that sent the message: it must not get it back, but its cursor moves
    ///   on, or the friend's next message would look like a gap.
    func deliver(_ frame: PublishedFrame, send: Bool = true) {
        // Sending under the lock keeps live frames and fills in one order; `send` only enqueues.
        let gapAfter = state.withLock { state -> StreamID? in
            guard !state.closed else { return nil }
            // Mutated in place in the dictionary: a copy would make every held-back append copy the whole array.
            return Self.accept(
                frame,
                send: send,
                into: &state.friendships[frame.friendship, default: FriendshipState(last: openedAfter)],
                socket: socket
            )
        }
        if let gapAfter { startFill(frame.friendship, after: gapAfter) }
    }

    /// Records an entry this socket sent (its ack came back): a fill must not hand it back to it.
    func sent(_ id: StreamID, friendship: String) {
        state.withLock { state in
            guard !state.closed else { return }
            state.friendships[friendship, default: FriendshipState(last: openedAfter)].recordSent(id)
        }
    }

    /// Holds `frame` back while a fill runs, else applies it; returns where a new fill must start, if one must.
    private static func accept(_ frame: PublishedFrame, send: Bool, into entry: inout FriendshipState, socket: any RelaySocket) -> StreamID? {
        if entry.heldBack != nil {
            entry.heldBack!.append((frame, send))
            return nil
        }
        return apply(frame, send: send, to: &entry, socket: socket) ? nil : entry.last
    }

    /// Delivers `frame` if it follows what the socket has (true), drops it if the socket has it (true), or holds it
    /// back for a fill when entries are missing before it (false).
    private static func apply(_ frame: PublishedFrame, send: Bool, to entry: inout FriendshipState, socket: any RelaySocket) -> Bool {
        if frame.id <= entry.last { return true }
        if frame.previous <= entry.last {
            entry.advance(to: frame.id)
            if send { socket.send(frame: frame.bytes) }
            return true
        }
        entry.heldBack = (entry.heldBack ?? []) + [(frame, send)]
        return false
    }

    /// Reads the streams of `friendships` from where this socket is: after it opened (before it reads any of its
    /// client's frames), and after the node's subscriber came back. Returns when the reads are done.
    func catchUp(friendships: [String]) async {
        var fills: [Task<Void, Never>] = []
        for friendship in Set(friendships + knownFriendships) {
            let after = state.withLock { state -> StreamID? in
                guard !state.closed else { return nil }
                var entry = state.friendships[friendship] ?? FriendshipState(last: openedAfter)
                defer { state.friendships[friendship] = entry }
                guard entry.heldBack == nil else {
                    entry.readAgain = true
                    return nil
                }
                entry.heldBack = []
                return entry.last
            }
            if let after { fills.append(startFill(friendship, after: after)) }
        }
        for fill in fills { await fill.value }
    }

    @discardableResult
    private func startFill(_ friendship: String, after: StreamID) -> Task<Void, Never> {
        Task { await fill(friendship, after: after) }
    }

    /// Reads every entry after `after`, delivers what the socket lacks, then replays the held-back frames.
    private func fill(_ friendship: String, after: StreamID) async {
        var delay: UInt64 = 100_000_000
        while true {
            do {
                let from = state.withLock { $0.friendships[friendship]?.last } ?? after
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
        let gapAfter = state.withLock { state -> StreamID? in
            guard var entry = state.friendships[friendship] else { return nil }
            defer { state.friendships[friendship] = entry }
            if entry.readAgain {
                // Keep holding back and read once more from where the socket is now.
                entry.readAgain = false
                return entry.last
            }
            let heldBack = entry.heldBack ?? []
            entry.heldBack = nil
            for (index, held) in heldBack.enumerated() where !Self.apply(held.frame, send: held.send, to: &entry, socket: socket) {
                // Another gap behind this one: keep the rest, in order, for the next fill.
                entry.heldBack = Array(heldBack[index...])
                return entry.last
            }
            return nil
        }
        if let gapAfter { startFill(friendship, after: gapAfter) }
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
