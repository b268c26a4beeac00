import Foundation
import NIOCore
import RedisClient
import TestSupport
import Testing

@testable import RedisClient

/// Slots, redirects and the slot map, held against a real 3-primary, 3-replica cluster.
@Suite struct ClusterTopologyTests {
    @Test func slotsFollowTheHashTagRules() {
        #expect(HashSlot.crc16(Array("123456789".utf8)) == 0x31C3)
        // From CLUSTER KEYSLOT on Redis 7.0.15.
        let known = [
            "chat:history:{f1}": 2046, "chat:deliver:{u1}": 4574, "chat:deliver:{u2}": 8637, "chat:deliver:{u3}": 12700,
            "chat:deliver:{u4}": 379, "chat:deliver:{u8}": 247, "foo": 12182, "123456789": 12739,
        ]
        for (key, slot) in known { #expect(HashSlot(key: key).rawValue == slot, "\(key)") }
        #expect(HashSlot(key: "{user1000}.following") == HashSlot(key: "{user1000}.followers"))
        #expect(HashSlot(key: "chat:history:{f1}") == HashSlot(key: "chat:cids:{f1}:20000"))
        // An empty tag hashes the whole key; only the first {...} counts; a second { inside is part of the tag; an
        // unclosed { is no tag.
        func wholeKey(_ key: String) -> UInt16 { HashSlot.crc16(Array(key.utf8)) & 16383 }
        #expect(HashSlot(key: "foo{}{bar}").rawValue == wholeKey("foo{}{bar}"))
        #expect(HashSlot(key: "foo{{bar}}zap") == HashSlot(key: "{bar"))
        #expect(HashSlot(key: "foo{bar}{zap}") == HashSlot(key: "bar"))
        #expect(HashSlot(key: "foo{bar").rawValue == wholeKey("foo{bar"))
    }

    @Test func redirectsAreParsed() {
        #expect(
            ClusterRedirect(RedisServerError(message: "MOVED 3999 127.0.0.1:6381"))
                == .moved(HashSlot(rawValue: 3999)!, RedisEndpoint(host: "127.0.0.1", port: 6381))
        )
        #expect(
            ClusterRedirect(RedisServerError(message: "ASK 0 redis-b:7000"))
                == .ask(HashSlot(rawValue: 0)!, RedisEndpoint(host: "redis-b", port: 7000))
        )
        #expect(ClusterRedirect(RedisServerError(message: "MOVED 16383 [::1]:7001"))?.endpoint == RedisEndpoint(host: "::1", port: 7001))
        for refused in ["MOVED 16384 h:1", "MOVED x h:1", "ASK 1 h", "ASK 1 h:0", "ERR unknown", "MOVED 1 h:1 extra", "TRYAGAIN"] {
            #expect(ClusterRedirect(RedisServerError(message: refused)) == nil, "\(refused)")
        }
    }

    /// A `CLUSTER SHARDS` reply in RESP2's shape: each shard and node a flat list of names and values.
    private static func shardsReply(_ shards: [(slots: [Int], nodes: [(port: Int, role: String, health: String)])]) -> RedisReply {
        func text(_ value: String) -> RedisReply { .bulkString(ByteBuffer(string: value)) }
        return .array(
            shards.map { shard in
                .array([
                    text("slots"), .array(shard.slots.map { .integer(Int64($0)) }),
                    text("nodes"),
                    .array(
                        shard.nodes.map { node in
                            .array([
                                text("id"), text("n\(node.port)"), text("port"), .integer(Int64(node.port)), text("ip"), text("10.0.0.1"),
                                text("endpoint"), text("10.0.0.1"), text("role"), text(node.role), text("replication-offset"), .integer(1),
                                text("health"), text(node.health),
                            ])
                        }
                    ),
                ])
            }
        )
    }

    @Test func aShardTakesItsOneLivePrimaryAndTwoLivePrimariesAreRefused() throws {
        let failedOver = try ClusterTopology(
            shardsReply: Self.shardsReply([
                (slots: [0, 8191], nodes: [(7001, "master", "fail"), (7004, "master", "online"), (7007, "replica", "online")]),
                (slots: [8192, 16383], nodes: [(7002, "master", "online"), (7005, "replica", "loading")]),
                (slots: [], nodes: [(7009, "master", "online")]),
            ])
        )
        #expect(failedOver.coversEverySlot)
        #expect(failedOver.primary(for: HashSlot(rawValue: 100)!) == RedisEndpoint(host: "10.0.0.1", port: 7004))
        #expect(failedOver.primary(for: HashSlot(rawValue: 9000)!)?.port == 7002)
        #expect(failedOver.shards.map(\.replicas.count) == [1, 0])
        #expect(throws: RedisClientError.self) {
            try ClusterTopology(
                shardsReply: Self.shardsReply([(slots: [0, 16383], nodes: [(7001, "master", "online"), (7004, "master", "online")])])
            )
        }
        #expect(throws: RedisClientError.self) {
            try ClusterTopology(shardsReply: Self.shardsReply([(slots: [0, 16384], nodes: [(7001, "master", "online")])]))
        }
        var moved = failedOver
        moved.move(HashSlot(rawValue: 100)!, to: RedisEndpoint(host: "10.0.0.1", port: 7002))
        #expect(moved.primary(for: HashSlot(rawValue: 100)!)?.port == 7002)
        #expect(moved.primary(for: HashSlot(rawValue: 101)!)?.port == 7004)
    }

    @Test(.takesTurns) func theSlotMapAgreesWithARealCluster() async throws {
        let cluster = try await RedisClusterServers()
        let first = try ClusterTopology(shardsReply: try await cluster.servers[0].command("CLUSTER", "SHARDS"))
        let second = try ClusterTopology(shardsReply: try await cluster.servers[4].command("CLUSTER", "SHARDS"))
        #expect(first.coversEverySlot)
        #expect(first.shards.count == 3 && first.shards.allSatisfy { $0.replicas.count == 1 })
        #expect(Set(first.shards.map(\.primary)) == Set(second.shards.map(\.primary)))

        // CLUSTER KEYSLOT agrees with HashSlot, for the contract's keys and for arbitrary ones.
        var keys = ["chat:user:{5d1328295793f14020a979d5}", "chat:username:{jeffery.b}", "{}", "{", "}", "a{b}c{d}", "é{ü}"]
        for index in 0..<300 {
            keys.append("chat:deliver:{user-\(index)}")
            keys.append("k\(index)-\(UUID().uuidString)")
        }
        for key in keys {
            let slot = try await cluster.servers[1].command("CLUSTER", "KEYSLOT", .string(key)).int
            #expect(slot == Int64(HashSlot(key: key).rawValue), "\(key)")
        }

        // A key asked of a node that does not serve it: MOVED to the primary the map names.
        let key = "chat:history:{f1}"
        let slot = HashSlot(key: key)
        let owner = try #require(first.primary(for: slot))
        let elsewhere = try #require(first.shards.map(\.primary).first { $0 != owner })
        let moved = try await Self.error(of: cluster.server(at: elsewhere)!, "GET", .string(key))
        #expect(moved.flatMap(ClusterRedirect.init) == .moved(slot, owner))

        // A slot in migration: a key the source no longer has is an ASK to the target.
        let source = cluster.server(at: owner)!
        let target = cluster.server(at: elsewhere)!
        let sourceID = try #require(try await source.command("CLUSTER", "MYID").string)
        let targetID = try #require(try await target.command("CLUSTER", "MYID").string)
        _ = try await target.command("CLUSTER", "SETSLOT", .integer(Int(slot.rawValue)), "IMPORTING", .string(sourceID))
        _ = try await source.command("CLUSTER", "SETSLOT", .integer(Int(slot.rawValue)), "MIGRATING", .string(targetID))
        let ask = try await Self.error(of: source, "GET", .string(key))
        #expect(ask.flatMap(ClusterRedirect.init) == .ask(slot, elsewhere))
    }

    private static func error(of server: RedisServer, _ arguments: RedisArgument...) async throws -> RedisServerError? {
        do {
            _ = try await server.command(arguments)
            return nil
        } catch let error as RedisServerError {
            return error
        }
    }
}
