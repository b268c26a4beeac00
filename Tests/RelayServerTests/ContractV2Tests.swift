import ChatClient
import Foundation
import Testing

/// The rules contract v2 made explicit for features v1 already had: errors carry the cid, history limits are
/// capped, a sync's replay is not interleaved with live frames.
@Suite struct ContractV2Tests {
    /// Whatever else is wrong with a frame, a string cid comes back on its error, so the client can settle the send.
    @Test func errorsCarryTheCidOfTheFrameTheyAnswer() async throws {
        let cluster = try await TestCluster.start(nodes: 1)
        defer { Task { await cluster.stop() } }
        let (alice, _, friendship) = try await cluster.makeFriends("alice", "bob")
        let (_, _, strangers) = try await cluster.makeFriends("carol", "dave")
        let a = try await cluster.connect(alice, node: 0)
        let frames: [(cid: String, frame: [String: Any], code: String)] = [
            ("c1", ["friend": friendship, "content": 5], "bad_message"),
            ("c2", ["content": "no friend"], "bad_message"),
            ("c3", ["friend": friendship, "content": "x", "type": 7], "bad_message"),
            ("c4", ["op": "history", "friend": friendship, "limit": 0], "bad_message"),
            ("c5", ["op": "history", "friend": strangers], "not_friends"),
            ("c6", ["op": "sync", "cursors": [strangers: "0-0"]], "not_friends"),
            ("c7", ["friend": strangers, "content": "not mine"], "not_friends"),
            ("c8", ["op": "fly"], "bad_message"),
        ]
        for (cid, frame, code) in frames {
            var frame = frame
            frame["cid"] = cid
            a.send(json: frame)
            let error = await a.next(where: { $0["op"] as? String == "error" })
            #expect(error?["code"] as? String == code, "\(cid)")
            #expect(error?["cid"] as? String == cid, "\(cid): \(String(describing: error))")
        }
        #expect(!a.isClosed)
        #expect(try await cluster.history(friendship).isEmpty)
    }

    @Test func historyLimitsOver500AreCappedOnTheSocketAndOverHTTP() async throws {
        let cluster = try await TestCluster.start(nodes: 1)
        defer { Task { await cluster.stop() } }
        let (alice, bob, friendship) = try await cluster.makeFriends("alice", "bob")
        for index in 0..<600 {
            try await cluster.storeDirectly("m\(index)", id: "\(index + 1)-0", from: alice, to: bob, in: friendship)
        }
        let a = try await cluster.connect(alice, node: 0)
        a.send(json: ["op": "history", "friend": friendship, "limit": 1000, "rid": "r1"])
        let answer = await a.next(where: { $0["op"] as? String == "history" })
        let messages = answer?["messages"] as? [[String: Any]] ?? []
        #expect(messages.count == 500)
        // The newest 500, oldest first.
        #expect(messages.first?["content"] as? String == "m100")
        #expect(messages.last?["content"] as? String == "m599")

        let http = try await cluster.http("GET", "/api/friendships/\(friendship)/messages?limit=1000")
        #expect(http.status == 200)
        #expect((http.json["messages"] as? [Any])?.count == 500)
        #expect(try await cluster.http("GET", "/api/friendships/\(friendship)/messages?limit=99999999999999999999999").status == 200)
        for refused in ["0", "-5", "1.5", "ten"] {
            let status = try await cluster.http("GET", "/api/friendships/\(friendship)/messages?limit=\(refused)").status
            #expect(status == 400, "limit=\(refused)")
        }
    }

    /// A client syncs from the beginning of a long history while its friend keeps sending through another node:
    /// from the request to `synced` it gets the replay and nothing else of the friendship; the live messages come
    /// after, each once, so ids rise all the way.
    @Test(.takesTurns) func aSyncReplayIsNotInterleavedWithLiveMessages() async throws {
        let cluster = try await TestCluster.start(nodes: 2)
        defer { Task { await cluster.stop() } }
        let (alice, bob, friendship) = try await cluster.makeFriends("alice", "bob")
        let stored = 3_000
        let content = String(repeating: "h", count: 200)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<stored {
                group.addTask { try await cluster.storeDirectly(content, from: alice, to: bob, in: friendship) }
            }
            try await group.waitForAll()
        }
        let a = try await cluster.connect(alice, node: 0)
        let b = try await cluster.connect(bob, node: 1)
        b.send(json: ["op": "ping"])
        #expect(await b.next(where: { $0["op"] as? String == "pong" }) != nil)

        let live = 200
        let sender = Task {
            for index in 0..<live {
                a.send(json: ["friend": friendship, "content": "live \(index)", "cid": "l\(index)"])
                try? await Task.sleep(for: .milliseconds(2))
            }
        }
        try await Task.sleep(for: .milliseconds(30))
        b.send(json: ["op": "sync", "cursors": [friendship: "0-0"]])

        // Everything from here: messages delivered before the node read the request, the replay, `synced`, the rest.
        var received: [(id: String, content: String)] = []
        var syncedAt: Int?
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if syncedAt != nil, received.contains(where: { $0.content == "live \(live - 1)" }) { break }
            guard let frame = await b.nextJSON(timeout: .seconds(10)) else { break }
            if frame["op"] as? String == "synced" { syncedAt = received.count }
            if let id = frame["id"] as? String { received.append((id, frame["content"] as? String ?? "")) }
        }
        await sender.value
        let all = try await cluster.history(friendship).map(\.id)
        #expect(all.count == stored + live)
        #expect(syncedAt != nil)
        // The replay starts at the stream's first entry; what came before it was delivered live before the request.
        guard let replayStart = received.firstIndex(where: { $0.id == all.first }) else {
            Issue.record("the replay never started")
            return
        }
        let fromReplay = received[replayStart...].map(\.id)
        let outOfOrder = zip(fromReplay, fromReplay.dropFirst()).filter { !streamID($0, isBefore: $1) }
        #expect(outOfOrder.isEmpty, "\(outOfOrder.count) times an id did not rise, first \(String(describing: outOfOrder.first))")
        #expect(fromReplay == all)
    }
}
