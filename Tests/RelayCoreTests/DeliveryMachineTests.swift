import ChatProtocol
import NIOCore
import Testing

@testable import RelayCore

/// Every order of publishes, store replies, a lost subscriber, catch-ups, fills and syncs, run through the delivery
/// machine without sockets or Redis: the socket must get every entry of its friendship once, in id order, and never
/// its own message back.
@Suite struct DeliveryMachineTests {
    /// One entry of friendship `f1` as bob's socket sees it: from alice, from this very socket, or from bob's other
    /// device.
    struct Entry {
        enum Sender { case alice, thisSocket, otherDevice }
        let id: Int
        let sender: Sender
        /// On a cluster, the live frame names the entry before it.
        var previous: Int?

        var frame: PublishedMessage {
            let from = sender == .alice ? "alice" : "bob"
            let tail = previous.map { #","prev":"\#($0)-0"}"# } ?? "}"
            let text = #"{"id":"\#(id)-0","friend":"f1","from":"\#(from)","to":"x","content":"c","type":"text","ts":1"# + tail
            return PublishedMessage(ByteBuffer(string: text), owner: "bob")!
        }

        /// The same entry as a fill reads it from the stream: without `prev`.
        var storedFrame: PublishedMessage {
            var stored = self
            stored.previous = nil
            return stored.frame
        }
    }

    enum Event: Hashable, CustomStringConvertible {
        /// The store script ran: the entry is in the stream and its publish is on its way.
        case store(Int)
        /// The publish reached the node's subscriber.
        case publish(Int)
        case willStore(Int)
        case stored(Int)
        case subscriberLost
        /// The node's subscriber is (again) subscribed: publishes reach it from here. Numbered: the opening, then
        /// after a loss.
        case subscribed(Int)
        /// A catch-up begins, after subscription `n`.
        case catchUp(Int)
        /// A running fill reads the next entry of the stream.
        case fillStep
        /// A running fill reads to the stream's end as it is now.
        case fillReadAll
        /// A fill that read to the end reports it (entries may have been stored since).
        case fillEnd
        case syncBegin
        /// The sync's replay reads the stream and sends what it finds, straight to the socket.
        case syncReplay
        case syncEnd
        /// The grace after a gap is over (nothing happens unless one is running).
        case graceEnd

        var description: String {
            switch self {
            case .store(let id): "store\(id)"
            case .publish(let id): "publish\(id)"
            case .willStore(let id): "willStore\(id)"
            case .stored(let id): "stored\(id)"
            case .subscriberLost: "lost"
            case .subscribed(let n): "subscribed\(n)"
            case .catchUp(let n): "catchUp\(n)"
            case .fillStep: "fillStep"
            case .fillReadAll: "fillReadAll"
            case .fillEnd: "fillEnd"
            case .syncBegin: "syncBegin"
            case .syncReplay: "syncReplay"
            case .syncEnd: "syncEnd"
            case .graceEnd: "graceEnd"
            }
        }
    }

    /// Runs events against a machine, standing in for Redis and the socket.
    struct Run {
        let entries: [Entry]
        var machine = DeliveryMachine(openedAfter: .zero)
        var stream: [Entry] = []
        var received: [Int] = []
        /// Publishes are lost until the socket's subscription is live.
        var connected = false
        var filling = false
        /// The running fill has read the stream at least once (a fill ends only after reading).
        var fillHasRead = false
        var syncCursor = 0
        var replayedThrough: StreamID?
        var closedAsSlowConsumer = false
        /// A gap's grace is running.
        var awaitingGap = false
        /// Fills the machine asked for (catch-ups not counted).
        var gapFills = 0

        init(entries: [Entry]) {
            self.entries = entries
        }

        func entry(_ id: Int) -> Entry { entries.first { $0.id == id }! }

