import ChatClient
import Foundation
import RedisClient
import TestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Presence across nodes: a user is online while any node holds a socket of theirs; friends hear of each change once.
@Suite struct PresenceTests {
    private static func isPresence(of user: String, online: Bool) -> ([String: Any]) -> Bool {
        { $0["op"] as? String == "presence" && $0["user"] as? String == user && $0["online"] as? Bool == online }
    }

    private static func friendEntry(_ cluster: TestCluster, of user: String, friend: String, node: Int = 0) async throws -> [String: Any]? {
        let list = try await cluster.http("GET", "/api/users/\(user)/friends", node: node)
        return (list.json["friends"] as? [[String: Any]])?.first { $0["user"] as? String == friend }
    }

    @Test func firstSocketAnywhereIsOnlineAndLastOneAnywhereIsOffline() async throws {
        let cluster = try await TestCluster.start(nodes: 2)
        defer { Task { await cluster.stop() } }
        let (alice, bob, _) = try await cluster.makeFriends("alice", "bob")
        let (carol, _, _) = try await cluster.makeFriends("carol", "dave")
        let b = try await cluster.connectOpen(bob, node: 1)
        let stranger = try await cluster.connectOpen(carol, node: 0)
        #expect(try await Self.friendEntry(cluster, of: bob, friend: alice)?["online"] as? Bool == false)

        let phone = try await cluster.connectOpen(alice, node: 0)
        let online = await b.next(where: Self.isPresence(of: alice, online: true))
        #expect(online != nil)
        #expect((online?["ts"] as? Int ?? 0) > 1_700_000_000_000)
        #expect(try await Self.friendEntry(cluster, of: bob, friend: alice, node: 1)?["online"] as? Bool == true)

        // A second device on the other node, and the first one leaving: alice stays online, nobody is told.
        // Open (its presence sent) before the phone closes: otherwise the phone's close could reach Redis first, and
        // alice would rightly be offline for a moment.
        let laptop = try await cluster.connectOpen(alice, node: 1)
        await phone.close()
        #expect(await b.next(where: { $0["op"] as? String == "presence" }, timeout: .seconds(1)) == nil)
        #expect(try await Self.friendEntry(cluster, of: bob, friend: alice)?["online"] as? Bool == true)

        await laptop.close()
        #expect(await b.next(where: Self.isPresence(of: alice, online: false)) != nil)
        #expect(try await Self.friendEntry(cluster, of: bob, friend: alice)?["online"] as? Bool == false)
        // Someone who is not alice's friend heard none of it.
        #expect(await stranger.next(where: { $0["op"] as? String == "presence" }, timeout: .milliseconds(300)) == nil)
    }

