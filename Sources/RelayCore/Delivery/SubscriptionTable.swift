/// Which channels this node must be subscribed to, from the sockets it holds: a user's first socket subscribes the
/// user's channel, the last one to go unsubscribes it. A value: every change returns what to tell Redis, and
/// ``SocketRegistry`` carries the actions out in the order they were returned.
///
/// Each subscription has a generation, so that a socket that waited for one can tell whether it is still the
/// channel's (the user's other sockets may all have closed, and a new subscription begun, while it waited).
struct SubscriptionTable<Member: AnyObject> {
    enum Action: Equatable {
        /// Subscribe the channel; sockets joining it wait for this generation's confirmation.
        case subscribe(channel: String, generation: UInt64)
        /// Already subscribed (or subscribing) as this generation.
        case join(generation: UInt64)
        /// The last member left: unsubscribe, which ends this generation.
        case unsubscribe(channel: String, generation: UInt64)
        case nothing
    }

    fileprivate struct Entry {
        /// Usually one; an array costs less than a set per user and copies without allocating.
        var members: [Member]
        var generation: UInt64
    }

    private var entries: [String: Entry] = [:]
    private var nextGeneration: UInt64 = 0

    /// Adds `member` to `channel` (once, however often it is added).
    mutating func add(_ member: Member, to channel: String) -> Action {
        if var entry = entries[channel] {
            if !entry.members.contains(where: { $0 === member }) { entry.members.append(member) }
            entries[channel] = entry
            return .join(generation: entry.generation)
        }
        nextGeneration += 1
        entries[channel] = Entry(members: [member], generation: nextGeneration)
        return .subscribe(channel: channel, generation: nextGeneration)
    }

    /// Removes `member` from `channel`; the last member's removal unsubscribes it.
    mutating func remove(_ member: Member, from channel: String) -> Action {
        removeFirst(from: channel) { $0 === member }?.action ?? .nothing
    }

    /// Removes the first member of `channel` that `matches`, and says what to tell Redis; nil when none matches.
    mutating func removeFirst(from channel: String, where matches: (Member) -> Bool) -> (member: Member, action: Action)? {
        guard var entry = entries[channel], let index = entry.members.firstIndex(where: matches) else { return nil }
        let member = entry.members.remove(at: index)
        if entry.members.isEmpty {
            entries[channel] = nil
            return (member, .unsubscribe(channel: channel, generation: entry.generation))
        }
        entries[channel] = entry
        return (member, .nothing)
    }

    /// The subscription `channel` has now, if any.
    func generation(of channel: String) -> UInt64? {
        entries[channel]?.generation
    }

    func members(of channel: String) -> [Member] {
        entries[channel]?.members ?? []
    }

    var allMembers: [Member] {
        entries.values.flatMap(\.members)
    }

    var memberCount: Int {
        entries.values.reduce(0) { $0 + $1.members.count }
    }

    /// The members grouped by channel, for a catch-up of every channel's members.
    var membersByChannel: [(channel: String, members: [Member])] {
        entries.map { ($0.key, $0.value.members) }
    }
}

extension SubscriptionTable: Sendable where Member: Sendable {}
extension SubscriptionTable.Entry: Sendable where Member: Sendable {}