        mutating func carryOut(_ action: DeliveryMachine.Action) {
            switch action {
            case .nothing: break
            case .closeSlowConsumer: closedAsSlowConsumer = true
            case .fill:
                gapFills += 1
                filling = true
                fillHasRead = false
            case .awaitGap:
                awaitingGap = true
            case .send:
                var batch: [PublishedMessage] = []
                repeat {
                    machine.takeOutgoing(&batch)
                    received += batch.map { Int($0.id.milliseconds) }
                } while !batch.isEmpty
            }
        }

        mutating func apply(_ event: Event) {
            switch event {
            case .store(let id): stream.append(entry(id))
            case .publish(let id):
                // Published while the subscriber had no connection: lost.
                if connected { carryOut(machine.published(entry(id).frame)) }
            case .willStore: machine.willStore(friendship: "f1")
            case .stored(let id): carryOut(machine.stored(StreamID(milliseconds: UInt64(id), sequence: 0), friendship: "f1"))
            case .subscriberLost:
                connected = false
                machine.subscriberLost()
            case .subscribed:
                connected = true
            case .catchUp:
                if !machine.catchUpBegan(friendships: ["f1"]).isEmpty {
                    filling = true
                    fillHasRead = false
                }
            case .fillStep:
                guard filling, let from = machine.readPosition(of: "f1") else { return }
                if let next = stream.first(where: { StreamID(milliseconds: UInt64($0.id), sequence: 0) > from }) {
                    carryOut(machine.read(next.storedFrame))
                }
            case .fillReadAll:
                guard filling else { return }
                fillHasRead = true
                while let from = machine.readPosition(of: "f1"),
                    let next = stream.first(where: { StreamID(milliseconds: UInt64($0.id), sequence: 0) > from })
                {
                    carryOut(machine.read(next.storedFrame))
                }
            case .fillEnd:
                guard filling, fillHasRead else { return }
                switch machine.fillEnded("f1") {
                case .readAgain: break
                case .done(let action):
                    filling = false
                    carryOut(action)
                }
            case .syncBegin:
                syncCursor = received.last ?? 0
                machine.syncBegan(.only(["f1"]))
            case .syncReplay:
                let replay = stream.filter { $0.id > syncCursor }
                received += replay.map(\.id)
                replayedThrough = replay.last.map { StreamID(milliseconds: UInt64($0.id), sequence: 0) }
            case .syncEnd:
                carryOut(machine.syncEnded(replayedThrough: replayedThrough.map { ["f1": $0] } ?? [:]))
            case .graceEnd:
                guard awaitingGap else { return }
                awaitingGap = false
                carryOut(machine.gapGraceEnded("f1"))
            }
        }

        /// What is still due once every event is over: a catch-up if one is owed, graces, and fills to their end.
        mutating func settle() {
            if machine.catchUpDue { apply(.catchUp(0)) }
            while filling || awaitingGap {
                apply(.graceEnd)
                apply(.fillReadAll)
                apply(.fillEnd)
            }
        }
    }

    /// Every order of `events` that keeps each event after those it `needs`.
    static func everyOrder(of events: [Event], needs: [Event: [Event]], _ body: ([Event]) -> Void) -> Int {
        var order: [Event] = []
        var done = Set<Event>()
        var count = 0
        func visit() {
            if order.count == events.count {
                count += 1
                return body(order)
            }
            for event in events where !done.contains(event) && (needs[event] ?? []).allSatisfy(done.contains) {
                done.insert(event)
                order.append(event)
                visit()
                order.removeLast()
                done.remove(event)
            }
        }
        visit()
        return count
    }

    /// Stores in id order, each publish after its store and after the one before; this socket's send announced
    /// before its store and answered after it.
    static func needs(of entries: [Entry]) -> [Event: [Event]] {
        var needs: [Event: [Event]] = [:]
        for (index, entry) in entries.enumerated() {
            needs[.store(entry.id), default: []] += index > 0 ? [.store(entries[index - 1].id)] : []
            needs[.publish(entry.id), default: []] += [.store(entry.id)] + (index > 0 ? [.publish(entries[index - 1].id)] : [])
            if entry.sender == .thisSocket {
                needs[.store(entry.id), default: []].append(.willStore(entry.id))
                needs[.stored(entry.id)] = [.store(entry.id)]
            }
        }
        return needs
    }

