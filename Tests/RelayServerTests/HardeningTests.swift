import ChatClient
import Foundation
import RedisClient
import TestSupport
import Testing

@Suite struct HardeningTests {
    @Test func rateLimitedSocketSurvivesAndOthersAreUnaffected() async throws {
        // One token a second: a loaded machine taking a while over the 20 frames does not earn a sixth.
        let cluster = try await TestCluster.start(nodes: 1) {
            $0.rate = 1
            $0.burst = 5
        }
        defer { Task { await cluster.stop() } }
        let (alice, bob, friendship) = try await cluster.makeFriends("alice", "bob")
        let a = try await cluster.connect(alice, node: 0)
        let b = try await cluster.connect(bob, node: 0)
        for index in 0..<20 { a.send(json: ["friend": friendship, "content": "burst \(index)", "cid": "c\(index)"]) }
        // Every frame gets one answer: wait for all 20 (a loaded machine may take seconds), then a little more for any
        // surplus.
        let answers = await collect(a, count: 20, within: .seconds(10)) + (await collect(a, for: .milliseconds(300)))
        let limited = answers.filter { $0["code"] as? String == "rate_limited" }
        #expect(answers.filter { $0["op"] as? String == "ack" }.count == 5)
        #expect(limited.count == 15)
        #expect(limited.first?["cid"] is String)
        #expect(try await cluster.history(friendship).count == 5)

        // Malformed frames count against the limit too: garbage draws no more than the burst of error frames.
        try await Task.sleep(for: .milliseconds(1100))
        for index in 0..<20 { a.send(json: ["friend": friendship, "content": index, "cid": "g\(index)"]) }
        let garbage = await collect(a, count: 20, within: .seconds(10)) + (await collect(a, for: .milliseconds(300)))
        #expect(garbage.count == 20)
        #expect(garbage.filter { $0["code"] as? String == "bad_message" }.count <= 6)
        #expect(garbage.filter { $0["code"] as? String == "rate_limited" }.count >= 14)
        #expect(garbage.allSatisfy { ($0["cid"] as? String)?.hasPrefix("g") == true })
        try await Task.sleep(for: .milliseconds(1100))

        // Bob has his own bucket.
        b.send(json: ["friend": friendship, "content": "from bob", "cid": "b"])
        #expect(await b.next { $0["op"] as? String == "ack" } != nil)
        // And alice's socket works again once tokens come back.
        try await Task.sleep(for: .milliseconds(400))
        a.send(json: ["friend": friendship, "content": "later", "cid": "later"])
        #expect(await a.next { $0["op"] as? String == "ack" }?["cid"] as? String == "later")
        #expect(!a.isClosed)
    }

    /// Sockets start with a small receive buffer (idle memory): an upgrade request larger than it takes more reads,
    /// and so does a frame, which is kept and grown across reads until it is whole.
    @Test func requestsAndFramesLargerThanTheFirstReadArriveWhole() async throws {
        let cluster = try await TestCluster.start(nodes: 1)
        defer { Task { await cluster.stop() } }
        let (alice, bob, friendship) = try await cluster.makeFriends("alice", "bob")
        let padding = String(repeating: "p", count: 6_000)
        let a = try await ChatConnection.connect(url: "ws://127.0.0.1:\(cluster.port(0))/ws/\(alice)?padding=\(padding)")
        let b = try await cluster.connect(bob, node: 0)
        a.send(json: ["op": "ping"])
        #expect(await a.next { $0["op"] as? String == "pong" } != nil)
        // 15 KiB of content in one frame, every byte different from its neighbours: a byte lost, doubled or
        // unmasked with the wrong key offset where two reads meet would show.
        let content = String((0..<15_000).map { Character(UnicodeScalar(UInt8(33 + ($0 * 7) % 90))) })
        a.send(json: ["friend": friendship, "content": content, "cid": "long"])
        #expect(await a.next { $0["op"] as? String == "ack" }?["cid"] as? String == "long")
        #expect(await b.messages(1).first?["content"] as? String == content)
    }

    @Test func oversizedFrameClosesWith1009() async throws {
        let cluster = try await TestCluster.start(nodes: 1)
        defer { Task { await cluster.stop() } }
        let (alice, _, friendship) = try await cluster.makeFriends("alice", "bob")
        let a = try await cluster.connect(alice, node: 0)
        // Content over 16 KiB but a frame under 64 KiB: bad_message, socket open.
        a.send(json: ["friend": friendship, "content": String(repeating: "x", count: 16 * 1024 + 1), "cid": "big"])
        #expect(await a.next { $0["op"] as? String == "error" }?["code"] as? String == "bad_message")
        a.send(json: ["op": "ping"])
        #expect(await a.next { $0["op"] as? String == "pong" } != nil)
        // A frame over 64 KiB closes the socket with 1009.
        a.send(json: ["friend": friendship, "content": String(repeating: "x", count: 70 * 1024)])
        #expect(await cluster.eventually(seconds: 5) { a.isClosed })
        #expect(a.closeCode == 1009)
        #expect(try await cluster.history(friendship).isEmpty)
    }

