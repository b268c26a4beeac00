import ChatClient
import Foundation
import TestSupport
import Testing

/// Contract v3's Limits on sockets and what they ask for, against two real nodes: a user's sockets and frame rate on a
/// node, pongs within the outbound bound, history pages bounded in bytes, ids and cids bounded, and the Origin rule.
/// Each refusal leaves the socket, the data and the other users as they were.
@Suite struct HostileSocketTests {
    @Test func aUserHoldsAtMostItsSocketsOnANodeAndAnotherUserIsUnaffected() async throws {
        let cluster = try await TestCluster.start(nodes: 2) { $0.maximumSocketsPerUser = 3 }
        defer { Task { await cluster.stop() } }
        var held: [ChatConnection] = []
        for _ in 0..<3 { held.append(try await cluster.connectOpen("alice", node: 0)) }
        #expect(try await cluster.upgradeStatus("/ws/alice", node: 0) == 429)
        // The bound is per node: alice opens more on the other node, and bob is not held to alice's count.
        #expect(try await cluster.upgradeStatus("/ws/alice", node: 1) == 101)
        #expect(try await cluster.upgradeStatus("/ws/bob", node: 0) == 101)
        // A socket that closes gives its place back.
        await held.removeFirst().close()
        #expect(await cluster.eventually(seconds: 5) { (try? await cluster.upgradeStatus("/ws/alice", node: 0)) == 101 })
        for socket in held {
            socket.send(json: ["op": "ping"])
            #expect(await socket.next { $0["op"] as? String == "pong" } != nil, "the held sockets still work")
        }
        #expect(try await cluster.metricSamples(node: 0)[#"chatrelay_refusals_total{node="node0",reason="sockets_per_user"}"#] == 1)
    }

    /// One bucket per user on a node: three sockets of one user share 5 frames; binary frames and pings count.
    @Test func theRateIsPerUserAcrossSocketsAndCountsBinaryFramesAndPings() async throws {
        let cluster = try await TestCluster.start(nodes: 1) {
            $0.rate = 0.5
            $0.burst = 5
        }
        defer { Task { await cluster.stop() } }
        var sockets: [ChatConnection] = []
        for _ in 0..<3 { sockets.append(try await cluster.connect("alice", node: 0)) }
        for socket in sockets { for index in 0..<4 { socket.send(json: ["op": "ping", "cid": "p\(index)"]) } }
        var answers: [[String: Any]] = []
        for socket in sockets { answers += await collect(socket, count: 4, within: .seconds(10)) }
        #expect(answers.count == 12)
        #expect(answers.filter { $0["op"] as? String == "pong" }.count == 5, "5 pongs for the user, not 5 per socket")
        #expect(answers.filter { $0["code"] as? String == "rate_limited" }.count == 7)

        // Binary frames are refused (bad_json) within the same bucket, here already empty: rate_limited.
        let raw = try await RawWebSocket.connect(port: cluster.port(0), path: "/ws/carol")
        for _ in 0..<8 { _ = await raw.send(opcode: 0x2, payload: [1, 2, 3]) }
        let binaryAnswers = await raw.readTextFrames(count: 8)
        #expect(binaryAnswers.filter { $0.contains(#""code":"bad_json""#) }.count == 5, "\(binaryAnswers)")
        #expect(binaryAnswers.filter { $0.contains(#""code":"rate_limited""#) }.count == 3)
        // WebSocket pings too: the user's bucket is empty, and the pings over it go unanswered.
        let pinger = try await RawWebSocket.connect(port: cluster.port(0), path: "/ws/dave")
        for _ in 0..<12 { _ = await pinger.send(opcode: 0x9, payload: [7]) }
        #expect(await pinger.countPongs(within: .seconds(1)) == 5)
        #expect(!sockets[0].isClosed)
    }

