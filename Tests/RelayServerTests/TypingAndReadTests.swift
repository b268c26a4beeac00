import ChatClient
import Foundation
import RedisClient
import Testing

/// Typing notices (relayed, never stored, rate limited) and read marks (stored, forward only), across two nodes.
@Suite struct TypingAndReadTests {
    @Test func typingReachesTheFriendsSocketsOnOtherNodesAndIsNeverStored() async throws {
        let cluster = try await TestCluster.start(nodes: 2)
        defer { Task { await cluster.stop() } }
        let (alice, bob, friendship) = try await cluster.makeFriends("alice", "bob")
        let (_, _, strangers) = try await cluster.makeFriends("carol", "dave")
        let bobs = [try await cluster.connectOpen(bob, node: 1), try await cluster.connectOpen(bob, node: 0)]
        let a = try await cluster.connectOpen(alice, node: 0)
        let aliceElsewhere = try await cluster.connectOpen(alice, node: 1)

        a.send(json: ["op": "typing", "friend": friendship])
        for socket in bobs {
            let typing = await socket.next(where: { $0["op"] as? String == "typing" })
            #expect(typing?["friend"] as? String == friendship)
            #expect(typing?["user"] as? String == alice)
            #expect((typing?["ts"] as? Int ?? 0) > 1_700_000_000_000)
        }
        // Only the other member hears it.
        #expect(await aliceElsewhere.next(where: { $0["op"] as? String == "typing" }, timeout: .milliseconds(500)) == nil)
        #expect(try await cluster.history(friendship).isEmpty)

        a.send(json: ["op": "typing", "friend": strangers, "cid": "t1"])
        let refused = await a.next(where: { $0["op"] as? String == "error" })
        #expect(refused?["code"] as? String == "not_friends")
        #expect(refused?["cid"] as? String == "t1")
        a.send(json: ["op": "typing"])
        #expect(await a.next(where: { $0["op"] as? String == "error" })?["code"] as? String == "bad_message")
        #expect(!a.isClosed)
    }

    @Test func typingCountsAgainstTheRateLimit() async throws {
        let cluster = try await TestCluster.start(nodes: 1) {
            $0.rate = 1
            $0.burst = 3
        }
        defer { Task { await cluster.stop() } }
        let (alice, _, friendship) = try await cluster.makeFriends("alice", "bob")
        let a = try await cluster.connectOpen(alice, node: 0)
        for _ in 0..<5 { a.send(json: ["op": "typing", "friend": friendship]) }
        #expect(await a.next(where: { $0["op"] as? String == "error" })?["code"] as? String == "rate_limited")
    }

    @Test func readMarksMoveForwardOnlyAndReachBothMembersEverywhere() async throws {
        let cluster = try await TestCluster.start(nodes: 2)
        defer { Task { await cluster.stop() } }
        let (alice, bob, friendship) = try await cluster.makeFriends("alice", "bob")
        let a = try await cluster.connectOpen(alice, node: 0)
        let b = try await cluster.connectOpen(bob, node: 1)
        let bobElsewhere = try await cluster.connectOpen(bob, node: 0)
        var ids: [String] = []
        for index in 0..<3 {
            a.send(to: friendship, content: "m\(index)", cid: "c\(index)")
            if let ack = await a.next(where: { $0["op"] as? String == "ack" }), let id = ack["id"] as? String { ids.append(id) }
        }
        #expect(ids.count == 3)

        b.send(json: ["op": "read", "friend": friendship, "id": ids[1]])
        for socket in [a, b, bobElsewhere] {
            let read = await socket.next(where: { $0["op"] as? String == "read" })
            #expect(read?["friend"] as? String == friendship)
            #expect(read?["user"] as? String == bob)
            #expect(read?["id"] as? String == ids[1])
        }
        let marks = "chat:read:{\(friendship)}"
        #expect(try await cluster.redis.command("HGET", .string(marks), .string(bob)).string == ids[1])

        // An older id, or the same one again: ignored, nobody is told.
        b.send(json: ["op": "read", "friend": friendship, "id": ids[0]])
        b.send(json: ["op": "read", "friend": friendship, "id": ids[1]])
        #expect(await a.next(where: { $0["op"] as? String == "read" }, timeout: .seconds(1)) == nil)
        #expect(try await cluster.redis.command("HGET", .string(marks), .string(bob)).string == ids[1])

        // The friends list: the newest id and both marks, from either side.
        let alicesView = try await cluster.http("GET", "/api/users/\(alice)/friends", node: 1)
        let entry = (alicesView.json["friends"] as? [[String: Any]])?.first
        #expect(entry?["last"] as? String == ids[2])
        #expect(entry?["read"] is NSNull)
        #expect(entry?["friend_read"] as? String == ids[1])
        let bobsView = try await cluster.http("GET", "/api/users/\(bob)/friends")
        #expect((bobsView.json["friends"] as? [[String: Any]])?.first?["read"] as? String == ids[1])

        // Ids that are no message of the friendship, or no id at all: bad_message with the cid, the mark untouched.
        for (cid, id) in [("r1", "1-0"), ("r2", "99999999999999-0"), ("r3", "abc"), ("r4", "1732700000000")] {
            b.send(json: ["op": "read", "friend": friendship, "id": id, "cid": cid])
            let error = await b.next(where: { $0["op"] as? String == "error" })
            #expect(error?["code"] as? String == "bad_message", "\(id)")
            #expect(error?["cid"] as? String == cid)
        }
        #expect(try await cluster.redis.command("HGET", .string(marks), .string(bob)).string == ids[1])
        #expect(!b.isClosed)

        // A fresh friendship has no messages and no marks: nulls, not absent fields.
        let (carol, _, _) = try await cluster.makeFriends("carol", "erin")
        let fresh = (try await cluster.http("GET", "/api/users/\(carol)/friends").json["friends"] as? [[String: Any]])?.first
        for field in ["last", "read", "friend_read"] { #expect(fresh?[field] is NSNull, "\(field)") }
    }

    @Test func aUserTokenReadsItsOwnFriendsListAndNoOneElses() async throws {
        let cluster = try await TestCluster.start(nodes: 1, auth: .jwt)
        defer { Task { await cluster.stop() } }
        let (alice, bob, _) = try await cluster.makeFriends("alice", "bob")
        let own = try await cluster.http("GET", "/api/users/\(alice)/friends", token: try await cluster.token(for: alice))
        #expect(own.status == 200)
        #expect((own.json["friends"] as? [[String: Any]])?.first?["user"] as? String == bob)
        #expect(try await cluster.http("GET", "/api/users/\(alice)", token: try await cluster.token(for: alice)).status == 200)
        #expect(try await cluster.http("GET", "/api/users/\(alice)/friends", token: try await cluster.token(for: bob)).status == 403)
        #expect(try await cluster.http("GET", "/api/users/\(alice)/friends", token: "").status == 401)
    }
}
