import ChatClient
import Foundation
import RelayCore
import Testing

@Suite struct APITests {
    @Test func userRoutes() async throws {
        let cluster = try await TestCluster.start(nodes: 1, auth: .jwt)
        defer { Task { await cluster.stop() } }
        let created = try await cluster.http("POST", "/api/users", body: ["name": "jeffery", "id": "5d1328295793f14020a979d5"])
        #expect(created.status == 201)
        #expect(created.json["id"] as? String == "5d1328295793f14020a979d5")
        #expect(created.json["name"] as? String == "jeffery")
        #expect(try await cluster.http("POST", "/api/users", body: ["name": "jeffery"]).status == 409)
        #expect(try await cluster.http("POST", "/api/users", body: ["name": "other", "id": "5d1328295793f14020a979d5"]).status == 409)
        // The name of a refused user is not left claimed.
        #expect(try await cluster.http("POST", "/api/users", body: ["name": "other"]).status == 201)
        let fetched = try await cluster.http("GET", "/api/users/5d1328295793f14020a979d5")
        #expect(fetched.status == 200 && fetched.json["name"] as? String == "jeffery")
        #expect(try await cluster.http("GET", "/api/users/nobody").status == 404)

        let bad = try await cluster.http("POST", "/api/users", rawBody: "{not json")
        #expect(bad.status == 400)
        #expect(bad.json["error"] as? String == "bad_request")
        #expect(bad.json["message"] is String)
        #expect(try await cluster.http("POST", "/api/users", body: ["name": 42]).status == 400)
        #expect(try await cluster.http("POST", "/api/users", body: ["name": "x", "id": "bad id!"]).status == 400)
        #expect(try await cluster.http("POST", "/api/users", body: ["name": String(repeating: "n", count: 65)]).status == 400)

        // Admin routes need the admin token.
        #expect(try await cluster.http("POST", "/api/users", body: ["name": "z"], token: "").status == 401)
        #expect(try await cluster.http("POST", "/api/users", body: ["name": "z"], token: "wrong").status == 401)
        // Near misses: a prefix, one character more, one character changed.
        let token = TestCluster.adminToken
        for guess in [String(token.dropLast()), token + "x", String(token.dropLast()) + "X"] {
            #expect(try await cluster.http("POST", "/api/users", body: ["name": "z"], token: guess).status == 401, "\(guess)")
        }
        #expect(try await cluster.http("POST", "/api/users", body: ["name": "z"], token: token).status == 201)
    }

    @Test func friendshipAndFriendsRoutes() async throws {
        let cluster = try await TestCluster.start(nodes: 1, auth: .jwt)
        defer { Task { await cluster.stop() } }
        _ = try await cluster.http("POST", "/api/users", body: ["name": "bob", "id": "bob"])
        _ = try await cluster.http("POST", "/api/users", body: ["name": "alice", "id": "alice"])
        let made = try await cluster.http("POST", "/api/friendships", body: ["user1": "bob", "user2": "alice", "id": "f1"])
        #expect(made.status == 201)
        #expect(made.json["user1"] as? String == "alice" && made.json["user2"] as? String == "bob")
        let again = try await cluster.http("POST", "/api/friendships", body: ["user1": "alice", "user2": "bob"])
        #expect(again.status == 200 && again.json["id"] as? String == "f1")
        #expect(try await cluster.http("POST", "/api/friendships", body: ["user1": "alice", "user2": "ghost"]).status == 404)
        #expect(try await cluster.http("POST", "/api/friendships", body: ["user1": "alice", "user2": "alice"]).status == 400)
        #expect(try await cluster.http("POST", "/api/friendships", body: ["user1": "alice"]).status == 400)

        let friends = try await cluster.http("GET", "/api/users/alice/friends")
        #expect(friends.status == 200)
        let list = try #require(friends.json["friends"] as? [[String: Any]])
        #expect(list.count == 1)
        #expect(list.first?["friend"] as? String == "f1")
        #expect(list.first?["user"] as? String == "bob")
        #expect(list.first?["name"] as? String == "bob")
        #expect(try await cluster.http("GET", "/api/users/ghost/friends").status == 404)

        // History: admin token or a member's token; not another user's, not none.
        #expect(try await cluster.http("GET", "/api/friendships/f1/messages").status == 200)
        #expect(try await cluster.http("GET", "/api/friendships/f1/messages", token: try await cluster.token(for: "alice")).status == 200)
        #expect(try await cluster.http("GET", "/api/friendships/f1/messages", token: try await cluster.token(for: "carol")).status == 403)
        #expect(try await cluster.http("GET", "/api/friendships/f1/messages", token: "").status == 401)
        #expect(try await cluster.http("GET", "/api/friendships/nope/messages").status == 404)
        #expect(try await cluster.http("GET", "/api/friendships/f1/messages?limit=0").status == 400)
        #expect(try await cluster.http("GET", "/api/friendships/f1/messages?before=yesterday").status == 400)

        #expect(try await cluster.http("POST", "/api/broadcast", body: ["content": "hi"], token: "").status == 401)
        #expect(try await cluster.http("POST", "/api/broadcast", body: ["content": ""]).status == 400)
        #expect(try await cluster.http("GET", "/healthz", token: "").status == 200)
        #expect(try await cluster.http("GET", "/readyz", token: "").status == 200)
    }

    @Test func webSocketTokens() async throws {
        let cluster = try await TestCluster.start(nodes: 1, auth: .jwt)
        defer { Task { await cluster.stop() } }
        let base = "ws://127.0.0.1:\(cluster.port(0))"
        let other = try await TokenAuthority(secret: "another-secret-also-long-enough-for-hs256")
        let cases: [(String, Int)] = [
            ("\(base)/ws/alice", 401),
            ("\(base)/ws/alice?token=\(try await other.issue(userID: "alice"))", 401),
            ("\(base)/ws/alice?token=\(try await cluster.token(for: "alice", ttl: -10))", 401),
            ("\(base)/ws/alice?token=\(try await cluster.token(for: "bob"))", 403),
        ]
        for (url, status) in cases {
            let path = url.replacingOccurrences(of: base, with: "")
            let http = try await cluster.http("GET", path, token: "")
            #expect(http.status == status, "\(url)")
            // The upgrade request itself gets the same status, not a generic 400 (the contract: "HTTP 401 and no upgrade").
            #expect(try await cluster.upgradeStatus(path) == status, "\(url) as an upgrade")
            await #expect(throws: (any Error).self, "\(url) upgraded") { _ = try await ChatConnection.connect(url: url) }
        }
        // A good token works on /ws/:id and on /ws alone.
        let token = try await cluster.token(for: "alice")
        let socket = try await ChatConnection.connect(url: "\(base)/ws?token=\(token)")
        socket.send(json: ["op": "ping"])
        #expect(await socket.nextJSON()?["op"] as? String == "pong")
        let withPath = try await ChatConnection.connect(url: "\(base)/ws/alice?token=\(token)")
        withPath.send(json: ["op": "ping"])
        #expect(await withPath.nextJSON()?["op"] as? String == "pong")
    }
}
