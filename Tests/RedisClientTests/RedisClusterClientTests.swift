import Foundation
import Logging
import MetricsTestKit
import RedisClient
import TestSupport
import Testing

/// The cluster client against a real 3-primary, 3-replica cluster: routing by slot, MOVED and ASK followed.
@Suite(.takesTurns) struct RedisClusterClientTests {
    static func client(_ cluster: RedisClusterServers, metrics: TestMetrics = TestMetrics()) async throws -> RedisClusterClient {
        let client = RedisClusterClient(
            seeds: cluster.endpoints,
            configuration: cluster.servers[0].configuration,
            logger: quietLogger,
            metrics: RedisMetricsSettings(factory: metrics)
        )
        try await client.connect()
        return client
    }

    @Test func everyKeyGoesToThePrimaryOfItsSlot() async throws {
        let cluster = try await RedisClusterServers()
        let client = try await Self.client(cluster)
        let topology = try #require(client.topology)
        for index in 0..<200 {
            let key = "chat:user:{u\(index)}"
            _ = try await client.command(["SET", .string(key), .string("v\(index)")])
            let ownerEndpoint = try #require(topology.primary(for: HashSlot(key: key)))
            let owner = try #require(cluster.server(at: ownerEndpoint))
            #expect(try await owner.command("GET", .string(key)).string == "v\(index)", "\(key)")
        }
        // A script runs on the primary of its keys' slot, on each shard (each node caches scripts of its own).
        let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
        for index in 0..<30 {
            #expect(try await client.run(script, keys: [.string("chat:n:{\(index)}")], arguments: ["2"]) == .integer(2))
        }
    }

    @Test func aMigratingSlotIsFollowedWithAskAndAMovedOneUpdatesTheMap() async throws {
        let cluster = try await RedisClusterServers()
        let metrics = TestMetrics()
        let client = try await Self.client(cluster, metrics: metrics)
        let redirects = { (kind: String) in try metrics.expectCounter("redis_cluster_redirects_total", [("kind", kind)]).totalValue }
        let key = "chat:history:{moving}"
        let sibling = "chat:cids:{moving}:1"
        let slot = HashSlot(key: key)
        _ = try await client.command(["SET", .string(key), "before"])
        let topology = try #require(client.topology)
        let sourceEndpoint = try #require(topology.primary(for: slot))
        let targetEndpoint = try #require(topology.shards.map(\.primary).first { $0 != sourceEndpoint })
        let (source, target) = (cluster.server(at: sourceEndpoint)!, cluster.server(at: targetEndpoint)!)
        let sourceID = try await source.command("CLUSTER", "MYID").string!
        let targetID = try await target.command("CLUSTER", "MYID").string!
        let slotNumber = RedisArgument.integer(Int(slot.rawValue))

        // Mid-migration: the key has moved, its slot not yet. The source answers ASK; the client follows it.
        _ = try await target.command("CLUSTER", "SETSLOT", slotNumber, "IMPORTING", .string(sourceID))
        _ = try await source.command("CLUSTER", "SETSLOT", slotNumber, "MIGRATING", .string(targetID))
        _ = try await source.command("MIGRATE", "127.0.0.1", .integer(target.port), .string(key), "0", "5000")
        #expect(try await client.command(["GET", .string(key)]).string == "before")
        _ = try await client.command(["SET", .string(sibling), "written during the migration"])
        #expect(client.topology?.primary(for: slot) == sourceEndpoint, "an ASK leaves the map alone")
        #expect(try redirects("ask") == 2 && redirects("moved") == 0)

        // The slot is the target's now: MOVED, followed, and the map follows.
        for server in cluster.servers {
            _ = try? await server.command("CLUSTER", "SETSLOT", slotNumber, "NODE", .string(targetID))
        }
        #expect(try await client.command(["GET", .string(sibling)]).string == "written during the migration")
        #expect(client.topology?.primary(for: slot) == targetEndpoint)
        #expect(try redirects("moved") == 1)
        _ = try await client.command(["SET", .string(key), "after"])
        #expect(try await target.command("GET", .string(key)).string == "after")
    }
}

/// Errors only: the cluster tests kill nodes on purpose, and their reconnect warnings are expected.
let quietLogger: Logger = {
    var logger = Logger(label: "test.redis-cluster")
    logger.logLevel = .error
    return logger
}()
