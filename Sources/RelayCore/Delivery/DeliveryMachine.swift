import ChatProtocol

/// One socket's live delivery as a value: every event (a frame published or read back, a store reply, the
/// subscriber lost, a catch-up, a sync) says what goes to the socket, in which order, and what to read. No I/O and no
/// clock: ``SocketFeed`` keeps it under its lock and carries out what it returns.
///
/// Pub/sub is at most once, but on one connection it loses nothing and keeps the publish order: publishes are lost
/// only while a subscriber has no connection. So from the socket's creation, and again from the moment the node's
/// subscriber loses its connection, every live frame is held until a catch-up has started a fill of each friendship
/// from the last id the socket has; live frames of a friendship wait behind its fill's reading. A sync holds the
/// friendships it replays until it is over. A frame that may be the socket's own message waits for its store reply.
/// On a cluster, a live frame naming an entry the socket lacks waits for it: a grace, then a fill.
/// All of these hold in one place per friendship (``FriendshipDelivery/held``), in id order.
///
/// Frames due to the socket collect in ``outgoing``; one caller at a time sends them (``Action/send``), so the order
/// is the machine's, whoever's event produced them, and nobody sends while holding the lock.
struct DeliveryMachine {
    enum Action: Equatable {
        case nothing
        /// Frames are due and nobody is sending: take them with ``takeOutgoing(_:)`` and send them, until it gives
        /// none.
        case send
        /// Too many frames held for a socket that cannot take them: close it as a slow consumer.
        case closeSlowConsumer
        /// A live frame names a previous entry the socket has not reached (on a cluster, where storing and publishing
        /// are two steps) and it did not come within the grace: read the friendship from ``readPosition(of:)`` as a
        /// catch-up's fill does.
        case fill(String)
        /// A live frame names a previous entry the socket has not reached. Usually it is on its way (two nodes'
        /// publishes crossed, or the store reply of the socket's own send is late): the frames behind it wait, and
        /// after a grace ``gapGraceEnded(_:)`` reads the stream only if the entry is still missing.
        case awaitGap(String)
    }

    /// How a fill's end leaves its friendship.
    enum FillEnd: Equatable {
        /// A catch-up came while the fill ran (it may have read past the gap already): read again from
        /// ``readPosition(of:)``.
        case readAgain
        case done(Action)
    }

    /// Past this many held frames, the socket is closed as a slow consumer (1008) instead of growing the node's
    /// memory; the client reconnects and syncs.
    static let maximumHeld = 10_000

    /// Entries after this id were stored after the socket's subscription was live (Redis time).
    let openedAfter: StreamID
    private(set) var friendships: [String: FriendshipDelivery] = [:]
    /// Every live frame is held until the next catch-up begins: at the start, and after the subscriber lost its
    /// connection.
    private(set) var catchUpDue = true
    /// The friendships a running `sync` replays.
    private(set) var syncing: SyncScope?
    private(set) var heldCount = 0
    private(set) var isClosed = false
    /// Frames due, in the order they go out.
    private var outgoing: [PublishedMessage] = []
    /// A caller is sending ``outgoing``; others only add to it.
    private var isSending = false

    init(openedAfter: StreamID) {
        self.openedAfter = openedAfter
    }

    // MARK: Events

    /// A frame came on the user's channel.
    mutating func published(_ frame: PublishedMessage) -> Action {
        offer(frame, read: false)
    }

    /// A fill read an entry from the stream.
    mutating func read(_ frame: PublishedMessage) -> Action {
        offer(frame, read: true)
    }

    /// The socket is sending to `friendship`: until the store replies, a frame of its user's might be its own.
    mutating func willStore(friendship: String) {
        guard !isClosed else { return }
        friendships[friendship, default: FriendshipDelivery(last: openedAfter)].inFlight += 1
    }

    /// The store replied: with the entry's id, or nil when it failed. The socket must not get that entry back; frames
    /// that waited to see whether they were it go on.
    mutating func stored(_ id: StreamID?, friendship: String) -> Action {
        guard !isClosed else { return .nothing }
        return update(friendship) { entry in
            entry.inFlight = max(0, entry.inFlight - 1)
            if let id { entry.recordSent(id) }
        }
    }

    /// The node's subscriber lost its connection: whatever is published until it is back may be lost.
    mutating func subscriberLost() {
        catchUpDue = true
    }

