import ChatClient
import Foundation
import Testing

/// Unfriend and erase, asserted on any deployment of two nodes: sockets of both members on both nodes learn of it,
/// nothing of the friendship or the user is left in Redis, sends to an ended friendship are `not_friends` on a node
/// that had it cached, and friending again starts empty.
enum ErasureScenario {
    /// `allKeys` lists every key of every Redis server of the deployment, as an outside program would.
    static func check(_ cluster: TestCluster, allKeys: () async throws -> [String]) async throws {
        let (alice, bob, ab) = try await cluster.makeFriends("alice", "bob")
        let carol = try #require(try await cluster.http("POST", "/api/users", body: ["name": "carol"]).json["id"] as? String)
        let ac = try #require(try await cluster.http("POST", "/api/friendships", body: ["user1": alice, "user2": carol]).json["id"] as? String)
        let aliceSockets = [try await cluster.connectOpen(alice, node: 0), try await cluster.connectOpen(alice, node: 1)]
        let b = try await cluster.connectOpen(bob, node: 1)
        let c = try await cluster.connectOpen(carol, node: 0)
        // History, cid records and read marks in both friendships.
        let first = try #require(await aliceSockets[0].sendUntilAcked(friendship: ab, content: "hi bob", cid: "x1"))
        _ = try #require(await c.sendUntilAcked(friendship: ac, content: "hi alice", cid: "y1"))
        b.send(json: ["op": "read", "friend": ab, "id": first])

        // Unfriend: both members' sockets on both nodes are told, and the friendship is gone from Redis.
        #expect(try await cluster.http("DELETE", "/api/friendships/\(ac)", node: 1).status == 204)
        for socket in [aliceSockets[0], aliceSockets[1], c] {
            #expect(await socket.next(where: { $0["op"] as? String == "unfriended" && $0["friend"] as? String == ac }, timeout: .seconds(10)) != nil)
        }
        #expect(try await allKeys().filter { $0.contains(ac) } == [])
        // Node 0 had it cached for carol's sends: the store refuses it.
        c.send(to: ac, content: "still there?", cid: "y2")
        #expect(await c.next(where: { $0["cid"] as? String == "y2" }, timeout: .seconds(10))?["code"] as? String == "not_friends")
        #expect(try await cluster.http("DELETE", "/api/friendships/\(ac)").status == 404)
        let again = try await cluster.http("POST", "/api/friendships", body: ["user1": carol, "user2": alice])
        #expect(again.status == 201)
        let ac2 = try #require(again.json["id"] as? String)
        #expect(ac2 != ac)
        #expect((try await cluster.http("GET", "/api/friendships/\(ac2)/messages").json["messages"] as? [Any])?.isEmpty == true)

        // Erase alice: her sockets close with 4004, her friends see her go and their friendships end.
        #expect(try await cluster.http("DELETE", "/api/users/\(alice)").status == 204)
        #expect(await cluster.eventually(seconds: 10) { aliceSockets.allSatisfy(\.isClosed) })
        #expect(aliceSockets.map(\.closeCode) == [4004, 4004])
        #expect(await b.next(where: { $0["op"] as? String == "unfriended" && $0["friend"] as? String == ab }, timeout: .seconds(10)) != nil)
        #expect(await c.next(where: { $0["op"] as? String == "unfriended" && $0["friend"] as? String == ac2 }, timeout: .seconds(10)) != nil)
        #expect(try await allKeys().filter { $0.contains(alice) || $0.contains(ab) || $0.contains(ac2) } == [])
        #expect(try await cluster.http("GET", "/api/users/\(alice)").status == 404)
        let bobsFriends = try await cluster.http("GET", "/api/users/\(bob)/friends", node: 1).json["friends"] as? [Any]
        #expect(bobsFriends?.isEmpty == true)
        // The name is free; erasing again is nothing to do; the others chat on.
        #expect(try await cluster.http("POST", "/api/users", body: ["name": "alice"]).status == 201)
        #expect(try await cluster.http("DELETE", "/api/users/\(alice)").status == 204)
        #expect(!b.isClosed && !c.isClosed)
    }
}