    /// On a cluster: stores in id order, each publish after its store but in any order otherwise (nodes publish
    /// on connections of their own); this socket's send announced before its store and answered after it.
    static func clusterNeeds(of entries: [Entry]) -> [Event: [Event]] {
        var needs: [Event: [Event]] = [:]
        for (index, entry) in entries.enumerated() {
            needs[.store(entry.id)] = index > 0 ? [.store(entries[index - 1].id)] : []
            needs[.publish(entry.id)] = [.store(entry.id)]
            if entry.sender == .thisSocket {
                needs[.store(entry.id)]!.append(.willStore(entry.id))
                needs[.stored(entry.id)] = [.store(entry.id)]
            }
        }
        return needs
    }

    static func events(of entries: [Entry]) -> [Event] {
        entries.flatMap { entry in
            [.store(entry.id), .publish(entry.id)]
                + (entry.sender == .thisSocket ? [.willStore(entry.id), .stored(entry.id)] : [])
        }
    }

    /// Every entry except this socket's own sends, once each, in id order.
    static func expected(_ entries: [Entry]) -> [Int] {
        entries.filter { $0.sender != .thisSocket }.map(\.id)
    }

    let entries = [Entry(id: 1, sender: .alice), Entry(id: 2, sender: .thisSocket), Entry(id: 3, sender: .otherDevice)]

    /// Runs every order of `entries`' events and `extra` (each after what `needs` names), on a socket that opened
    /// first when `opened`: how many orders there were, and those after which the socket did not have every entry
    /// once, in id order, without its own sends.
    static func deliveryInEveryOrder(
        _ entries: [Entry],
        plus extra: [Event],
        needs extraNeeds: [Event: [Event]],
        opened: Bool = false
    ) -> (count: Int, failures: [String]) {
        let needs = Self.needs(of: entries).merging(extraNeeds) { $0 + $1 }
        var failures: [String] = []
        let count = everyOrder(of: events(of: entries) + extra, needs: needs) { order in
            var run = Run(entries: entries)
            if opened {
                run.apply(.subscribed(1))
                run.apply(.catchUp(1))
                run.settle()
            }
            for event in order { run.apply(event) }
            run.settle()
            if run.received != expected(entries) { failures.append("\(order.map(\.description).joined(separator: " ")) -> \(run.received)") }
        }
        return (count, failures)
    }

    /// The socket opens: whatever was stored before its subscription was live comes from its first fill, the rest
    /// live, whatever the order of publishes, replies and fill reads.
    @Test func openingCatchUpInEveryOrder() {
        let (count, failures) = Self.deliveryInEveryOrder(
            entries,
            plus: [.subscribed(1), .catchUp(1), .fillStep, .fillReadAll, .fillEnd],
            needs: [.catchUp(1): [.subscribed(1)], .fillStep: [.catchUp(1)], .fillReadAll: [.fillStep], .fillEnd: [.fillReadAll]]
        )
        #expect(count > 1000)
        #expect(failures.isEmpty, "\(failures.count) of \(count) orders, first: \(failures.first ?? "")")
    }

    /// The subscriber loses its connection and comes back at any point: what was published meanwhile is lost, and
    /// the catch-up after it brings it, once and in order.
    @Test func lostSubscriberInEveryOrder() {
        let (count, failures) = Self.deliveryInEveryOrder(
            entries,
            plus: [.subscriberLost, .subscribed(2), .catchUp(2), .fillReadAll, .fillEnd],
            needs: [.subscribed(2): [.subscriberLost], .catchUp(2): [.subscribed(2)], .fillReadAll: [.catchUp(2)], .fillEnd: [.fillReadAll]],
            opened: true
        )
        #expect(count > 1000)
        #expect(failures.isEmpty, "\(failures.count) of \(count) orders, first: \(failures.first ?? "")")
    }

