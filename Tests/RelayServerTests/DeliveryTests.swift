import ChatClient
import Foundation
import RedisClient
import RelayCore
import TestSupport
import Testing

@Suite struct DeliveryTests {
    @Test func tutorialFrameCrossesNodesBothWaysAndIsStored() async throws {
        let cluster = try await TestCluster.start()
        defer { Task { await cluster.stop() } }
        let (jeffery, testuser, friendship) = try await cluster.makeFriends()
        let a = try await cluster.connect(jeffery, node: 0)
        let b = try await cluster.connect(testuser, node: 1)

        // The original demo's frame, as its page sends it.
        a.send(json: ["friend": friendship, "from": jeffery, "to": testuser, "content": "hello", "type": "text"])
        let received = try #require(await b.messages(1).first)
        #expect(received["content"] as? String == "hello")
        #expect(received["from"] as? String == jeffery)
        #expect(received["to"] as? String == testuser)
        #expect(received["friend"] as? String == friendship)
        #expect(received["type"] as? String == "text")
        let id = try #require(received["id"] as? String)
        #expect(received["ts"] as? Int == Int(id.split(separator: "-")[0]))

        // And back, with from/to left out (the node fills them in).
        b.send(json: ["friend": friendship, "content": "🙂", "type": "emoji", "cid": "c1"])
        let ack = try #require(await b.next { $0["op"] as? String == "ack" })
        #expect(ack["cid"] as? String == "c1")
        let reply = try #require(await a.messages(1).first)
        #expect(reply["content"] as? String == "🙂")
        #expect(reply["from"] as? String == testuser)
        #expect(reply["to"] as? String == jeffery)
        #expect(reply["id"] as? String == ack["id"] as? String)

        // Redis holds exactly those two messages, with the contract's fields.
        let stored = try await cluster.history(friendship)
        #expect(stored.map(\.id) == [id, ack["id"] as? String ?? ""])
        #expect(stored[0].fields == ["from": jeffery, "to": testuser, "type": "text", "content": "hello"])
        #expect(stored[1].fields == ["from": testuser, "to": jeffery, "type": "emoji", "content": "🙂", "cid": "c1"])

        // The user and friendship hashes match the contract.
        let user = try await cluster.redis.command("HGET", .string("chat:user:{\(jeffery)}"), "name")
        #expect(user.string == "jeffery")
        #expect(try await cluster.redis.command("GET", "chat:username:{testuser}").string == testuser)
        let pair = try await cluster.redis.command("HMGET", .string("chat:friendship:{\(friendship)}"), "user1", "user2")
        #expect(pair.array?.compactMap(\.string) == [min(jeffery, testuser), max(jeffery, testuser)])
        #expect(try await cluster.redis.command("HGET", .string("chat:friends:{\(jeffery)}"), .string(testuser)).string == friendship)
        #expect(try await cluster.redis.command("HGET", .string("chat:friends:{\(testuser)}"), .string(jeffery)).string == friendship)
        #expect(try await cluster.redis.command("HEXISTS", .string("chat:user:{\(jeffery)}"), "created") == .integer(1))
    }

    @Test func aUsersOtherDevicesGetWhatItSends() async throws {
        let cluster = try await TestCluster.start()
        defer { Task { await cluster.stop() } }
        let (alice, bob, friendship) = try await cluster.makeFriends("alice", "bob")
        let phone = try await cluster.connect(alice, node: 0)
        let laptop = try await cluster.connect(alice, node: 1)
        let friend = try await cluster.connect(bob, node: 1)

        friend.send(json: ["friend": friendship, "content": "to both"])
        #expect(await phone.messages(1).first?["content"] as? String == "to both")
        #expect(await laptop.messages(1).first?["content"] as? String == "to both")

        phone.send(json: ["friend": friendship, "content": "from phone", "cid": "p1"])
        #expect(await laptop.messages(1).first?["content"] as? String == "from phone")
        #expect(await friend.messages(1).first?["content"] as? String == "from phone")
        // The sending socket gets its ack, not an echo of its own message.
        let frames = await collect(phone, for: .milliseconds(300))
        #expect(frames.contains { $0["op"] as? String == "ack" })
        #expect(!frames.contains { $0["content"] as? String == "from phone" })
    }

