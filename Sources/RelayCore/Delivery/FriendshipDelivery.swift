import ChatProtocol

/// Where one socket is in one friendship: the last id it has, the frames waiting to go to it, and its own sends whose
/// store replies decide which frames it must not get back.
struct FriendshipDelivery {
    var last: StreamID
    /// Frames not yet sent, in id order, each id once: held while a catch-up, a fill or a sync holds the friendship,
    /// or while the first of them may be this socket's own message.
    var held: [PublishedMessage] = []
    /// While a fill reads the stream: the highest id it has read. Held live frames up to there may go; those after
    /// it wait for the read to reach them. Nil when no fill runs.
    var filledThrough: StreamID?
    /// A catch-up was asked for while a fill was running (which may have read past already): read again after.
    var readAgain = false
    /// A live frame named an entry the socket lacks, and the grace before a fill reads it is running.
    var awaitingGap = false
    /// Entries after `last` that this socket sent itself (their store replies came), which it must not get back;
    /// in id order.
    var sentHere: [StreamID] = []
    /// This socket's sends to the friendship whose store reply has not come yet.
    var inFlight = 0
    /// The highest id a store reply gave this socket: the sends still in flight get higher ones, because one
    /// pipelined connection runs a node's scripts in the order they were sent.
    var repliedThrough = StreamID.zero

    init(last: StreamID) {
        self.last = last
    }

    /// Where a fill reads from: after what the socket has, and after what the fill already read.
    var readPosition: StreamID {
        max(last, filledThrough ?? last)
    }

    /// Frames up to this id may go now (a fill vouches for the order up to where it read).
    var releaseLimit: StreamID {
        filledThrough ?? .maximum
    }

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

    /// Sent by this socket's user, new to the socket, not known as this socket's own, and a send of the socket's is
    /// still in flight that may turn out to be it.
    func mayBeOwnInFlight(_ frame: PublishedMessage) -> Bool {
        frame.isOwn && mayBeOwnStoreInFlight(frame.id)
    }

    /// `id` is new to the socket, not known as its own, and a send of the socket's is still in flight whose entry it
    /// may turn out to be.
    func mayBeOwnStoreInFlight(_ id: StreamID) -> Bool {
        inFlight > 0 && id > repliedThrough && id > last && !sentHere.contains(id)
    }

    /// `previous` is an entry this socket has neither received, nor sent itself, nor a running fill read: a message
    /// is missing before the frame that names it.
    func misses(_ previous: StreamID) -> Bool {
        misses(previous, after: readPosition)
    }

    /// `previous` is after `position` and not the socket's own sent entry.
    func misses(_ previous: StreamID, after position: StreamID) -> Bool {
        previous > position && !sentHere.contains(previous)
    }

    /// A live frame naming an entry the socket lacks: it waits for that entry, live or read.
    func missesPrevious(_ frame: PublishedMessage) -> Bool {
        guard let previous = frame.previous else { return false }
        return misses(previous)
    }

    /// Puts `frame` among the held ones by its id, unless it is there already. True when it was added.
    mutating func hold(_ frame: PublishedMessage) -> Bool {
        if let lastHeld = held.last, lastHeld.id >= frame.id {
            let index = held.firstIndex { $0.id >= frame.id }!
            guard held[index].id != frame.id else { return false }
            held.insert(frame, at: index)
        } else {
            held.append(frame)
        }
        return true
    }

    /// A frame this socket must see, now that it is its turn: false when the socket has it or sent it. Moves the
    /// socket past it either way.
    mutating func takeTurn(_ frame: PublishedMessage) -> Bool {
        guard frame.id > last else { return false }
        let sentHere = frame.isOwn && self.sentHere.contains(frame.id)
        advance(to: frame.id)
        return !sentHere
    }
}
