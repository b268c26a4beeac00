import ChatClient
import ChatProtocol
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import RedisClient
import RelayCore
import TestSupport
import Testing

/// Relay nodes on a 3-primary, 3-replica Redis Cluster started by the test (`redis-cluster://`): users, channels and
/// friendships spread over every primary; a subscribed user's slot migrated while messages flow; a primary killed
/// under load.
@Suite(.takesTurns) struct ClusterRelayTests {
    /// The cluster, two relay nodes on it, and a client of the test's own for reading Redis.
    struct Deployment {
        let redis: RedisClusterServers
        let relays: TestCluster
        let reader: RedisClusterClient

        var primaries: [RedisEndpoint] { reader.topology!.shards.map(\.primary) }

        /// Ids `prefix0`, `prefix1`, ... whose key (as `key` shapes it) lands on each primary in turn, `perPrimary`
        /// each: the test decides where everything lives.
        func ids(_ prefix: String, key: (String) -> String, perPrimary: Int) -> [String] {
            let topology = reader.topology!
            var chosen: [String] = []
            for primary in primaries {
                var found = 0
                var index = 0
                while found < perPrimary {
                    let id = "\(prefix)\(primary.port)x\(index)"
                    if topology.primary(for: HashSlot(key: key(id))) == primary {
                        chosen.append(id)
                        found += 1
                    }
                    index += 1
                }
            }
            return chosen
        }

        func history(_ friendship: String) async throws -> [StoredEntry] {
            let key = "chat:history:{\(friendship)}"
            let reply = try await reader.command(["XRANGE", .string(key), "-", "+"])
            return (reply.array ?? []).compactMap { entry in
                guard let pair = entry.array, let id = pair[0].string, let values = pair[1].array else { return nil }
                var fields: [String: String] = [:]
                for index in stride(from: 0, to: values.count - 1, by: 2) { fields[values[index].string ?? ""] = values[index + 1].string ?? "" }
                return StoredEntry(id: id, fields: fields)
            }
        }

        func createUser(_ id: String) async throws {
            let created = try await relays.http("POST", "/api/users", body: ["name": id, "id": id])
            guard created.status == 201 else { throw TestSupportError("user \(id): \(created)") }
        }

        func befriend(_ user1: String, _ user2: String, id: String) async throws {
            let created = try await relays.http("POST", "/api/friendships", body: ["user1": user1, "user2": user2, "id": id])
            guard created.status == 201 else { throw TestSupportError("friendship \(id): \(created)") }
        }

        /// Alice (channel on the second primary) and bob (on the first) as friends, the friendship's stream on
        /// `friendshipPrimary`; alice's socket on node 0, bob's on node 1.
        func aliceAndBob(
            friendshipPrimary: Int
        ) async throws -> (a: ChatConnection, b: ChatConnection, alice: String, bob: String, friendship: String) {
            let alice = ids("alice", key: { "chat:deliver:{\($0)}" }, perPrimary: 1)[1]
            let bob = ids("bob", key: { "chat:deliver:{\($0)}" }, perPrimary: 1)[0]
            let friendship = ids("f", key: { "chat:history:{\($0)}" }, perPrimary: 1)[friendshipPrimary]
            for user in [alice, bob] { try await createUser(user) }
            try await befriend(alice, bob, id: friendship)
            return (try await relays.connectOpen(alice, node: 0), try await relays.connectOpen(bob, node: 1), alice, bob, friendship)
        }

        /// Alice sends `count` messages, each retried with its cid until acked; `before(index)` runs before each.
        /// Returns the acks by cid.
        func sendAll(
            _ count: Int,
            from socket: ChatConnection,
            in friendship: String,
            before: (Int) async throws -> Void
        ) async throws
            -> [String: String]
        {
            var acked: [String: String] = [:]
            for index in 0..<count {
                try await before(index)
                let cid = "c\(index)"
                guard let id = await socket.sendUntilAcked(friendship: friendship, content: "m\(index)", cid: cid) else {
                    Issue.record("m\(index) was never acked")
                    break
                }
                acked[cid] = id
            }
            return acked
        }

