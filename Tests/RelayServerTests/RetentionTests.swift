import ChatClient
import ChatProtocol
import Foundation
import RedisClient
import RelayCore
import TestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// History retention by length and by age, `synced.truncated`, Redis's memory in `/metrics`, unfriend and erase on
/// one Redis. Redis runs with 10 entries per stream node, so that approximate trimming (whole nodes) is fine-grained.
@Suite struct RetentionTests {
    static let smallNodes = ["--stream-node-max-entries", "10"]

    @Test func aFriendshipKeepsItsNewestMessagesByLength() async throws {
        let cluster = try await TestCluster.start(nodes: 2, redisArguments: Self.smallNodes) { $0.historyMaximumLength = 20 }
        defer { Task { await cluster.stop() } }
        let (alice, _, friendship) = try await cluster.makeFriends("alice", "bob")
        let a = try await cluster.connectOpen(alice, node: 0)
        var ids: [String] = []
        for index in 0..<100 { ids.append(try #require(await a.sendUntilAcked(friendship: friendship, content: "m\(index)", cid: "c\(index)"))) }
        let length = try #require(try await cluster.redis.command("XLEN", .string("chat:history:{\(friendship)}")).int)
        // At least the newest 20, and at most one stream node more.
        #expect((20...30).contains(length), "\(length)")
        let page = try await cluster.http("GET", "/api/friendships/\(friendship)/messages?limit=20", node: 1)
        #expect((page.json["messages"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == Array(ids.suffix(20)))

        // A cursor from before the trim: the sync replays what is kept and names the friendship as truncated.
        a.send(json: ["op": "sync", "cursors": [friendship: ids[5]]])
        let synced = await a.next(where: { $0["op"] as? String == "synced" }, timeout: .seconds(10))
        #expect(synced?["truncated"] as? [String] == [friendship])
        // A cursor among the kept messages: nothing was dropped after it.
        a.send(json: ["op": "sync", "cursors": [friendship: ids[95]]])
        let recent = await a.next(where: { $0["op"] as? String == "synced" }, timeout: .seconds(10))
        #expect(recent != nil && recent?["truncated"] == nil)
    }

    @Test func messagesOlderThanTheAgeAreNeverReturnedAndAQuietHistoryExpires() async throws {
        let cluster = try await TestCluster.start(nodes: 2, redisArguments: Self.smallNodes) { $0.historyMaximumAge = 3 }
        defer { Task { await cluster.stop() } }
        let (alice, bob, friendship) = try await cluster.makeFriends("alice", "bob")
        let stream = "chat:history:{\(friendship)}"
        // Thirty messages from a minute ago, written as a store writes them.
        let old = UInt64(Date().timeIntervalSince1970 * 1000) - 60_000
        for index in 0..<30 {
            try await cluster.storeDirectly("old \(index)", id: "\(old + UInt64(index))-0", from: alice, to: bob, in: friendship)
        }
        let a = try await cluster.connectOpen(alice, node: 0)
        a.send(json: ["op": "history", "friend": friendship, "rid": 1])
        #expect((await a.next(where: { $0["op"] as? String == "history" }, timeout: .seconds(10))?["messages"] as? [Any])?.isEmpty == true)
        #expect(
            (try await cluster.http("GET", "/api/friendships/\(friendship)/messages?after=0-0", node: 1).json["messages"] as? [Any])?.isEmpty == true
        )
        a.send(json: ["op": "sync", "cursors": [friendship: "0-0"]])
        let synced = await a.next(where: { $0["op"] as? String == "synced" || $0["friend"] as? String == friendship }, timeout: .seconds(10))
        #expect(synced?["op"] as? String == "synced", "no old message replayed: \(synced ?? [:])")
        #expect(synced?["truncated"] as? [String] == [friendship])

        // A new message trims the old ones (whole stream nodes of 10) and sets the stream to expire after the age.
        let fresh = try #require(await a.sendUntilAcked(friendship: friendship, content: "new", cid: "n1"))
        #expect(try await cluster.redis.command("XLEN", .string(stream)) == .integer(1))
        // The age and its margin (a tenth of the age, at least a second): never before the age after the newest
        // message, however long the test took to ask.
        let ttl = Int(try #require(try await cluster.redis.command("PTTL", .string(stream)).int))
        let expiresAt = Int(Date().timeIntervalSince1970 * 1000) + ttl
        let newest = Int(StreamID(fresh)?.milliseconds ?? 0)
        #expect(ttl <= 4000 && expiresAt >= newest + 3000 - 50, "expires \(expiresAt - newest) ms after the newest message")
        let page = try await cluster.http("GET", "/api/friendships/\(friendship)/messages", node: 1)
        #expect((page.json["messages"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [fresh])
        // The friendship goes quiet: its history expires whole; the friendship stays.
        #expect(await cluster.eventually(seconds: 10) { (try? await cluster.redis.command("EXISTS", .string(stream))) == .integer(0) })
        #expect(try await cluster.redis.command("EXISTS", .string("chat:friendship:{\(friendship)}")) == .integer(1))
    }

    @Test func redisMemoryIsInTheMetricsAndAnOperatorCommand() async throws {
        let cluster = try await TestCluster.start(nodes: 1, redisArguments: ["--maxmemory", "64mb", "--maxmemory-policy", "noeviction"])
        defer { Task { await cluster.stop() } }
        let (alice, _, friendship) = try await cluster.makeFriends("alice", "bob")
        let a = try await cluster.connectOpen(alice, node: 0)
        _ = await a.sendUntilAcked(friendship: friendship, content: "hello", cid: "m1")
        #expect(
            await cluster.eventually(seconds: 20) {
                (try? await cluster.metricSamples(node: 0)[#"chatrelay_redis_maxmemory_bytes{node="node0",server="redis"}"#]) == 64 * 1024 * 1024
            }
        )
        #expect(try await cluster.metricSamples(node: 0)[#"chatrelay_redis_used_memory_bytes{node="node0",server="redis"}"#] ?? 0 > 100_000)
        let memory = try await cluster.http("GET", "/api/redis/memory")
        #expect(memory.status == 200)
        let history = memory.json["history"] as? [String: Any]
        #expect(history?["streams"] as? Int == 1)
        #expect(history?["estimated_bytes"] as? Int ?? 0 > 0)
        #expect((history?["largest"] as? [[String: Any]])?.first?["friend"] as? String == friendship)
        #expect((memory.json["servers"] as? [[String: Any]])?.first?["policy"] as? String == "noeviction")
    }

    @Test func unfriendAndEraseOnOneRedisWithTokens() async throws {
        let cluster = try await TestCluster.start(nodes: 2, auth: .jwt)
        defer { Task { await cluster.stop() } }
        // Who may: a member unfriends, a user erases themselves; nobody else.
        let (x, y, xy) = try await cluster.makeFriends("xavier", "yolanda")
        let z = try #require(try await cluster.http("POST", "/api/users", body: ["name": "zed"]).json["id"] as? String)
        #expect(try await cluster.http("DELETE", "/api/friendships/\(xy)", token: try await cluster.token(for: z)).status == 403)
        #expect(try await cluster.http("DELETE", "/api/users/\(x)", token: try await cluster.token(for: y)).status == 403)
        #expect(try await cluster.http("DELETE", "/api/friendships/\(xy)", token: try await cluster.token(for: y)).status == 204)
        #expect(try await cluster.http("DELETE", "/api/users/\(x)", token: try await cluster.token(for: x)).status == 204)
        #expect(try await cluster.http("DELETE", "/api/users/no%20spaces").status == 400)

        try await ErasureScenario.check(cluster) {
            (try await cluster.redis.command("KEYS", "*").array ?? []).compactMap(\.string)
        }
    }

    /// An erase cut short (a node killed between its steps) is finished by running it again: the state each cut
    /// leaves is made by hand, then the erase runs once more.
    @Test func anEraseCutShortFinishesWhenRunAgain() async throws {
        let cluster = try await TestCluster.start(nodes: 1)
        defer { Task { await cluster.stop() } }
        let (alice, bob, ab) = try await cluster.makeFriends("alice", "bob")
        let carol = try #require(try await cluster.http("POST", "/api/users", body: ["name": "carol"]).json["id"] as? String)
        let ac = try #require(try await cluster.http("POST", "/api/friendships", body: ["user1": alice, "user2": carol]).json["id"] as? String)
        let a = try await cluster.connectOpen(alice, node: 0)
        _ = await a.sendUntilAcked(friendship: ab, content: "one", cid: "1")
        _ = await a.sendUntilAcked(friendship: ac, content: "two", cid: "2")
        // Cut in the middle of unfriending bob (his entry and the friendship's hash gone, its history and cid records
        // and alice's entry left), before carol's friendship was touched.
        _ = try await cluster.redis.command("HDEL", .string("chat:friends:{\(bob)}"), .string(alice))
        _ = try await cluster.redis.command("DEL", .string("chat:friendship:{\(ab)}"))
        #expect(try await cluster.http("DELETE", "/api/users/\(alice)").status == 204)
        let left = (try await cluster.redis.command("KEYS", "*").array ?? []).compactMap(\.string)
        #expect(left.filter { $0.contains(alice) || $0.contains(ab) || $0.contains(ac) } == [])
        // Cut after everything but the user's own hash: the name is still taken, and a second run frees it.
        let (dora, _, _) = try await cluster.makeFriends("dora", "ed")
        _ = try await cluster.redis.command("HSET", .string("chat:user:{ghost}"), "name", "ghost")
        _ = try await cluster.redis.command("SET", .string("chat:username:{ghost}"), "ghost")
        #expect(try await cluster.http("DELETE", "/api/users/ghost").status == 204)
        #expect(try await cluster.redis.command("EXISTS", "chat:username:{ghost}", "chat:user:{ghost}") == .integer(0))
        _ = dora
    }
}

extension RetentionTests {
    /// A node killed (`kill -9`) while it erases a user with many friendships: the erase, run again through another
    /// node, leaves nothing of the user. Where the kill lands varies from run to run; the end state may not.
    @Test func anEraseWhoseNodeIsKilledIsFinishedThroughAnotherNode() async throws {
        let redis = try await RedisServer()
        defer { redis.stop() }
        let (portA, portB) = (try FreePort.next(), try FreePort.next())
        let common = ["--redis", redis.url, "--auth", "none", "--admin-token", "adm", "--log-level", "error"]
        let doomed = try RelayProcess(arguments: common + ["--node-id", "doomed"], port: portA)
        let survivor = try RelayProcess(arguments: common + ["--node-id", "survivor"], port: portB)
        #expect(try await doomed.becomesReady())
        #expect(try await survivor.becomesReady())
        let client = AdminClient(baseURL: "http://127.0.0.1:\(portB)", token: "adm")
        let alice = try await client.createUser(name: "alice")
        var friendships: [String] = []
        for index in 0..<300 {
            let friend = try await client.createUser(name: "friend\(index)")
            friendships.append(try await client.createFriendship(alice, friend))
        }
        // The erase starts on the doomed node, which dies a few milliseconds in.
        let erasing = Task {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(portA)/api/users/\(alice)")!)
            request.httpMethod = "DELETE"
            return try? await URLSession.shared.data(for: request)
        }
        // Killed as soon as the first friendships are gone: half-way, as far as a test can aim.
        let friendsKey = RedisArgument.string("chat:friends:{\(alice)}")
        let deadline = ContinuousClock.now + .seconds(30)
        while (try await redis.command("HLEN", friendsKey).int ?? 0) > friendships.count - 10, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(1))
        }
        ChildProcesses.killAndWait(doomed.process.processIdentifier)
        _ = await erasing.value
        let before = (try await redis.command("KEYS", "*").array ?? []).compactMap(\.string)
        let leftBefore = before.filter { key in key.contains(alice) || friendships.contains { key.contains($0) } }.count
        print("erase cut by kill -9: \(leftBefore) keys of alice and her friendships were left")

        let (status, _) = try await client.call("DELETE", "/api/users/\(alice)")
        #expect(status == 204)
        let after = (try await redis.command("KEYS", "*").array ?? []).compactMap(\.string)
        #expect(after.filter { key in key.contains(alice) || friendships.contains { key.contains($0) } } == [])
        // Every friend's list is empty again.
        for index in [0, 150, 299] {
            let friend = try #require(try await client.call("GET", "/api/usernames/friend\(index)").json["id"] as? String)
            #expect(try await redis.command("HLEN", .string("chat:friends:{\(friend)}")) == .integer(0))
        }
    }
}