    /// A catch-up begins, over `friendships` and every one the socket has seen: returns those whose fill starts now
    /// (read each from ``readPosition(of:)``, hand over what it reads with ``read(_:)``, then ``fillEnded(_:)``). A
    /// friendship whose fill is running already reads again when it ends.
    mutating func catchUpBegan(friendships named: [String]) -> [String] {
        guard !isClosed else { return [] }
        catchUpDue = false
        for friendship in named where friendships[friendship] == nil {
            friendships[friendship] = FriendshipDelivery(last: openedAfter)
        }
        var starts: [String] = []
        // By index: looping over the keys while changing the values would copy the dictionary.
        var index = friendships.startIndex
        while index != friendships.endIndex {
            if friendships.values[index].startFill() { starts.append(friendships.keys[index]) }
            friendships.formIndex(after: &index)
        }
        return starts
    }

    func readPosition(of friendship: String) -> StreamID? {
        isClosed ? nil : friendships[friendship]?.readPosition
    }

    /// The grace of an ``Action/awaitGap(_:)`` is over: a fill if an entry is still missing, another grace if the
    /// missing entry may be the socket's own send whose store has not replied, else nothing.
    mutating func gapGraceEnded(_ friendship: String) -> Action {
        guard !isClosed, friendships[friendship] != nil else { return .nothing }
        switch friendships[friendship]!.gapAfterGrace() {
        case .closed: return .nothing
        case .mayBeOwnInFlight: return .awaitGap(friendship)
        case .open: return .fill(friendship)
        }
    }

    /// A fill read everything up to the stream's end.
    mutating func fillEnded(_ friendship: String) -> FillEnd {
        guard !isClosed, friendships[friendship] != nil else { return .done(.nothing) }
        if friendships[friendship]!.readAgain {
            friendships[friendship]!.readAgain = false
            return .readAgain
        }
        return .done(update(friendship) { $0.filledThrough = nil })
    }

    /// A `sync` request was read: frames of `scope`'s friendships wait until ``syncEnded(replayedThrough:)``.
    mutating func syncBegan(_ scope: SyncScope) {
        guard !isClosed else { return }
        syncing = scope
    }

    /// The sync's replay is over (or failed), having sent each friendship's entries up to `replayedThrough`: the
    /// frames held meanwhile follow, except those the replay already brought.
    mutating func syncEnded(replayedThrough replayed: [String: StreamID]) -> Action {
        guard !isClosed, let scope = syncing else { return .nothing }
        syncing = nil
        for (friendship, id) in replayed {
            friendships[friendship, default: FriendshipDelivery(last: openedAfter)].advance(past: id)
        }
        guard !catchUpDue else { return .nothing }
        let due = outgoing.count
        var index = friendships.startIndex
        while index != friendships.endIndex {
            if scope.covers(friendships.keys[index]) { heldCount -= friendships.values[index].release(into: &outgoing) }
            friendships.formIndex(after: &index)
        }
        return afterChange(due: due)
    }

    mutating func close() {
        isClosed = true
        friendships = [:]
        outgoing = []
        heldCount = 0
    }

    // MARK: Sending

    /// Hands over the frames due (swapping them with `batch`, the caller's emptied array, whose storage the next
    /// frames reuse). An empty batch ends the caller's turn to send.
    mutating func takeOutgoing(_ batch: inout [PublishedMessage]) {
        batch.removeAll(keepingCapacity: true)
        swap(&outgoing, &batch)
        if batch.isEmpty { isSending = false }
    }

    // MARK: Rules

    private func isHeldWhole(_ friendship: String) -> Bool {
        catchUpDue || syncing?.covers(friendship) == true
    }

    /// Sends `frame` now if nothing holds it, else keeps it in id order among the held ones. A live frame behind a gap
    /// waits for the fill it starts.
    private mutating func offer(_ frame: PublishedMessage, read: Bool) -> Action {
        guard !isClosed else { return .nothing }
        let due = outgoing.count
        let holdsWhole = isHeldWhole(frame.friendship)
        var opensGap = false
        // Mutated in place in the dictionary: a copy would make every held append copy the whole array. Defaulted:
        // a frame may come before the socket's first catch-up named the friendship.
        heldCount += friendships[frame.friendship, default: FriendshipDelivery(last: openedAfter)].offer(
            frame,
            read: read,
            holdsWhole: holdsWhole,
            outgoing: &outgoing,
            opensGap: &opensGap
        )
        let action = afterChange(due: due)
        // A frame behind a gap is held with everything after it: nothing went out with it.
        return opensGap && action == .nothing ? .awaitGap(frame.friendship) : action
    }