        /// Every acked message is in the stream once, and `receiver`, open throughout, got each once, in order.
        func expectNothingLost(_ acked: [String: String], in friendship: String, receiver: ChatConnection) async throws {
            let history = try await history(friendship)
            var cids: [String: Int] = [:]
            for entry in history { if let cid = entry.fields["cid"] { cids[cid, default: 0] += 1 } }
            for (cid, id) in acked {
                #expect(history.contains { $0.id == id }, "acked \(cid) (\(id)) is missing")
                #expect(cids[cid] == 1, "\(cid) stored \(cids[cid] ?? 0) times")
            }
            let received = await receiver.messages(acked.count, timeout: .seconds(30)).compactMap { $0["id"] as? String }
            #expect(received == acked.values.sorted { StreamID($0)! < StreamID($1)! })
        }

        func stop() async {
            await relays.stop()
            await reader.shutdown()
            redis.stop()
        }
    }

    struct StoredEntry {
        let id: String
        let fields: [String: String]
    }

    static func deploy(configure: (inout RelayConfiguration) -> Void = { _ in }) async throws -> Deployment {
        let redis = try await RedisClusterServers()
        let relays = try await TestCluster.start(nodes: 2, redis: redis.servers[0]) {
            $0.redisURL = "redis-cluster://" + redis.seeds
            configure(&$0)
        }
        let reader = RedisClusterClient(seeds: redis.endpoints, configuration: RedisConfiguration(), logger: Self.quietLogger)
        try await reader.connect()
        return Deployment(redis: redis, relays: relays, reader: reader)
    }

    /// Errors only: these tests kill and move things on purpose.
    static let quietLogger: Logger = {
        var logger = Logger(label: "test.cluster-relay")
        logger.logLevel = .error
        return logger
    }()

    /// Reads frames until `done` says the collection is complete, or `timeout`.
    static func collect(_ socket: ChatConnection, timeout: Duration = .seconds(30), until done: ([[String: Any]]) -> Bool) async -> [[String: Any]] {
        var frames: [[String: Any]] = []
        let deadline = ContinuousClock.now + timeout
        while !done(frames), ContinuousClock.now < deadline {
            guard let frame = await socket.nextJSON(timeout: deadline - ContinuousClock.now) else { break }
            frames.append(frame)
        }
        return frames
    }

    static func delivered(_ frames: [[String: Any]], in friendship: String) -> [[String: Any]] {
        frames.filter { $0["op"] == nil && $0["friend"] as? String == friendship }
    }