    /// `kill -9`: the node says nothing, its lease runs out, and another node takes its users offline.
    @Test(.takesTurns) func aKilledNodesUsersGoOfflineWithinTwoHeartbeatsAndFiveSeconds() async throws {
        let heartbeat = 2.0
        let cluster = try await TestCluster.start(nodes: 1) { $0.heartbeat = heartbeat }
        defer { Task { await cluster.stop() } }
        let (alice, bob, _) = try await cluster.makeFriends("alice", "bob")
        let port = try FreePort.next()
        let doomed = try RelayProcess(
            arguments: ["--redis", cluster.redis.url, "--auth", "none", "--heartbeat", "\(Int(heartbeat))", "--node-id", "doomed"],
            port: port
        )
        let b = try await cluster.connectOpen(bob, node: 0)
        var a: ChatConnection?
        for _ in 0..<200 where a == nil {
            a = try? await ChatConnection.connect(url: "ws://127.0.0.1:\(port)/ws/\(alice)")
            if a == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(a != nil)
        #expect(await b.next(where: Self.isPresence(of: alice, online: true)) != nil)

        kill(doomed.process.processIdentifier, SIGKILL)
        let killed = ContinuousClock.now
        // The contract's bound is two periods and 5 s; 3 s more for a loaded test machine.
        let offline = await b.next(where: Self.isPresence(of: alice, online: false), timeout: .seconds(2 * heartbeat + 5 + 3))
        let took = ContinuousClock.now - killed
        #expect(offline != nil, "no offline presence \(took) after the kill")
        #expect(try await Self.friendEntry(cluster, of: bob, friend: alice)?["online"] as? Bool == false)
        // The dead node's entries are gone from Redis.
        #expect(try await cluster.redis.command("ZCARD", .string("chat:presence:{\(alice)}")) == .integer(0))
        _ = a
    }

    /// A node that stalled past its lease is swept by another (its users announced offline); at its next renewal it
    /// finds itself gone, and lists and announces its users again.
    @Test func aSweptNodeThatIsStillAliveAnnouncesItsUsersAgain() async throws {
        // A long heartbeat: the test renews by hand, and a renewal of node 0's own (every half period) between the
        // sweep and the checks would list its users again before the test looks.
        let cluster = try await TestCluster.start(nodes: 2) { $0.heartbeat = 600 }
        defer { Task { await cluster.stop() } }
        let (alice, bob, _) = try await cluster.makeFriends("alice", "bob")
        let b = try await cluster.connectOpen(bob, node: 1)
        _ = try await cluster.connectOpen(alice, node: 0)
        #expect(await b.next(where: Self.isPresence(of: alice, online: true)) != nil)
        let presence = cluster.nodes[0].relay.presence
        try await presence.renew()

        // What node 1's sweep does to node 0 when node 0's lease ran out.
        let instance = presence.instance
        #expect(try await cluster.redis.command("ZSCORE", "chat:nodes", .string(instance)).string != nil)
        #expect(try await cluster.redis.command("ZREM", "chat:nodes", .string(instance)) == .integer(1))
        _ = try await cluster.redis.command("ZADD", "chat:nodes", "1", .string(instance))
        try await cluster.nodes[1].relay.presence.renew()
        #expect(await b.next(where: Self.isPresence(of: alice, online: false)) != nil)
        #expect(try await cluster.redis.command("EXISTS", .string("chat:node:{\(instance)}:users")) == .integer(0))

        try await presence.renew()
        #expect(await b.next(where: Self.isPresence(of: alice, online: true)) != nil)
        #expect(try await cluster.redis.command("SISMEMBER", .string("chat:node:{\(instance)}:users"), .string(alice)) == .integer(1))
        #expect(try await Self.friendEntry(cluster, of: bob, friend: alice)?["online"] as? Bool == true)
    }

    /// One script call announces to every friend: a user's presence costs one round trip, not one per friend.
    @Test func aUserWithAThousandFriendsCostsOneScriptCallPerChange() async throws {
        // A long heartbeat: no lease renewal (a script call too) falls inside the counted window once both nodes made
        // their first one.
        let cluster = try await TestCluster.start(nodes: 2) { $0.heartbeat = 600 }
        #expect(try await cluster.eventually { try await cluster.redis.command("ZCARD", "chat:nodes") == .integer(2) })
        defer { Task { await cluster.stop() } }
        let (hub, first, _) = try await cluster.makeFriends("hub", "first")
        let (_, last, _) = try await cluster.makeFriends("hub2", "last")
        // 998 friends written straight into the hub's friends hash, and `last` made a friend through the API.
        var friends: [RedisArgument] = ["HSET", .string("chat:friends:{\(hub)}")]
        for index in 0..<998 { friends += [.string("ghost\(index)"), .string("ghostship\(index)")] }
        _ = try await cluster.redis.command(friends)
        _ = try await cluster.http("POST", "/api/friendships", body: ["user1": hub, "user2": last])
        #expect(try await cluster.redis.command("HLEN", .string("chat:friends:{\(hub)}")) == .integer(1000))

        let f = try await cluster.connectOpen(first, node: 0)
        let l = try await cluster.connectOpen(last, node: 1)
        let before = try await Self.commandCalls(cluster.redis)
        let h = try await cluster.connectOpen(hub, node: 0)
        #expect(await f.next(where: Self.isPresence(of: hub, online: true)) != nil)
        #expect(await l.next(where: Self.isPresence(of: hub, online: true)) != nil)
        let afterOnline = try await Self.commandCalls(cluster.redis)
        #expect(
            afterOnline["evalsha", default: 0] + afterOnline["eval", default: 0] - before["evalsha", default: 0] - before["eval", default: 0] == 1
        )
        #expect(afterOnline["publish", default: 0] - before["publish", default: 0] == 1000)

        await h.close()
        #expect(await f.next(where: Self.isPresence(of: hub, online: false)) != nil)
        #expect(await l.next(where: Self.isPresence(of: hub, online: false)) != nil)
        let afterOffline = try await Self.commandCalls(cluster.redis)
        #expect(afterOffline["evalsha", default: 0] - afterOnline["evalsha", default: 0] == 1)
        #expect(afterOffline["publish", default: 0] - afterOnline["publish", default: 0] == 1000)
    }

    /// Calls per command name, from `INFO commandstats` (commands that scripts call count too).
    private static func commandCalls(_ redis: RedisServer) async throws -> [String: Int] {
        let text = try await redis.command("INFO", "commandstats").string ?? ""
        var calls: [String: Int] = [:]
        for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix("cmdstat_") {
            let name = line.dropFirst("cmdstat_".count).prefix { $0 != ":" }
            let count = line.split(separator: ":calls=").dropFirst().first?.prefix { $0.isNumber }
            calls[String(name)] = count.flatMap { Int($0) } ?? 0
        }
        return calls
    }
}