    /// Pongs go out inside the outbound bound: a client that pings and never reads is closed as a slow consumer.
    @Test func aClientThatPingsWithoutReadingIsClosedAsASlowConsumer() async throws {
        let cluster = try await TestCluster.start(nodes: 1) {
            $0.rate = 0
            $0.maximumQueuedBytes = 64 * 1024
        }
        defer { Task { await cluster.stop() } }
        let raw = try await RawWebSocket.connect(port: cluster.port(0), path: "/ws/alice", receiveBuffer: 4096)
        let ping = RawWebSocket.frame(opcode: 0x9, payload: Array(repeating: 0x61, count: 125))
        // Up to 100,000 pings of 125 bytes: 12.7 MB of pongs, far past the kernel's buffers (a loopback socket's send
        // buffer grows to 4 MiB here; 5 MB was not always past it) and the 64 KiB bound.
        for _ in 0..<100 {
            guard await raw.send(Array(Array(repeating: ping, count: 1000).joined())) == nil else { break }
        }
        // The close frame (1008) follows megabytes of pongs that the client never read, and the node may reset the
        // connection under them: what the client sees is the end; the node counts why.
        let end = await raw.readClose()
        #expect(end != .failure(RawEnd(end: .timedOut)), "\(end)")
        #expect(try await cluster.metricSamples(node: 0)[#"chatrelay_socket_closes_total{node="node0",reason="slow_consumer"}"#] == 1)
    }

