import Testing

@testable import RelayCore

/// The first member of a channel subscribes it, the last one to leave unsubscribes it, and nothing else talks to
/// Redis; without sockets or Redis.
@Suite struct SubscriptionTableTests {
    final class Socket {}
    typealias Table = SubscriptionTable<Socket>

    @Test func firstSubscribesOthersJoinLastUnsubscribes() {
        var table = Table()
        let (a, b) = (Socket(), Socket())
        #expect(table.add(a, to: "u1") == .subscribe(channel: "u1", generation: 1))
        #expect(table.add(b, to: "u1") == .join(generation: 1))
        #expect(table.members(of: "u1").count == 2)
        #expect(table.remove(a, from: "u1") == .nothing)
        #expect(table.remove(b, from: "u1") == .unsubscribe(channel: "u1", generation: 1))
        #expect(table.generation(of: "u1") == nil)
        // A new subscription is a new generation: a socket that waited on the old one goes again.
        #expect(table.add(a, to: "u1") == .subscribe(channel: "u1", generation: 2))
    }

    @Test func addingTwiceJoinsOnceAndUnknownRemovalsDoNothing() {
        var table = Table()
        let (a, b) = (Socket(), Socket())
        #expect(table.add(a, to: "u1") == .subscribe(channel: "u1", generation: 1))
        #expect(table.add(a, to: "u1") == .join(generation: 1))
        #expect(table.memberCount == 1)
        #expect(table.remove(b, from: "u1") == .nothing)
        #expect(table.remove(a, from: "u2") == .nothing)
        #expect(table.remove(a, from: "u1") == .unsubscribe(channel: "u1", generation: 1))
        #expect(table.remove(a, from: "u1") == .nothing)
    }

    /// Every sequence of up to five adds and removes of two sockets on two channels, against a plain model: Redis is
    /// told to subscribe exactly when a channel gets its first member and to unsubscribe exactly when it loses its
    /// last, a join names the subscription in force, and the members are the model's.
    @Test func everyShortSequenceAgreesWithTheModel() {
        let sockets = [Socket(), Socket()]
        let channels = ["u1", "u2"]
        enum Step {
            case add(Int, Int)
            case remove(Int, Int)
        }
        let steps: [Step] = (0..<2).flatMap { s in (0..<2).flatMap { c in [Step.add(s, c), .remove(s, c)] } }
        var sequences: [[Step]] = [[]]
        var checked = 0
        for _ in 0..<5 {
            sequences = sequences.flatMap { sequence in steps.map { sequence + [$0] } }
            for sequence in sequences {
                var table = Table()
                var model: [String: Set<ObjectIdentifier>] = [:]
                var subscribed: [String: UInt64] = [:]
                for step in sequence {
                    switch step {
                    case .add(let s, let c):
                        let channel = channels[c]
                        let wasEmpty = model[channel, default: []].isEmpty
                        model[channel, default: []].insert(ObjectIdentifier(sockets[s]))
                        switch table.add(sockets[s], to: channel) {
                        case .subscribe(let named, let generation):
                            #expect(wasEmpty && named == channel)
                            #expect(generation > (subscribed.values.max() ?? 0))
                            subscribed[channel] = generation
                        case .join(let generation):
                            #expect(!wasEmpty && generation == subscribed[channel])
                        default:
                            Issue.record("an add answered neither subscribe nor join")
                        }
                    case .remove(let s, let c):
                        let channel = channels[c]
                        let wasMember = model[channel, default: []].remove(ObjectIdentifier(sockets[s])) != nil
                        let action = table.remove(sockets[s], from: channel)
                        if wasMember, model[channel, default: []].isEmpty {
                            #expect(action == .unsubscribe(channel: channel, generation: subscribed[channel]!))
                            subscribed[channel] = nil
                        } else {
                            #expect(action == .nothing)
                        }
                    }
                    for channel in channels {
                        #expect(Set(table.members(of: channel).map(ObjectIdentifier.init)) == model[channel, default: []])
                        #expect(table.generation(of: channel) == subscribed[channel])
                    }
                }
                checked += 1
            }
        }
        #expect(checked == 8 + 64 + 512 + 4096 + 32768)
    }
}