    /// Applies `change` to a friendship, then lets go what it frees.
    private mutating func update(_ friendship: String, _ change: (inout FriendshipDelivery) -> Void) -> Action {
        let due = outgoing.count
        let holdsWhole = isHeldWhole(friendship)
        heldCount += friendships[friendship, default: FriendshipDelivery(last: openedAfter)].change(
            change,
            holdsWhole: holdsWhole,
            outgoing: &outgoing
        )
        return afterChange(due: due)
    }

    /// After an event that may have made frames due (there were `due` before it) or held too many.
    private mutating func afterChange(due: Int) -> Action {
        guard heldCount <= Self.maximumHeld else {
            close()
            return .closeSlowConsumer
        }
        guard outgoing.count > due, !isSending else { return .nothing }
        isSending = true
        return .send
    }
}

extension FriendshipDelivery {
    /// Sends `frame` (into `outgoing`) if nothing holds it, else holds it. Returns by how much the held frames grew.
    /// Sets `opensGap` when a live frame names a previous entry the socket lacks (``misses(_:)``) and no grace or fill
    /// is waiting for one yet; a running fill reads again.
    fileprivate mutating func offer(
        _ frame: PublishedMessage,
        read: Bool,
        holdsWhole: Bool,
        outgoing: inout [PublishedMessage],
        opensGap: inout Bool
    ) -> Int {
        guard frame.id > last else { return 0 }
        let behindGap = !read && missesPrevious(frame)
        if read {
            filledThrough = max(filledThrough ?? last, frame.id)
        } else if behindGap {
            if filledThrough != nil {
                readAgain = true
            } else if !awaitingGap {
                awaitingGap = true
                opensGap = true
            }
        }
        // The common case, a live frame that nothing holds: straight out.
        if !holdsWhole, held.isEmpty, !behindGap, frame.id <= releaseLimit, !mayBeOwnInFlight(frame) {
            if takeTurn(frame) { outgoing.append(frame) }
            return 0
        }
        let added = hold(frame) ? 1 : 0
        return holdsWhole ? added : added - release(into: &outgoing)
    }

    /// Applies `change`, then lets go what it frees. Returns by how much the held frames grew.
    fileprivate mutating func change(
        _ change: (inout FriendshipDelivery) -> Void,
        holdsWhole: Bool,
        outgoing: inout [PublishedMessage]
    ) -> Int {
        change(&self)
        return holdsWhole ? 0 : -release(into: &outgoing)
    }

    enum GapAfterGrace {
        case closed
        case mayBeOwnInFlight
        /// A fill starts: read from ``readPosition``.
        case open
    }

    /// Whether a held live frame still names an entry the socket lacks once the grace is over. A running fill reads
    /// past any gap (it reads again when a frame behind one comes).
    fileprivate mutating func gapAfterGrace() -> GapAfterGrace {
        awaitingGap = false
        guard filledThrough == nil else { return .closed }
        // In id order, a frame's previous entry is the held frame before it, or the socket has it, or it is missing.
        var reached = last
        for frame in held {
            if let previous = frame.previous, misses(previous, after: reached) {
                if mayBeOwnStoreInFlight(previous) {
                    awaitingGap = true
                    return .mayBeOwnInFlight
                }
                _ = startFill()
                return .open
            }
            reached = max(reached, frame.id)
        }
        return .closed
    }

    /// Starts a fill of this friendship (true), or asks the running one to read again (false).
    fileprivate mutating func startFill() -> Bool {
        guard filledThrough == nil else {
            readAgain = true
            return false
        }
        filledThrough = last
        return true
    }

    /// Moves the held frames that may go now, from the front, into `outgoing`: up to where a fill has read, not past
    /// one that may be the socket's own message, nor past a gap. Returns how many left the held ones.
    fileprivate mutating func release(into outgoing: inout [PublishedMessage]) -> Int {
        var next = 0
        let limit = releaseLimit
        while next < held.count, held[next].id <= limit, !mayBeOwnInFlight(held[next]), !missesPrevious(held[next]) {
            if takeTurn(held[next]) { outgoing.append(held[next]) }
            next += 1
        }
        if next > 0 { held.removeFirst(next) }
        return next
    }
}