    /// PROTOCOL.md: `chat:deliver:{id}` holds delivered-message frames for user `id`. Other programs subscribe to it,
    /// so the sender's channel carries exactly the frame the recipient's does, with the contract's fields only.
    @Test func bothUsersChannelsCarryTheDeliveredFrameExactly() async throws {
        let cluster = try await TestCluster.start()
        defer { Task { await cluster.stop() } }
        let (alice, bob, friendship) = try await cluster.makeFriends("alice", "bob")
        let (listener, stream) = RedisSubscriber.makeStream(configuration: cluster.redis.configuration)
        try await listener.connect()
        defer { Task { await listener.shutdown() } }
        try await listener.subscribe(["chat:deliver:{\(alice)}", "chat:deliver:{\(bob)}"])
        let phone = try await cluster.connect(alice, node: 0)
        let laptop = try await cluster.connect(alice, node: 1)

        phone.send(json: ["friend": friendship, "content": "on both channels", "cid": "x1"])
        let ack = try #require(await phone.next { $0["op"] as? String == "ack" })
        let id = try #require(ack["id"] as? String)
        var published: [String: String] = [:]
        for await message in stream {
            published[message.channel] = String(buffer: message.payload)
            if published.count == 2 { break }
        }
        let expected =
            #"{"id":"\#(id)","friend":"\#(friendship)","from":"\#(alice)","to":"\#(bob)","content":"on both channels","type":"text","ts":\#(id.split(separator: "-")[0])}"#
        #expect(published["chat:deliver:{\(bob)}"] == expected)
        #expect(published["chat:deliver:{\(alice)}"] == expected)

        // Content that JSON must escape goes into the frame escaped (the script is given both forms then).
        let tricky = "say \"hi\" \\ back\nslash\t é 👋 \u{1}"
        phone.send(json: ["friend": friendship, "content": tricky, "cid": "x2"])
        let second = try #require(await phone.next { $0["op"] as? String == "ack" && $0["cid"] as? String == "x2" })
        let secondID = try #require(second["id"] as? String)
        published = [:]
        for await message in stream {
            published[message.channel] = String(buffer: message.payload)
            if published.count == 2 { break }
        }
        for (channel, frame) in published {
            let head = #"{"id":"\#(secondID)","friend":"\#(friendship)","from":"\#(alice)","to":"\#(bob)","content":""#
            let tail = #"","type":"text","ts":\#(secondID.split(separator: "-")[0])}"#
            #expect(frame.hasPrefix(head) && frame.hasSuffix(tail), "\(channel): \(frame)")
            let fields = try JSONSerialization.jsonObject(with: Data(frame.utf8)) as? [String: Any]
            #expect(fields?["content"] as? String == tricky, "\(channel): \(frame)")
        }
        // The script's frame and the same message read back from the stream (history, sync, gap fills) are the
        // same bytes, for plain content and for content that needed escaping.
        let stored = try await cluster.nodes[0].relay.conversations.store.history(friendship: friendship, before: nil, limit: 10)
        let readBack = Dictionary(uniqueKeysWithValues: stored.map { ($0.id, ServerMessage.message($0)) })
        #expect(readBack[id] == expected)
        #expect(readBack[secondID] == published["chat:deliver:{\(bob)}"])
        // The sender's other device still gets it, the sending socket still does not.
        #expect(await laptop.messages(1).first?["id"] as? String == id)
        #expect(!(await collect(phone, for: .milliseconds(300))).contains { $0["id"] as? String == id })
    }

    @Test(.takesTurns) func concurrentSendersThroughDifferentNodesSeeOneOrder() async throws {
        let cluster = try await TestCluster.start()
        defer { Task { await cluster.stop() } }
        let (alice, bob, friendship) = try await cluster.makeFriends("alice", "bob")
        let a = try await cluster.connect(alice, node: 0)
        let b = try await cluster.connect(bob, node: 1)
        let aOther = try await cluster.connect(alice, node: 1)
        let count = 500
        for index in 0..<count {
            a.send(json: ["friend": friendship, "content": "a\(index)"])
            b.send(json: ["friend": friendship, "content": "b\(index)"])
        }
        // Each socket sees the other's messages; alice's second device sees both.
        let atA = await a.messages(count, timeout: .seconds(30))
        let atB = await b.messages(count, timeout: .seconds(30))
        let atOther = await aOther.messages(2 * count, timeout: .seconds(30))
        for (name, frames, expected) in [("a", atA, count), ("b", atB, count), ("alice's other", atOther, 2 * count)] {
            let ids = frames.compactMap { $0["id"] as? String }
            #expect(ids.count == expected, "\(name) got \(ids.count) of \(expected)")
            #expect(zip(ids, ids.dropFirst()).allSatisfy { streamID($0, isBefore: $1) }, "\(name): ids not strictly increasing")
        }
        #expect(atA.map { $0["content"] as? String } == (0..<count).map { "b\($0)" })
        #expect(atB.map { $0["content"] as? String } == (0..<count).map { "a\($0)" })
        let stored = try await cluster.history(friendship)
        #expect(stored.count == 2 * count)
        let seen = atOther.compactMap { $0["id"] as? String }
        #expect(seen == stored.map(\.id))
        let missing = stored.enumerated().filter { !seen.contains($0.element.id) }.map {
            "#\($0.offset) \($0.element.id) \($0.element.fields["content"] ?? "")"
        }
        #expect(missing.isEmpty, "missing at alice's other device: \(missing)")
    }