    @Test func redisOutageAnswersUnavailableThenRecovers() async throws {
        let cluster = try await TestCluster.start(redisArguments: ["--appendonly", "yes", "--appendfsync", "always"])
        defer { Task { await cluster.stop() } }
        let (alice, bob, friendship) = try await cluster.makeFriends("alice", "bob")
        let a = try await cluster.connect(alice, node: 0)
        let b = try await cluster.connect(bob, node: 1)
        a.send(json: ["friend": friendship, "content": "before", "cid": "before"])
        #expect(await a.next { $0["op"] as? String == "ack" }?["cid"] as? String == "before")
        #expect(await b.messages(1).first?["content"] as? String == "before")

        cluster.redis.kill()
        #expect(try await cluster.eventually { try await cluster.http("GET", "/readyz", token: "").status == 503 })
        a.send(json: ["friend": friendship, "content": "during", "cid": "during"])
        let refused = await a.next { $0["op"] as? String == "error" || $0["op"] as? String == "ack" }
        #expect(refused?["code"] as? String == "unavailable")
        #expect(refused?["cid"] as? String == "during")
        #expect(!a.isClosed && !b.isClosed)
        #expect(try await cluster.http("GET", "/healthz", token: "").status == 200)
        // The API says Redis is away, and nothing of the client library's internals.
        let api = try await cluster.http("GET", "/api/users/\(alice)")
        #expect(api.status == 503)
        #expect(api.json["error"] as? String == "unavailable")
        #expect(api.json["message"] as? String == "Redis is unavailable; retry")

        try await cluster.redis.start()
        #expect(try await cluster.eventually { try await cluster.http("GET", "/readyz", node: 1, token: "").status == 200 })
        #expect(try await cluster.eventually { try await cluster.http("GET", "/readyz", node: 0, token: "").status == 200 })
        a.send(json: ["friend": friendship, "content": "after", "cid": "after"])
        #expect(await a.next { $0["op"] as? String == "ack" }?["cid"] as? String == "after")
        #expect(await b.messages(1).first?["content"] as? String == "after")
        // Nothing of the refused send was stored.
        #expect(try await cluster.history(friendship).map { $0.fields["content"] } == ["before", "after"])
    }

    @Test func drainClosesEverySocketWith1001() async throws {
        let cluster = try await TestCluster.start(nodes: 2)
        defer { Task { await cluster.stop() } }
        let (alice, bob, friendship) = try await cluster.makeFriends("alice", "bob")
        let drained = [try await cluster.connect(alice, node: 0), try await cluster.connect(bob, node: 0)]
        let survivor = try await cluster.connect(bob, node: 1)
        let started = ContinuousClock.now
        await cluster.nodes[0].shutdown()
        for socket in drained {
            #expect(await cluster.eventually(seconds: 10) { socket.isClosed })
            #expect(socket.closeCode == 1001)
        }
        #expect(ContinuousClock.now - started < .seconds(10))
        // The client reconnects through the other node and goes on.
        let back = try await cluster.connect(alice, node: 1)
        back.send(json: ["friend": friendship, "content": "moved", "cid": "m"])
        #expect(await back.next { $0["op"] as? String == "ack" } != nil)
        #expect(await survivor.messages(1).first?["content"] as? String == "moved")
    }