    /// A loss while the opening fill still runs: the fill reads again, and nothing is lost or doubled.
    @Test func lossDuringAFillInEveryOrder() {
        // Two entries: seven more events than entries make for millions of orders with three.
        let (count, failures) = Self.deliveryInEveryOrder(
            [Entry(id: 1, sender: .thisSocket), Entry(id: 2, sender: .otherDevice)],
            plus: [.subscribed(1), .catchUp(1), .subscriberLost, .subscribed(2), .catchUp(2), .fillReadAll, .fillEnd],
            needs: [
                .catchUp(1): [.subscribed(1)], .subscriberLost: [.catchUp(1)], .subscribed(2): [.subscriberLost],
                .catchUp(2): [.subscribed(2)], .fillReadAll: [.catchUp(1)], .fillEnd: [.fillReadAll, .catchUp(2)],
            ]
        )
        #expect(count > 100)
        #expect(failures.isEmpty, "\(failures.count) of \(count) orders, first: \(failures.first ?? "")")
    }

    /// On a cluster storing and publishing are two steps: publishes arrive in any order, and one never comes (its
    /// node died between the steps). Each live frame names the entry before it, and a socket that has not reached
    /// that entry waits a grace, then reads the stream: every entry still arrives once, in id order.
    @Test func clusterPublishesInAnyOrderOrNever() {
        let entries = [
            Entry(id: 1, sender: .alice, previous: 0), Entry(id: 2, sender: .alice, previous: 1),
            Entry(id: 3, sender: .otherDevice, previous: 2), Entry(id: 4, sender: .thisSocket, previous: 3),
        ]
        var needs = Self.clusterNeeds(of: entries)
        needs[.fillEnd] = [.fillReadAll]
        // The socket opens while messages flow: frames may come before its first catch-up begins; its own send
        // comes after (a session reads its client's frames once the socket is caught up).
        needs[.willStore(4)] = [.catchUp(1)]
        // The grace ends after the last publish that comes and the catch-up (earlier, it finds the gap as it is
        // then), anywhere among the reply and the fill; more freedom makes for hundreds of thousands of orders.
        needs[.graceEnd] = [.publish(4), .catchUp(1)]
        // Entry 3's publish never happens.
        let events: [Event] = [.store(1), .store(2), .store(3), .store(4), .publish(1), .publish(2), .publish(4), .willStore(4), .stored(4)]
        var failures: [String] = []
        let count = Self.everyOrder(of: events + [.catchUp(1), .graceEnd, .fillReadAll, .fillEnd], needs: needs) { order in
            var run = Run(entries: entries)
            run.apply(.subscribed(1))
            for event in order { run.apply(event) }
            run.settle()
            if run.received != Self.expected(entries) { failures.append("\(order.map(\.description).joined(separator: " ")) -> \(run.received)") }
        }
        #expect(count > 1000)
        #expect(failures.isEmpty, "\(failures.count) of \(count) orders, first: \(failures.first ?? "")")
    }

    /// Publishes from three nodes cross (alice's, this socket's own, bob's other device's), and this socket's store
    /// reply may come after the frame naming its entry: every missing entry comes live within the grace, so the
    /// frames wait for each other, in id order, and nothing reads the stream.
    @Test func crossedClusterPublishesWaitForEachOtherWithoutAFill() {
        let entries = [
            Entry(id: 1, sender: .alice, previous: 0), Entry(id: 2, sender: .thisSocket, previous: 1),
            Entry(id: 3, sender: .alice, previous: 2), Entry(id: 4, sender: .otherDevice, previous: 3),
        ]
        var needs = Self.clusterNeeds(of: entries)
        // Alice's publishes leave her node in order; this node publishes its socket's message after the store
        // replied; the grace outlasts every other node's publish, not this node's store reply.
        needs[.publish(3), default: []].append(.publish(1))
        needs[.publish(2), default: []].append(.stored(2))
        needs[.graceEnd] = [.publish(1), .publish(3), .publish(4)]
        let events: [Event] = entries.flatMap { [.store($0.id), .publish($0.id)] } + [.willStore(2), .stored(2), .graceEnd]
        var failures: [String] = []
        let count = Self.everyOrder(of: events, needs: needs) { order in
            var run = Run(entries: entries)
            run.apply(.subscribed(1))
            run.apply(.catchUp(1))
            run.settle()
            for event in order { run.apply(event) }
            run.settle()
            if run.received != Self.expected(entries) || run.gapFills > 0 {
                failures.append("\(order.map(\.description).joined(separator: " ")) -> \(run.received), \(run.gapFills) fills")
            }
        }
        #expect(count > 100)
        #expect(failures.isEmpty, "\(failures.count) of \(count) orders, first: \(failures.first ?? "")")
    }