    @Test func repeatedClientIDIsStoredOnceAndAckedWithTheFirstID() async throws {
        let cluster = try await TestCluster.start()
        defer { Task { await cluster.stop() } }
        let (alice, bob, friendship) = try await cluster.makeFriends("alice", "bob")
        let a = try await cluster.connect(alice, node: 0)
        let b = try await cluster.connect(bob, node: 1)
        for _ in 0..<3 { a.send(json: ["friend": friendship, "content": "once", "cid": "retry-1"]) }
        var acks: [String] = []
        for _ in 0..<3 {
            let ack = await a.next { $0["op"] as? String == "ack" }
            acks.append(ack?["id"] as? String ?? "missing")
        }
        #expect(Set(acks).count == 1)
        #expect(try await cluster.history(friendship).map(\.id) == [acks[0]])
        let delivered = await collect(b, for: .milliseconds(500))
        #expect(delivered.filter { $0["content"] as? String == "once" }.count == 1)
    }

    @Test func reconnectingToAnotherNodeAndSyncingMissesNothing() async throws {
        let cluster = try await TestCluster.start()
        defer { Task { await cluster.stop() } }
        let (alice, bob, friendship) = try await cluster.makeFriends("alice", "bob")
        var a = try await cluster.connect(alice, node: 0)
        let b = try await cluster.connect(bob, node: 1)
        b.send(json: ["friend": friendship, "content": "before"])
        let last = try #require(await a.messages(1).first?["id"] as? String)
        await a.close()

        for index in 0..<50 { b.send(json: ["friend": friendship, "content": "m\(index)", "cid": "m\(index)"]) }
        for _ in 0..<50 { _ = await b.next { $0["op"] as? String == "ack" } }

        a = try await cluster.connect(alice, node: 1)
        a.send(json: ["op": "sync", "cursors": [friendship: last]])
        let synced = await a.messages(50)
        #expect(synced.map { $0["content"] as? String } == (0..<50).map { "m\($0)" })
        #expect(await a.nextJSON()?["op"] as? String == "synced")

        // `since` covers friendships not named.
        a.send(json: ["op": "sync", "cursors": [:] as [String: String], "since": last])
        #expect(await a.messages(50).count == 50)
        #expect(await a.nextJSON()?["op"] as? String == "synced")
    }

    @Test func friendshipCreatedAfterTheSocketOpenedWorks() async throws {
        let cluster = try await TestCluster.start()
        defer { Task { await cluster.stop() } }
        _ = try await cluster.http("POST", "/api/users", body: ["name": "alice", "id": "alice"])
        _ = try await cluster.http("POST", "/api/users", body: ["name": "bob", "id": "bob"])
        let a = try await cluster.connect("alice", node: 0)
        let b = try await cluster.connect("bob", node: 1)
        a.send(json: ["friend": "later", "content": "too early", "cid": "e"])
        #expect(await a.next { $0["op"] as? String == "error" }?["code"] as? String == "not_friends")

        let made = try await cluster.http("POST", "/api/friendships", node: 1, body: ["user1": "alice", "user2": "bob", "id": "later"])
        #expect(made.status == 201)
        a.send(json: ["friend": "later", "content": "now", "cid": "n"])
        #expect(await a.next { $0["op"] as? String == "ack" }?["cid"] as? String == "n")
        #expect(await b.messages(1).first?["content"] as? String == "now")
    }

    @Test func broadcastReachesEveryNode() async throws {
        let cluster = try await TestCluster.start(nodes: 3)
        defer { Task { await cluster.stop() } }
        let (alice, bob, _) = try await cluster.makeFriends("alice", "bob")
        let sockets = [
            try await cluster.connect(alice, node: 0), try await cluster.connect(bob, node: 1), try await cluster.connect(alice, node: 2),
        ]
        let answer = try await cluster.http("POST", "/api/broadcast", node: 2, body: ["content": "maintenance at noon"])
        #expect(answer.status == 202)
        for socket in sockets {
            let frame = await socket.next { $0["op"] as? String == "broadcast" }
            #expect(frame?["content"] as? String == "maintenance at noon")
            #expect(frame?["type"] as? String == "text")
            #expect(frame?["ts"] is Int)
        }
    }

