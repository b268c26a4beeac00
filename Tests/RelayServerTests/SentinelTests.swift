import ChatClient
import ChatProtocol
import Foundation
import NIOCore
import RedisClient
import RelayCore
import TestSupport
import Testing

/// A master, two replicas and three Sentinels; relay nodes on `redis-sentinel://` with `--min-replicas 1`.
@Suite(.takesTurns) struct SentinelTests {
    struct Deployment {
        let master: RedisServer
        let replicas: [RedisServer]
        let sentinels: [SentinelServer]
        var url: String { "redis-sentinel://" + sentinels.map { "127.0.0.1:\($0.port)" }.joined(separator: ",") + "/0#chat" }
        var servers: [RedisServer] { [master] + replicas }
    }

    static func deploy() async throws -> Deployment {
        let master = try await RedisServer()
        var replicas: [RedisServer] = []
        for _ in 0..<2 { replicas.append(try await RedisServer(arguments: ["--replicaof", "127.0.0.1", "\(master.port)"])) }
        var sentinels: [SentinelServer] = []
        for _ in 0..<3 { sentinels.append(try await SentinelServer(watching: master.port)) }
        // Ready when each Sentinel knows both replicas and the two other Sentinels (a failover needs their votes).
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            var known = true
            for sentinel in sentinels {
                let replicasSeen = try await sentinel.command("SENTINEL", "replicas", "chat").array?.count ?? 0
                let othersSeen = try await sentinel.command("SENTINEL", "sentinels", "chat").array?.count ?? 0
                known = known && replicasSeen == 2 && othersSeen == 2
            }
            if known { return Deployment(master: master, replicas: replicas, sentinels: sentinels) }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw TestSupportError("the Sentinels did not find the replicas and each other")
    }

    @Test func nodesFindTheMasterThroughSentinelsAndAckOnlyWhatAReplicaHas() async throws {
        let deployment = try await Self.deploy()
        let cluster = try await TestCluster.start(nodes: 2, redis: deployment.master) {
            $0.redisURL = deployment.url
            $0.minimumReplicas = 1
        }
        defer { Task { await cluster.stop() } }
        let (alice, bob, friendship) = try await cluster.makeFriends("alice", "bob")
        let a = try await cluster.connect(alice, node: 0)
        let b = try await cluster.connect(bob, node: 1)
        let id = await a.sendUntilAcked(friendship: friendship, content: "hello", cid: "c1")
        #expect(id != nil)
        #expect(await b.messages(1).first?["id"] as? String == id)
        // Acked only once a replica had it: both replicas hold it by now, one at least when the ack left.
        for replica in deployment.replicas {
            let entries = try await replica.command("XRANGE", .string("chat:history:{\(friendship)}"), "-", "+")
            #expect(entries.array?.count == 1)
        }

        // Contract v3's history limits behind Sentinel: the earliest cursor is an empty page, an id past 64 bits is
        // bad_message (not a Redis error), over HTTP 400.
        a.send(json: ["op": "history", "friend": friendship, "before": "0-0"])
        #expect((await a.next { $0["op"] as? String == "history" }?["messages"] as? [Any])?.isEmpty == true)
        a.send(json: ["op": "history", "friend": friendship, "before": "18446744073709551616-0", "cid": "h"])
        #expect(await a.next { $0["op"] as? String == "error" && $0["cid"] as? String == "h" }?["code"] as? String == "bad_message")
        #expect(try await cluster.http("GET", "/api/friendships/\(friendship)/messages?after=18446744073709551616-0", node: 1).status == 400)
        let page = try await cluster.http("GET", "/api/friendships/\(friendship)/messages?after=0-0", node: 1)
        #expect((page.json["messages"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [id].compactMap { $0 })

        // With no replica left to confirm, a send is answered `unavailable` (it may be stored; the cid makes a retry safe).
        for replica in deployment.replicas { replica.kill() }
        a.send(to: friendship, content: "nobody confirms this", cid: "c2")
        let refused = await a.next(where: { $0["cid"] as? String == "c2" }, timeout: .seconds(10))
        #expect(refused?["op"] as? String == "error")
        #expect(refused?["code"] as? String == "unavailable")
        #expect(!a.isClosed)
    }