    /// Contract v2: from a sync's start to its end the socket gets the replay and no live frame of the friendship;
    /// afterwards ids keep rising, and every entry arrived.
    @Test func syncInEveryOrder() {
        let entries = [Entry(id: 1, sender: .alice), Entry(id: 2, sender: .alice), Entry(id: 3, sender: .otherDevice)]
        var needs = Self.needs(of: entries)
        needs[.syncReplay] = [.syncBegin]
        needs[.syncEnd] = [.syncReplay]
        var failures: [String] = []
        let count = Self.everyOrder(of: Self.events(of: entries) + [.syncBegin, .syncReplay, .syncEnd], needs: needs) { order in
            var run = Run(entries: entries)
            run.apply(.subscribed(1))
            run.apply(.catchUp(1))
            run.settle()
            var replayStart = 0
            for event in order {
                if event == .syncReplay { replayStart = run.received.count }
                let before = run.received.count
                run.apply(event)
                if case .publish = event, order.firstIndex(of: event)! > order.firstIndex(of: .syncBegin)!,
                    order.firstIndex(of: event)! < order.firstIndex(of: .syncEnd)!, run.received.count > before
                {
                    failures.append("live frame during sync: \(order) -> \(run.received)")
                }
            }
            run.settle()
            let fromReplay = Array(run.received[replayStart...])
            if fromReplay != fromReplay.sorted() || Set(fromReplay).count != fromReplay.count
                || Set(run.received) != Set(Self.expected(entries))
            {
                failures.append("\(order.map(\.description).joined(separator: " ")) -> \(run.received)")
            }
        }
        #expect(count > 100)
        #expect(failures.isEmpty, "\(failures.count) of \(count) orders, first: \(failures.first ?? "")")
    }

    /// A socket that lets frames pile up behind a sync is closed as a slow consumer, not left to grow.
    @Test func tooManyHeldFramesCloseTheSocket() {
        var machine = DeliveryMachine(openedAfter: .zero)
        _ = machine.catchUpBegan(friendships: [])
        machine.syncBegan(.all)
        var last = DeliveryMachine.Action.nothing
        for id in 1...(DeliveryMachine.maximumHeld + 1) {
            last = machine.published(Entry(id: id, sender: .alice).frame)
            if last != .nothing { break }
        }
        #expect(last == .closeSlowConsumer)
        #expect(machine.isClosed)
        #expect(machine.published(Entry(id: 1_000_000, sender: .alice).frame) == .nothing)
    }

    /// Frames made due while someone else sends are handed to that sender, in order: only one caller sends.
    @Test func oneSenderAtATime() {
        var machine = DeliveryMachine(openedAfter: .zero)
        _ = machine.catchUpBegan(friendships: [])
        #expect(machine.published(Entry(id: 1, sender: .alice).frame) == .send)
        #expect(machine.published(Entry(id: 2, sender: .alice).frame) == .nothing)
        var batch: [PublishedMessage] = []
        machine.takeOutgoing(&batch)
        #expect(batch.map(\.id.milliseconds) == [1, 2])
        #expect(machine.published(Entry(id: 3, sender: .alice).frame) == .nothing)
        machine.takeOutgoing(&batch)
        #expect(batch.map(\.id.milliseconds) == [3])
        machine.takeOutgoing(&batch)
        #expect(batch.isEmpty)
        // The turn ended with the empty batch: the next frame finds nobody sending.
        #expect(machine.published(Entry(id: 4, sender: .alice).frame) == .send)
    }
}