    @Test func framesAfterASyncWaitForItAndKeepTheirOrder() async throws {
        let cluster = try await TestCluster.start(nodes: 1)
        defer { Task { await cluster.stop() } }
        let (alice, _, friendship) = try await cluster.makeFriends("alice", "bob")
        let a = try await cluster.connect(alice, node: 0)
        for index in 0..<300 { a.send(json: ["friend": friendship, "content": "m\(index)", "cid": "m\(index)"]) }
        #expect(await a.next(where: { $0["cid"] as? String == "m299" }) != nil)

        // A sync continues in a task (it reads Redis page by page); the frames sent right behind it wait for it, so
        // their answers come after `synced`, and the send is stored after the 300. (The pong may overtake the ack,
        // which waits for Redis.)
        a.send(json: ["op": "sync", "cursors": [friendship: "0-0"]])
        a.send(json: ["friend": friendship, "content": "after", "cid": "after"])
        a.send(json: ["op": "ping"])
        var answers: [String] = []
        while answers.count < 303, let frame = await a.nextJSON() {
            answers.append((frame["op"] as? String) ?? "message")
        }
        #expect(Array(answers.prefix(301)) == Array(repeating: "message", count: 300) + ["synced"])
        #expect(Set(answers.suffix(2)) == ["ack", "pong"])
        let history = try await cluster.history(friendship)
        #expect(history.count == 301 && history.last?.fields["content"] == "after")
    }

    @Test func historyPingAndErrors() async throws {
        let cluster = try await TestCluster.start()
        defer { Task { await cluster.stop() } }
        let (alice, bob, friendship) = try await cluster.makeFriends("alice", "bob")
        let a = try await cluster.connect(alice, node: 0)
        for index in 0..<5 { a.send(json: ["friend": friendship, "content": "h\(index)", "cid": "h\(index)"]) }
        for _ in 0..<5 { _ = await a.next { $0["op"] as? String == "ack" } }

        a.send(json: ["op": "history", "friend": friendship, "limit": 3, "rid": "r1"])
        let page = try #require(await a.next { $0["op"] as? String == "history" })
        #expect(page["rid"] as? String == "r1")
        let messages = try #require(page["messages"] as? [[String: Any]])
        #expect(messages.map { $0["content"] as? String } == ["h2", "h3", "h4"])
        a.send(json: ["op": "history", "friend": friendship, "before": messages[0]["id"] as! String])
        let older = await a.next { $0["op"] as? String == "history" }
        #expect((older?["messages"] as? [[String: Any]])?.map { $0["content"] as? String } == ["h0", "h1"])

        a.send(json: ["op": "ping"])
        #expect(await a.nextJSON()?["op"] as? String == "pong")

        let http = try await cluster.http("GET", "/api/friendships/\(friendship)/messages?limit=2")
        #expect(http.status == 200)
        #expect((http.json["messages"] as? [[String: Any]])?.map { $0["content"] as? String } == ["h3", "h4"])

        // Each error code, with the socket still working after it and nothing stored.
        let cases: [(String, String)] = [
            ("not json", "bad_json"),
            (#"{"friend":"\#(friendship)","content":""}"#, "bad_message"),
            (#"{"friend":"\#(friendship)","content":"x","type":"video"}"#, "bad_message"),
            (#"{"friend":"\#(friendship)","content":"x","from":"\#(bob)"}"#, "forbidden"),
            (#"{"friend":"\#(friendship)","content":"x","to":"\#(alice)"}"#, "forbidden"),
            (#"{"friend":"nosuchfriendship","content":"x"}"#, "not_friends"),
            (#"{"op":"dance"}"#, "bad_message"),
        ]
        for (frame, code) in cases {
            a.send(frame)
            let error = await a.next { $0["op"] as? String == "error" }
            #expect(error?["code"] as? String == code, "\(frame)")
        }
        #expect(try await cluster.history(friendship).count == 5)
        let b = try await cluster.connect(bob, node: 1)
        a.send(json: ["friend": friendship, "content": "still here", "cid": "after"])
        #expect(await a.next { $0["op"] as? String == "ack" }?["cid"] as? String == "after")
        #expect(await b.messages(1).first?["content"] as? String == "still here")
    }
}

/// Every frame that arrives within `duration`.
/// The next `count` frames, or fewer if `duration` passes first.
func collect(_ connection: ChatConnection, count: Int, within duration: Duration) async -> [[String: Any]] {
    var frames: [[String: Any]] = []
    let deadline = ContinuousClock.now + duration
    while frames.count < count, ContinuousClock.now < deadline {
        if let frame = await connection.nextJSON(timeout: deadline - ContinuousClock.now) { frames.append(frame) }
    }
    return frames
}

func collect(_ connection: ChatConnection, for duration: Duration) async -> [[String: Any]] {
    var frames: [[String: Any]] = []
    let deadline = ContinuousClock.now + duration
    while ContinuousClock.now < deadline {
        if let frame = await connection.nextJSON(timeout: deadline - ContinuousClock.now) { frames.append(frame) }
    }
    return frames
}
