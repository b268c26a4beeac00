import Foundation
import NIOConcurrencyHelpers
import RedisClient
import TestSupport
import Testing

/// A sharded subscriber on one primary of a real cluster: the server's own `sunsubscribe` when a slot moves is an
/// event (the connection stays in step), its own `SUNSUBSCRIBE` is not, and `SSUBSCRIBE` of a slot elsewhere is MOVED.
@Suite(.takesTurns) struct ShardedSubscriberTests {
    @Test func aMovedSlotIsReportedAndTheConnectionStaysInStep() async throws {
        let cluster = try await RedisClusterServers()
        let topology = try ClusterTopology(shardsReply: try await cluster.servers[0].command("CLUSTER", "SHARDS"))
        let home = topology.shards[0].primary
        let other = topology.shards[1].primary
        // Channels whose slots the home primary serves, each in a slot of its own.
        var channels: [String] = []
        var index = 0
        while channels.count < 3 {
            let channel = "chat:deliver:{u\(index)}"
            index += 1
            if topology.primary(for: HashSlot(key: channel)) == home, !channels.contains(where: { HashSlot(key: $0) == HashSlot(key: channel) }) {
                channels.append(channel)
            }
        }
        let server = try #require(cluster.server(at: home))
        let unsubscribed = NIOLockedValueBox<[String]>([])
        let received = NIOLockedValueBox<[String]>([])
        let subscriber = RedisSubscriber(
            configuration: server.configuration,
            mode: .sharded,
            onServerUnsubscribe: { channel in unsubscribed.withLockedValue { $0.append(channel) } },
            onMessage: { message in received.withLockedValue { $0.append(message.channel) } }
        )
        try await subscriber.connect()
        defer { Task { await subscriber.shutdown() } }
        // One SSUBSCRIBE per slot: several slots in one command would be CROSSSLOT.
        try await subscriber.subscribe([channels[0]])
        try await subscriber.subscribe([channels[1]])
        _ = try await server.command("SPUBLISH", .string(channels[0]), "one")
        #expect(try await Self.eventually { received.withLockedValue { $0 } == [channels[0]] })

        // Its own SUNSUBSCRIBE is not reported.
        try await subscriber.unsubscribe([channels[1]])
        try await Task.sleep(for: .milliseconds(300))
        #expect(unsubscribed.withLockedValue { $0 }.isEmpty)

        // The slot of channel 0 moves to another primary: the server says so unasked, and it is reported.
        let otherServer = try #require(cluster.server(at: other))
        let otherID = try #require(try await otherServer.command("CLUSTER", "MYID").string)
        let slot = RedisArgument.integer(Int(HashSlot(key: channels[0]).rawValue))
        for node in cluster.servers { _ = try? await node.command("CLUSTER", "SETSLOT", slot, "NODE", .string(otherID)) }
        #expect(try await Self.eventually { unsubscribed.withLockedValue { $0 } == [channels[0]] })
        #expect(subscriber.state == .connected)

        // Still in step: a new subscription is confirmed and delivers.
        try await subscriber.subscribe([channels[2]])
        _ = try await server.command("SPUBLISH", .string(channels[2]), "three")
        #expect(try await Self.eventually { received.withLockedValue { $0 } == [channels[0], channels[2]] })

        // Subscribing the moved channel here is refused with MOVED to its new owner.
        do {
            try await subscriber.subscribe([channels[0]])
            Issue.record("SSUBSCRIBE of a slot served elsewhere was accepted")
        } catch let error as RedisServerError {
            #expect(ClusterRedirect(error)?.endpoint == other)
        }
    }

    private static func eventually(_ condition: () -> Bool) async throws -> Bool {
        for _ in 0..<100 {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }
}