    @Test func binaryAndMalformedFramesGetErrorsAndTheSocketStays() async throws {
        let cluster = try await TestCluster.start(nodes: 1)
        defer { Task { await cluster.stop() } }
        let (alice, _, friendship) = try await cluster.makeFriends("alice", "bob")
        let a = try await cluster.connect(alice, node: 0)
        // 10,000 unknown fields still fit under the 64 KiB frame limit when their names repeat.
        let unknownFields = Array(repeating: #""u":0"#, count: 10_000).joined(separator: ",")
        let cases: [(String, String)] = [
            (String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000), "bad_json"),
            (#"{"friend":"\#(friendship)","content":123}"#, "bad_message"),
            (#"{"friend":"\#(friendship)","content":"x","cid":"\#(String(repeating: "c", count: 129))"}"#, "bad_message"),
            (#"{"friend":"bad{id}","content":"x"}"#, "bad_message"),
            ("{\(unknownFields),\"op\":\"ping\"}", "pong"),
        ]
        for (frame, expected) in cases {
            a.send(frame)
            let answer = await a.nextJSON()
            #expect((answer?["code"] as? String ?? answer?["op"] as? String) == expected, "\(frame.prefix(60))")
        }
        a.send(binary: Array(#"{"op":"ping"}"#.utf8))
        #expect(await a.nextJSON()?["code"] as? String == "bad_json")
        #expect(try await cluster.history(friendship).isEmpty)
        a.send(json: ["friend": friendship, "content": "fine", "cid": "ok"])
        #expect(await a.next { $0["op"] as? String == "ack" } != nil)
    }
}

@Suite(.takesTurns) struct SlowConsumerTests {
    @Test func aReaderThatNeverReadsIsDroppedAndOthersAreUnaffected() async throws {
        let cluster = try await TestCluster.start(nodes: 2) { $0.maximumQueuedBytes = 2 * 1024 * 1024 }
        defer { Task { await cluster.stop() } }
        let (alice, bob, friendship) = try await cluster.makeFriends("alice", "bob")
        let (carol, dave, other) = try await cluster.makeFriends("carol", "dave")
        let stuck = try await cluster.connect(bob, node: 1, readFrames: false)
        let sender = try await cluster.connect(alice, node: 0)
        let c = try await cluster.connect(carol, node: 0)
        let d = try await cluster.connect(dave, node: 1)
        let sockets = cluster.nodes[1].relay.sockets
        #expect(await cluster.eventually { sockets.count == 2 })

        // Large messages at a moderate rate fill the stuck socket's TCP buffers with little CPU (the cost is per
        // message), so the rest of the suite running beside this test is not starved; then its queue passes the
        // bound and it is dropped.
        let content = String(repeating: "z", count: 15_000)
        var sent = 0
        while sockets.count == 2 && sent < 20_000 {
            for _ in 0..<25 { sender.send(json: ["friend": friendship, "content": content]) }
            sent += 25
            c.send(json: ["friend": other, "content": "normal \(sent)"])
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(await cluster.eventually { sockets.count == 1 }, "the stuck socket was never dropped")
        #expect(!stuck.isClosed || stuck.closeCode == 1008)

        // Everyone else got everything, in order.
        let normal = await d.messages(sent / 25, timeout: .seconds(20))
        #expect(!d.isClosed, "the normal reader was closed with \(d.closeCode.map(String.init) ?? "no code")")
        #expect(normal.map { $0["content"] as? String } == (1...(sent / 25)).map { "normal \($0 * 25)" })
        #expect(!c.isClosed && !d.isClosed && !sender.isClosed)
        // And the dropped client recovers all of it with sync, paced by its reading (more frames than the bound),
        // once the flood has been stored.
        let key = RedisArgument.string("chat:history:{\(friendship)}")
        #expect(try await cluster.eventually(seconds: 30) { try await cluster.redis.command("XLEN", key) == .integer(Int64(sent)) })
        let back = try await cluster.connect(bob, node: 1)
        back.send(json: ["op": "sync", "cursors": [friendship: "0-0"]])
        let recovered = await back.messages(sent, timeout: .seconds(60))
        #expect(recovered.count == sent)
        #expect(await back.nextJSON()?["op"] as? String == "synced")
        #expect(!back.isClosed, "closed with \(back.closeCode.map(String.init) ?? "no code")")
        await stuck.abort()
    }
}

@Suite struct DrainAcceptanceTests {
    @Test func aDrainingNodeRefusesNewSockets() async throws {
        let cluster = try await TestCluster.start(nodes: 1)
        defer { Task { await cluster.stop() } }
        let (alice, _, _) = try await cluster.makeFriends("alice", "bob")
        // A socket keeps the drain waiting (it never answers the close), so the node stays up but draining.
        let held = try await cluster.connect(alice, node: 0, readFrames: false)
        let drain = Task { await cluster.nodes[0].relay.sockets.drain(grace: .seconds(2)) }
        #expect(await cluster.eventually { cluster.nodes[0].relay.sockets.isDraining })
        await #expect(throws: (any Error).self) { _ = try await cluster.connect("bob", node: 0) }
        #expect(try await cluster.http("GET", "/ws/bob", token: "").status == 503)
        #expect(try await cluster.upgradeStatus("/ws/bob") == 503)
        await drain.value
        await held.abort()
    }
}
