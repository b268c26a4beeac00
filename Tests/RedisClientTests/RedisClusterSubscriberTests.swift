import Foundation
import NIOConcurrencyHelpers
import RedisClient
import TestSupport
import Testing

/// Sharded pub/sub across a real cluster: each channel on its slot's primary, and moved with its slot.
@Suite(.takesTurns) struct RedisClusterSubscriberTests {
    /// A cluster, a client of it, and a subscriber of 30 channels spread over its primaries, with what it heard.
    struct Fixture {
        let cluster: RedisClusterServers
        let client: RedisClusterClient
        let subscriber: RedisClusterSubscriber
        let channels = (0..<30).map { "chat:deliver:{u\($0)}" }
        /// `CHANNEL PAYLOAD` of each message, and the channels reported as resubscribed.
        let received: NIOLockedValueBox<[String]>
        let resubscribed: NIOLockedValueBox<[String]>

        static func make() async throws -> Fixture {
            let cluster = try await RedisClusterServers()
            let client = try await RedisClusterClientTests.client(cluster)
            let (received, resubscribed) = (NIOLockedValueBox<[String]>([]), NIOLockedValueBox<[String]>([]))
            let subscriber = RedisClusterSubscriber(
                cluster: client,
                configuration: cluster.servers[0].configuration,
                logger: quietLogger,
                onResubscribed: { channels in resubscribed.withLockedValue { $0 += channels } },
                onMessage: { message in received.withLockedValue { $0.append("\(message.channel) \(String(buffer: message.payload))") } }
            )
            let fixture = Fixture(cluster: cluster, client: client, subscriber: subscriber, received: received, resubscribed: resubscribed)
            for channel in fixture.channels { try await subscriber.subscribe(channel) }
            return fixture
        }
    }

    @Test func channelsLiveOnTheirSlotsPrimaryAndFollowAMovedSlot() async throws {
        let fixture = try await Fixture.make()
        let (cluster, client, subscriber, channels) = (fixture.cluster, fixture.client, fixture.subscriber, fixture.channels)
        let (received, resubscribed) = (fixture.received, fixture.resubscribed)
        let topology = try #require(client.topology)
        #expect(Set(subscriber.homes.values) == Set(topology.shards.map(\.primary)), "every primary holds some")
        for channel in channels { #expect(subscriber.homes[channel] == topology.primary(for: HashSlot(key: channel))) }
        for channel in channels { _ = try await client.command(["SPUBLISH", .string(channel), "one"]) }
        #expect(try await Self.eventually { received.withLockedValue { Set($0) } == Set(channels.map { "\($0) one" }) })

        // The slot of one subscribed channel moves to another primary.
        let moving = channels[0]
        let from = try #require(topology.primary(for: HashSlot(key: moving)))
        let to = try #require(topology.shards.map(\.primary).first { $0 != from })
        let toID = try #require(try await cluster.server(at: to)!.command("CLUSTER", "MYID").string)
        let slot = RedisArgument.integer(Int(HashSlot(key: moving).rawValue))
        for node in cluster.servers { _ = try? await node.command("CLUSTER", "SETSLOT", slot, "NODE", .string(toID)) }
        #expect(try await Self.eventually { resubscribed.withLockedValue { $0 } == [moving] })
        #expect(subscriber.homes[moving] == to)
        _ = try await client.command(["SPUBLISH", .string(moving), "after the move"])
        #expect(try await Self.eventually { received.withLockedValue { $0.last } == "\(moving) after the move" })
    }

    /// A primary killed: its replica takes over (cluster-node-timeout 3 s), and its channels move there.
    @Test func aKilledPrimarysChannelsMoveToItsSuccessor() async throws {
        let fixture = try await Fixture.make()
        let (cluster, client, subscriber, channels) = (fixture.cluster, fixture.client, fixture.subscriber, fixture.channels)
        let (received, resubscribed) = (fixture.received, fixture.resubscribed)
        let topology = try #require(client.topology)
        let victim = topology.shards[0].primary
        let orphans = channels.filter { subscriber.homes[$0] == victim }
        #expect(!orphans.isEmpty)

        cluster.server(at: victim)!.kill()
        #expect(try await Self.eventually(seconds: 30) { Set(resubscribed.withLockedValue { $0 }) == Set(orphans) })
        for channel in orphans {
            #expect(subscriber.homes[channel] != victim)
            var published = false
            for _ in 0..<20 where !published {
                published = (try? await client.command(["SPUBLISH", .string(channel), "after"])) != nil
                if !published { try await Task.sleep(for: .milliseconds(500)) }
            }
            #expect(published)
        }
        #expect(try await Self.eventually { Set(received.withLockedValue { $0 }).isSuperset(of: orphans.map { "\($0) after" }) })
    }

    private static func eventually(seconds: Double = 10, _ condition: () -> Bool) async throws -> Bool {
        for _ in 0..<Int(seconds * 20) {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }
}