    @Test func aHistoryPageStopsBefore1MiBInTheFrameAndOverHTTP() async throws {
        let cluster = try await TestCluster.start(nodes: 2)
        defer { Task { await cluster.stop() } }
        let (alice, bob, friendship) = try await cluster.makeFriends("alice", "bob")
        // 16 KiB of control characters: 96 KiB each once escaped as \u0001.
        let control = String(repeating: "\u{1}", count: 16 * 1024)
        for index in 0..<40 { try await cluster.storeDirectly(control + "\(index)", from: alice, to: bob, in: friendship) }
        let stored = try await cluster.history(friendship).map(\.id)
        let socket = try await cluster.connect(alice, node: 1)
        socket.send(json: ["op": "history", "friend": friendship, "limit": 500, "rid": 1])
        let page = try #require(await socket.next { $0["op"] as? String == "history" })
        let frameSize = try JSONSerialization.data(withJSONObject: page).count
        let ids = (page["messages"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(frameSize <= 1 << 20 && ids.count == 10, "\(ids.count) messages in \(frameSize) bytes")
        #expect(ids == Array(stored.suffix(ids.count)), "the newest messages, oldest first")
        // The client asks on from the first id it got, and the pages meet without a gap.
        socket.send(json: ["op": "history", "friend": friendship, "before": ids[0], "limit": 500])
        let older = try #require(await socket.next { $0["op"] as? String == "history" })
        let olderIDs = (older["messages"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(olderIDs == Array(stored.dropLast(ids.count).suffix(olderIDs.count)) && !olderIDs.isEmpty)
        socket.send(json: ["op": "ping"])
        #expect(await socket.next { $0["op"] as? String == "pong" } != nil, "the socket that asked is not a slow consumer")

        for (query, expected) in [("limit=500", Array(stored.suffix(10))), ("after=0-0&limit=500", Array(stored.prefix(10)))] {
            let (body, status) = try await cluster.rawHTTP("/api/friendships/\(friendship)/messages?\(query)", node: 1)
            #expect(status == 200 && body.count <= 1 << 20, "\(query): \(body.count) bytes")
            let json = try JSONSerialization.jsonObject(with: body) as? [String: Any]
            let httpIDs = (json?["messages"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect(httpIDs == expected, "\(query)")
        }
    }

    @Test func outOfRangeIdsAreBadMessageAndTheEarliestCursorIsAnEmptyPage() async throws {
        let cluster = try await TestCluster.start(nodes: 2)
        defer { Task { await cluster.stop() } }
        let (alice, _, friendship) = try await cluster.makeFriends("alice", "bob")
        let socket = try await cluster.connect(alice, node: 0)
        socket.send(json: ["friend": friendship, "content": "kept", "cid": "k"])
        #expect(await socket.next { $0["op"] as? String == "ack" } != nil)
        let tooLarge = "18446744073709551616-0"
        socket.send(json: ["op": "history", "friend": friendship, "before": tooLarge, "cid": "h1"])
        let refused = await socket.next { $0["op"] as? String == "error" || $0["op"] as? String == "history" }
        #expect(refused?["code"] as? String == "bad_message" && refused?["cid"] as? String == "h1")
        socket.send(json: ["op": "sync", "cursors": [friendship: "1-18446744073709551616"], "cid": "s1"])
        #expect(await socket.next { $0["op"] as? String == "error" }?["code"] as? String == "bad_message")
        socket.send(json: ["op": "history", "friend": friendship, "before": "0-0"])
        let empty = await socket.next { $0["op"] as? String == "history" }
        #expect((empty?["messages"] as? [Any])?.isEmpty == true)
        // The largest id there is: nothing comes after it, and that is no failure.
        socket.send(json: ["op": "sync", "cursors": [friendship: "18446744073709551615-18446744073709551615"]])
        #expect(await socket.next { $0["op"] as? String == "synced" || $0["op"] as? String == "error" }?["op"] as? String == "synced")

        for (query, status) in [("before=\(tooLarge)", 400), ("after=99999999999999999999", 400), ("before=0-0", 200)] {
            let answer = try await cluster.http("GET", "/api/friendships/\(friendship)/messages?\(query)", node: 1)
            #expect(answer.status == status, "\(query): \(answer)")
        }
        #expect((try await cluster.http("GET", "/api/friendships/\(friendship)/messages?before=0-0").json["messages"] as? [Any])?.isEmpty == true)

        // A cid is bounded in bytes: 43 euro signs are 43 characters and 129 bytes.
        let euros = String(repeating: "€", count: 43)
        socket.send(json: ["friend": friendship, "content": "x", "cid": euros])
        let cidError = await socket.next { $0["op"] as? String == "error" || $0["op"] as? String == "ack" }
        #expect(cidError?["code"] as? String == "bad_message" && cidError?["cid"] as? String == euros)
        let family = String(repeating: "👨‍👩‍👧", count: 7)  // 18 bytes each: 126
        socket.send(json: ["friend": friendship, "content": "y", "cid": family])
        #expect(await socket.next { $0["op"] as? String == "ack" }?["cid"] as? String == family)
        #expect(try await cluster.history(friendship).map { $0.fields["content"] } == ["kept", "y"])
    }

    /// A client may send its first frames in the same write as the upgrade request: they reach the socket, not the
    /// HTTP handlers that are leaving.
    @Test func framesSentWithTheUpgradeRequestReachTheSocket() async throws {
        let cluster = try await TestCluster.start(nodes: 1)
        defer { Task { await cluster.stop() } }
        let connection = try await RawConnection.open(port: cluster.port(0))
        let ping = RawWebSocket.frame(opcode: 0x1, payload: Array(#"{"op":"ping","cid":"first"}"#.utf8))
        let request = "GET /ws/alice HTTP/1.1\r\nHost: 127.0.0.1\r\n\(HostileConnectionTests.upgrade)\r\n"
        await connection.send(Array(request.utf8) + ping + ping)
        // Both pongs, however long a loaded machine takes; the connection stays open.
        let answer = await connection.readUntil(timeout: .seconds(20)) { $0.components(separatedBy: #"{"op":"pong"}"#).count == 3 }
        #expect(answer.status == 101)
        #expect(answer.text.components(separatedBy: #"{"op":"pong"}"#).count == 3, "\(answer.text)")
        #expect(!answer.closed)
        try await Task.sleep(for: .milliseconds(100))
        #expect(try await cluster.upgradeStatus("/ws/bob") == 101, "the node still serves")
    }

    @Test func anUpgradeFromAnotherOriginIsRefused403() async throws {
        let cluster = try await TestCluster.start(nodes: 1) { $0.allowedOrigins = ["https://chat.example.com"] }
        defer { Task { await cluster.stop() } }
        let port = cluster.port(0)
        func status(_ origin: String?, _ extra: [String: String] = [:]) async throws -> Int {
            var headers = extra
            if let origin { headers["Origin"] = origin }
            return try await cluster.upgradeStatus("/ws/alice", headers: headers)
        }
        #expect(try await status("http://evil.example") == 403)
        #expect(try await status("null") == 403)
        #expect(try await status("http://127.0.0.1:\(port)") == 101, "the node's own origin")
        #expect(try await status("https://chat.example.com") == 101, "an allowed origin")
        #expect(try await status("https://chat.example.com.evil.example") == 403)
        #expect(try await status(nil) == 101, "no Origin: not a browser")
        #expect(try await status("ws://127.0.0.1") == 101, "a ws: Origin: not a browser")
        // Behind a balancer: the forwarded scheme and host are the node's origin.
        let forwarded = ["X-Forwarded-Proto": "https", "X-Forwarded-Host": "relay.example.com"]
        #expect(try await status("https://relay.example.com", forwarded) == 101)
        #expect(try await status("http://127.0.0.1:\(port)", forwarded) == 403)
        #expect(try await cluster.metricSamples(node: 0)[#"chatrelay_refusals_total{node="node0",reason="origin"}"#] == 4)
    }
}