    /// Six users and six friendships (a ring), two users' channels and two friendships' streams on each primary;
    /// every member sends at once, through two nodes. Each socket gets every message of its friends once, in id
    /// order, never its own; each live frame names the entry before it; history, a sync and a retried cid agree.
    @Test func deliveryOrderHistoryAndCidsAcrossEveryPrimary() async throws {
        let deployment = try await Self.deploy()
        defer { Task { await deployment.stop() } }
        let users = deployment.ids("u", key: { "chat:deliver:{\($0)}" }, perPrimary: 2)
        let friendshipIDs = deployment.ids("f", key: { "chat:history:{\($0)}" }, perPrimary: 2)
        for user in users { try await deployment.createUser(user) }
        var friendships: [(id: String, members: [String])] = []
        for (index, id) in friendshipIDs.enumerated() {
            let members = [users[index], users[(index + 1) % users.count]]
            try await deployment.befriend(members[0], members[1], id: id)
            friendships.append((id, members))
        }
        var sockets: [String: ChatConnection] = [:]
        for (index, user) in users.enumerated() { sockets[user] = try await deployment.relays.connectOpen(user, node: index % 2) }

        let perSender = 15
        for round in 0..<perSender {
            for friendship in friendships {
                for member in friendship.members {
                    sockets[member]!.send(to: friendship.id, content: "\(member) \(round)", cid: "\(member)-\(friendship.id)-\(round)")
                }
            }
        }
        // Each user is in two friendships: 2 × perSender acks of their own, 2 × perSender messages of their friends.
        var framesByUser: [String: [[String: Any]]] = [:]
        for user in users {
            framesByUser[user] = await Self.collect(sockets[user]!) { frames in
                frames.filter { $0["op"] as? String == "ack" }.count == 2 * perSender
                    && frames.filter { $0["op"] == nil && $0["id"] != nil }.count == 2 * perSender
            }
        }

        for friendship in friendships {
            let history = try await deployment.history(friendship.id)
            #expect(history.count == 2 * perSender, "\(friendship.id) stored \(history.count)")
            let ids = history.map(\.id)
            for member in friendship.members {
                let frames = framesByUser[member]!
                let acked = frames.filter { ($0["cid"] as? String)?.hasPrefix("\(member)-\(friendship.id)-") == true }.compactMap {
                    $0["id"] as? String
                }
                #expect(acked.count == perSender && Set(acked).isSubset(of: Set(ids)))
                let received = Self.delivered(frames, in: friendship.id)
                let expected = history.filter { $0.fields["from"] != member }.map(\.id)
                #expect(received.compactMap { $0["id"] as? String } == expected, "\(member) in \(friendship.id)")
                // Live frames name the entry before them (the first one "0-0"). Frames a gap fill read from the stream
                // carry no `prev`; under load, when two nodes' publishes cross often, a socket may get every frame so.
                for frame in received {
                    guard let id = frame["id"] as? String, let previous = frame["prev"] as? String, let at = ids.firstIndex(of: id) else { continue }
                    #expect(previous == (at == 0 ? "0-0" : ids[at - 1]))
                }
            }
        }

        // A retried cid is stored once and acked with the first id; receivers do not get it twice.
        let (first, sender, receiver) = (friendships[0], friendships[0].members[0], friendships[0].members[1])
        let firstID = try #require(framesByUser[sender]!.first { $0["cid"] as? String == "\(sender)-\(first.id)-0" }?["id"] as? String)
        sockets[sender]!.send(to: first.id, content: "\(sender) 0", cid: "\(sender)-\(first.id)-0")
        let again = await sockets[sender]!.next(where: { $0["op"] as? String == "ack" })
        #expect(again?["id"] as? String == firstID)
        let firstFriendshipLast = try await deployment.history(first.id).last?.id
        sockets[sender]!.send(to: first.id, content: "marker", cid: "marker")
        let next = await sockets[receiver]!.next(where: { $0["op"] == nil && $0["friend"] as? String == first.id })
        #expect(next?["content"] as? String == "marker", "the retried message came again: \(next ?? [:])")
        // Sent alone, after the receiver has everything: a live frame naming the entry before it.
        #expect(next?["prev"] as? String == firstFriendshipLast, "the marker's live frame: \(next ?? [:])")
        #expect(try await deployment.history(first.id).count == 2 * perSender + 1)

        // A new device syncs from the first id and gets the rest, in order.
        let history = try await deployment.history(first.id)
        let device = try await deployment.relays.connectOpen(receiver, node: 1)
        device.send(json: ["op": "sync", "cursors": [first.id: history[0].id]])
        let replay = await Self.collect(device) { $0.last?["op"] as? String == "synced" }
        #expect(Self.delivered(replay, in: first.id).compactMap { $0["id"] as? String } == history.dropFirst().map(\.id))

        // Every probe came back: both nodes are ready, and each listens on one probe channel on every primary.
        for node in 0..<2 { #expect(try await deployment.relays.http("GET", "/readyz", node: node).status == 200) }
        for primary in deployment.primaries {
            let server = deployment.redis.server(at: primary)!
            let probing = try await deployment.relays.eventually(seconds: 15) {
                (try await server.command("PUBSUB", "SHARDCHANNELS", "chat:probe:*").array?.count ?? 0) == 2
            }
            #expect(probing, "two probe channels on \(primary)")
        }
    }

    /// Bob's slot (his channel and his keys) moves to another primary, keys migrated with `MIGRATE`, while alice
    /// sends: the old owner's `sunsubscribe` makes bob's node subscribe on the new one and catch up, and bob's open
    /// socket gets every message once, in order.
    @Test func aSubscribedUsersSlotMigratesWhileMessagesFlow() async throws {
        let deployment = try await Self.deploy()
        defer { Task { await deployment.stop() } }
        let (a, b, _, bob, friendship) = try await deployment.aliceAndBob(friendshipPrimary: 2)

        let slot = HashSlot(key: "chat:deliver:{\(bob)}")
        let (sourceEndpoint, targetEndpoint) = (deployment.primaries[0], deployment.primaries[1])
        let (source, target) = (deployment.redis.server(at: sourceEndpoint)!, deployment.redis.server(at: targetEndpoint)!)
        let sourceID = try await source.command("CLUSTER", "MYID").string!
        let targetID = try await target.command("CLUSTER", "MYID").string!
        let slotNumber = RedisArgument.integer(Int(slot.rawValue))

        let total = 60
        let sending = Task {
            var acked: [String] = []
            for index in 0..<total {
                if let id = await a.sendUntilAcked(friendship: friendship, content: "m\(index)", cid: "c\(index)") { acked.append(id) }
                try? await Task.sleep(for: .milliseconds(20))
            }
            return acked
        }
        try await Task.sleep(for: .milliseconds(300))
        _ = try await target.command("CLUSTER", "SETSLOT", slotNumber, "IMPORTING", .string(sourceID))
        _ = try await source.command("CLUSTER", "SETSLOT", slotNumber, "MIGRATING", .string(targetID))
        let keys = try await source.command("CLUSTER", "GETKEYSINSLOT", slotNumber, "100").array?.compactMap(\.string) ?? []
        #expect(!keys.isEmpty, "bob's keys live in his slot")
        for key in keys { _ = try await source.command("MIGRATE", "127.0.0.1", .integer(target.port), .string(key), "0", "5000") }
        for server in deployment.redis.servers { _ = try? await server.command("CLUSTER", "SETSLOT", slotNumber, "NODE", .string(targetID)) }

        let acked = await sending.value
        #expect(acked.count == total)
        let received = await b.messages(total, timeout: .seconds(30)).compactMap { $0["id"] as? String }
        #expect(received == acked, "bob got \(received.count) of \(acked.count)")
        #expect(try await target.command("HEXISTS", .string("chat:user:{\(bob)}"), "name") == .integer(1))
        // Counted: bob's node subscribed his channel again, on the map it read again.
        let counted = try await deployment.relays.metricSamples(node: 1)
        #expect((counted[#"redis_cluster_resubscriptions_total{node="node1"}"#] ?? 0) >= 1)
        #expect((counted[#"redis_cluster_map_changes_total{node="node1"}"#] ?? 0) >= 1)
        // After the move bob's node listens on the new owner: a message sent now arrives live.
        let after = await a.sendUntilAcked(friendship: friendship, content: "after", cid: "after")
        #expect(await b.messages(1).first?["id"] as? String == after)
    }

    /// With `--min-replicas 1`, the primary holding the friendship's stream (and bob's channel) is killed with
    /// `kill -9` while alice sends, each send retried with its cid until acked. Its replica takes over, and the old
    /// primary, restarted, becomes its replica (until then the new primary has none, and sends are `unavailable`):
    /// no acked message is lost, no cid is stored twice, and bob's open socket gets every message once, in order.
    @Test func aKilledPrimaryLosesNoAckedMessage() async throws {
        let deployment = try await Self.deploy {
            $0.minimumReplicas = 1
            $0.redisCommandTimeout = 3
        }
        defer { Task { await deployment.stop() } }
        let (a, b, _, _, friendship) = try await deployment.aliceAndBob(friendshipPrimary: 0)
        let victim = deployment.primaries[0]

        let slot = HashSlot(key: "chat:history:{\(friendship)}")
        var rejoining: Task<Void, any Error>?
        let acked = try await deployment.sendAll(40, from: a, in: friendship) { index in
            guard index == 10 else { return }
            let server = deployment.redis.server(at: victim)!
            server.kill()
            // The node notices at once that a primary it needs is gone.
            #expect(await deployment.relays.eventually(seconds: 5) { (try? await deployment.relays.http("GET", "/readyz"))?.status == 503 })
            rejoining = Task {
                // Until the replica is promoted the map has a shard without a live primary, and reads fail.
                while (try? await deployment.reader.refresh())?.primary(for: slot) ?? victim == victim {
                    try await Task.sleep(for: .milliseconds(200))
                }
                try await server.start()
            }
        }
        try await rejoining?.value
        let promoted = try await deployment.reader.refresh().primary(for: slot)
        #expect(promoted != nil && promoted != victim, "no failover happened")
        try await deployment.expectNothingLost(acked, in: friendship, receiver: b)
        // Ready again on the new map, its probes answered.
        for node in 0..<2 {
            #expect(
                await deployment.relays.eventually(seconds: 20) { (try? await deployment.relays.http("GET", "/readyz", node: node))?.status == 200 }
            )
        }
    }