    @Test func disconnectAndBlockReachEveryNodeBehindSentinel() async throws {
        let deployment = try await Self.deploy()
        let cluster = try await TestCluster.start(nodes: 2, redis: deployment.master) { $0.redisURL = deployment.url }
        defer { Task { await cluster.stop() } }
        try await EndedSessions.check(cluster, alice: "alice", bob: "bob") {
            try await deployment.master.command("EXISTS", "chat:blocked:{alice}") == .integer(1)
        }
    }

    @Test func unfriendEraseAndRetentionBehindSentinel() async throws {
        let deployment = try await Self.deploy()
        let cluster = try await TestCluster.start(nodes: 2, redis: deployment.master) {
            $0.redisURL = deployment.url
            $0.historyMaximumLength = 20
        }
        defer { Task { await cluster.stop() } }
        try await ErasureScenario.check(cluster) {
            (try await deployment.master.command("KEYS", "*").array ?? []).compactMap(\.string)
        }
        try await RetentionScenario.check(cluster) { key in
            Int(try await deployment.master.command("XLEN", .string(key)).int ?? -1)
        }
    }

    /// The master freezes (`SIGSTOP`) while alice keeps sending; Sentinel promotes a replica, the nodes follow, and
    /// nothing acked is lost or stored twice. The old master, resumed, gets no writes.
    @Test func aFrozenMastersFailoverLosesNoAckedMessage() async throws {
        let deployment = try await Self.deploy()
        let cluster = try await TestCluster.start(nodes: 2, redis: deployment.master) {
            $0.redisURL = deployment.url
            $0.minimumReplicas = 1
            $0.redisCommandTimeout = 3
        }
        defer { Task { await cluster.stop() } }
        let (alice, bob, friendship) = try await cluster.makeFriends("alice", "bob")
        let a = try await cluster.connect(alice, node: 0)
        let b = try await cluster.connect(bob, node: 1)

        var acked: [String: String] = [:]
        for index in 0..<40 {
            if index == 10 { deployment.master.send(signal: SIGSTOP) }
            let cid = "c\(index)"
            guard let id = await a.sendUntilAcked(friendship: friendship, content: "m\(index)", cid: cid) else {
                Issue.record("m\(index) was never acked")
                break
            }
            acked[cid] = id
        }
        let promotedPort = try await deployment.sentinels[0].masterPort()
        #expect(promotedPort != deployment.master.port, "no failover happened")
        let promoted = try #require(deployment.replicas.first { $0.port == promotedPort })

        deployment.master.send(signal: SIGCONT)
        // Every acked message is on the new master, once; every cid is stored once.
        let entries = try await promoted.command("XRANGE", .string("chat:history:{\(friendship)}"), "-", "+").array ?? []
        var cids: [String: Int] = [:]
        var ids = Set<String>()
        for entry in entries {
            guard let pair = entry.array, let id = pair[0].string, let fields = pair[1].array else { continue }
            ids.insert(id)
            if let at = fields.firstIndex(of: .bulkString(ByteBuffer(string: "cid"))), let cid = fields[at + 1].string {
                cids[cid, default: 0] += 1
            }
        }
        for (cid, id) in acked {
            #expect(ids.contains(id), "acked \(cid) (\(id)) is missing after the failover")
            #expect(cids[cid] == 1, "\(cid) stored \(cids[cid] ?? 0) times")
        }
        // Bob's socket stayed open through the failover and received every message once, in order.
        let received = await b.messages(acked.count, timeout: .seconds(20)).compactMap { $0["id"] as? String }
        #expect(received == acked.values.sorted(by: { StreamID($0)! < StreamID($1)! }))

        // The resumed old master is made a replica by Sentinel; the nodes keep writing to the new master.
        let demoted = try await cluster.eventually(seconds: 20) {
            try await deployment.master.command("ROLE").array?.first?.string == "slave"
        }
        #expect(demoted)
        #expect(await a.sendUntilAcked(friendship: friendship, content: "after", cid: "after") != nil)
        let last = try await promoted.command("XREVRANGE", .string("chat:history:{\(friendship)}"), "+", "-", "COUNT", "1")
        #expect(last.array?.first?.array?.last?.array?.contains(.bulkString(ByteBuffer(string: "after"))) == true)
    }
}