    /// A manual failover (`CLUSTER FAILOVER` on the replica) of the primary that holds the friendship's stream and
    /// bob's channel, while alice sends with `--min-replicas 1`: the old primary unsubscribes bob's channel and becomes
    /// a replica; bob's node subscribes on the new primary and catches up. No acked message is lost or stored twice,
    /// and bob's open socket gets every message once, in order.
    @Test func aManualFailoverUnderLoadLosesNothing() async throws {
        let deployment = try await Self.deploy {
            $0.minimumReplicas = 1
            $0.redisCommandTimeout = 3
        }
        defer { Task { await deployment.stop() } }
        let (a, b, _, _, friendship) = try await deployment.aliceAndBob(friendshipPrimary: 0)
        let shard = try #require(deployment.reader.topology?.shards.first)
        let replica = try #require(shard.replicas.first.flatMap { deployment.redis.server(at: $0) })

        let acked = try await deployment.sendAll(40, from: a, in: friendship) { index in
            if index == 10 { _ = try await replica.command("CLUSTER", "FAILOVER") }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(try await replica.command("ROLE").array?.first?.string == "master", "the replica was not promoted")
        try await deployment.expectNothingLost(acked, in: friendship, receiver: b)
    }

    /// A message stored whose node died before publishing it (written here as the store script would, nothing
    /// published): alice's retry of its cid is acked with the stored id and publishes it again, so bob's open socket
    /// gets it live; without a retry, the next message's `prev` makes bob's socket read it from the stream.
    @Test func aRetriedCidPublishesAMessageItsNodeNeverPublished() async throws {
        let deployment = try await Self.deploy()
        defer { Task { await deployment.stop() } }
        let (alice, bob, friendship) = ("alice", "bob", "f1")
        for user in [alice, bob] { try await deployment.createUser(user) }
        try await deployment.befriend(alice, bob, id: friendship)
        let a = try await deployment.relays.connectOpen(alice, node: 0)
        let b = try await deployment.relays.connectOpen(bob, node: 1)

        let history = "chat:history:{\(friendship)}"
        let stored = try #require(
            try await deployment.reader.command(
                ["XADD", .string(history), "*", "from", .string(alice), "to", .string(bob), "type", "text", "content", "lost publish", "cid", "c1"]
            ).string
        )
        let day = Int(Date().timeIntervalSince1970) / 86_400
        let bucket = "chat:cids:{\(friendship)}:\(day)"
        _ = try await deployment.reader.command(["HSET", .string(bucket), .string("\(alice):c1"), .string(stored)])
        #expect(await b.next(where: { $0["op"] == nil }, timeout: .seconds(1)) == nil, "nothing was published yet")

        a.send(to: friendship, content: "lost publish", cid: "c1")
        let ack = await a.next(where: { $0["op"] as? String == "ack" })
        #expect(ack?["id"] as? String == stored)
        let delivered = await b.next(where: { $0["op"] == nil })
        #expect(delivered?["id"] as? String == stored)
        #expect(delivered?["content"] as? String == "lost publish")
        #expect(try await deployment.history(friendship).count == 1)

        // Another message stored and never published, then alice's next one, whose `prev` names it: bob's socket
        // waits out the grace, reads the missing one from the stream, and gets both in order.
        let missing = try #require(
            try await deployment.reader.command(
                ["XADD", .string(history), "*", "from", .string(alice), "to", .string(bob), "type", "text", "content", "never published"]
            ).string
        )
        a.send(to: friendship, content: "next", cid: "c2")
        let both = await Self.collect(b) { Self.delivered($0, in: friendship).count == 2 }
        #expect(Self.delivered(both, in: friendship).compactMap { $0["content"] as? String } == ["never published", "next"])
        #expect(Self.delivered(both, in: friendship).first?["id"] as? String == missing)
    }

    /// Contract v2's events on a cluster, where friends' channels live in other slots than the user's keys and the
    /// friendship's: presence, typing and read marks are published by the node (`SPUBLISH` per channel), a broadcast
    /// reaches every node through the sharded `chat:broadcast`, and the friends list and the history API read across
    /// primaries.
    @Test func presenceTypingReadMarksBroadcastAndTheAPIOnACluster() async throws {
        let deployment = try await Self.deploy()
        defer { Task { await deployment.stop() } }
        let relays = deployment.relays
        let (a, b, alice, bob, friendship) = try await deployment.aliceAndBob(friendshipPrimary: 2)
        let isPresence = { (online: Bool) in
            { (frame: [String: Any]) in frame["op"] as? String == "presence" && frame["user"] as? String == bob && frame["online"] as? Bool == online
            }
        }

        // Bob's second device, then his leaving: alice hears offline, then online again.
        await b.close()
        #expect(await a.next(where: isPresence(false)) != nil)
        let b2 = try await relays.connectOpen(bob, node: 1)
        #expect(await a.next(where: isPresence(true)) != nil)

        // Typing reaches bob on the other node; nothing is stored.
        a.send(json: ["op": "typing", "friend": friendship])
        #expect(await b2.next(where: { $0["op"] as? String == "typing" && $0["user"] as? String == alice }) != nil)

        // A message, then bob marks it read: both members' sockets hear it.
        let id = try #require(await a.sendUntilAcked(friendship: friendship, content: "read me", cid: "r1"))
        #expect(await b2.messages(1).first?["id"] as? String == id)
        b2.send(json: ["op": "read", "friend": friendship, "id": id, "cid": "m1"])
        let isRead = { (frame: [String: Any]) in frame["op"] as? String == "read" && frame["id"] as? String == id }
        #expect(await a.next(where: isRead) != nil)
        #expect(await b2.next(where: isRead) != nil)

        // The friends list and the history API, read across primaries.
        let list = try await relays.http("GET", "/api/users/\(alice)/friends", node: 1)
        let entry = (list.json["friends"] as? [[String: Any]])?.first
        #expect(entry?["online"] as? Bool == true)
        #expect(entry?["last"] as? String == id)
        #expect(entry?["friend_read"] as? String == id)
        let page = try await relays.http("GET", "/api/friendships/\(friendship)/messages?limit=10")
        #expect((page.json["messages"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [id])

        // A broadcast reaches sockets on both nodes, and a program reading the contract's `chat:broadcast` with a classic
        // SUBSCRIBE on any node of the cluster (here the last one, a replica).
        let heard = NIOLockedValueBox<[String]>([])
        let reader = RedisSubscriber(configuration: deployment.redis.servers.last!.configuration) { message in
            heard.withLockedValue { $0.append(String(buffer: message.payload)) }
        }
        try await reader.connect()
        try await reader.subscribe(["chat:broadcast"])
        defer { Task { await reader.shutdown() } }
        #expect(try await relays.http("POST", "/api/broadcast", body: ["content": "maintenance at noon"]).status == 202)
        for socket in [a, b2] {
            let broadcast = await socket.next(where: { $0["op"] as? String == "broadcast" })
            #expect(broadcast?["content"] as? String == "maintenance at noon")
        }
        #expect(try await relays.eventually { heard.withLockedValue { $0.contains { $0.contains("maintenance at noon") } } })
    }

    /// Contract v3's limits that read Redis hold on a cluster too: a history page stops before 1 MiB, `before` =
    /// `0-0` is an empty page, and ids past 64 bits are `bad_message` or 400, never a Redis error.
    /// alice's and bob's channels live on whichever primaries their slots name; the nodes' sharded subscriptions
    /// carry the end to every node holding a socket of alice.
    @Test func disconnectAndBlockReachEveryNodeOnACluster() async throws {
        let deployment = try await Self.deploy()
        defer { Task { await deployment.stop() } }
        try await EndedSessions.check(deployment.relays, alice: "alice", bob: "bob") {
            try await deployment.reader.command(["EXISTS", "chat:blocked:{alice}"]) == .integer(1)
        }
    }

    /// A user's keys, each friend's keys and each friendship's keys live in different slots.
    @Test func unfriendEraseAndRetentionOnACluster() async throws {
        let deployment = try await Self.deploy { $0.historyMaximumLength = 20 }
        defer { Task { await deployment.stop() } }
        try await ErasureScenario.check(deployment.relays) {
            var keys: [String] = []
            for primary in deployment.reader.primaries {
                keys += (try await deployment.reader.command(on: primary, ["KEYS", "*"]).array ?? []).compactMap(\.string)
            }
            return keys
        }
        try await RetentionScenario.check(deployment.relays) { key in
            Int(try await deployment.reader.command(["XLEN", .string(key)]).int ?? -1)
        }
    }

    @Test func historyBoundsAndIdRangesOnACluster() async throws {
        let deployment = try await Self.deploy()
        defer { Task { await deployment.stop() } }
        let (a, _, alice, bob, friendship) = try await deployment.aliceAndBob(friendshipPrimary: 1)
        let control = String(repeating: "\u{1}", count: 16 * 1024)
        for index in 0..<12 {
            let fields: [RedisArgument] = ["from", .string(alice), "to", .string(bob), "type", "text", "content", .string(control + "\(index)")]
            _ = try await deployment.reader.command(["XADD", .string("chat:history:{\(friendship)}"), "*"] + fields)
        }
        let stored = try await deployment.history(friendship).map(\.id)
        a.send(json: ["op": "history", "friend": friendship, "limit": 500])
        let page = try #require(await a.next { $0["op"] as? String == "history" })
        let ids = (page["messages"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(try JSONSerialization.data(withJSONObject: page).count <= 1 << 20)
        #expect(ids.count == 10 && ids == Array(stored.suffix(10)))
        a.send(json: ["op": "history", "friend": friendship, "before": "0-0"])
        #expect((await a.next { $0["op"] as? String == "history" }?["messages"] as? [Any])?.isEmpty == true)
        a.send(json: ["op": "history", "friend": friendship, "before": "18446744073709551616-0", "cid": "h"])
        #expect(await a.next { $0["op"] as? String == "error" }?["code"] as? String == "bad_message")
        let http = try await deployment.relays.http("GET", "/api/friendships/\(friendship)/messages?after=1-18446744073709551616", node: 1)
        #expect(http.status == 400)
    }
}
