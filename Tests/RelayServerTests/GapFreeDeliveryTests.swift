import ChatClient
import Foundation
import RedisClient
import Testing

/// Pub/sub is at most once: a subscriber that loses its connection misses what is published meanwhile. These
/// tests make it lose publishes on purpose and check that sockets see nothing of it.
@Suite struct GapFreeDeliveryTests {
    /// Publishes are lost only while a node's subscriber has no connection; a live frame that comes after it is back
    /// must wait until the streams are read, or the socket would move past the lost entry for good.
    @Test func anEntryLostWhileTheSubscriberWasAwayComesBeforeTheNextLiveOne() async throws {
        let cluster = try await TestCluster.start()
        defer { Task { await cluster.stop() } }
        let (alice, bob, friendship) = try await cluster.makeFriends("alice", "bob")
        let a = try await cluster.connect(alice, node: 0)
        let b = try await cluster.connect(bob, node: 1)
        a.send(json: ["friend": friendship, "content": "one", "cid": "1"])
        #expect(await b.messages(1).first?["content"] as? String == "one")

        // As if Redis stored a send while node 1's subscriber was away: the entry exists, its publish is lost. Stored
        // before the kill: stored after it, the entry could miss a catch-up that ran first on a busy machine.
        let lost = try await storeWithoutPublishing("two", from: alice, to: bob, in: friendship, cluster: cluster)
        try await killSubscriber(of: "node1", in: cluster)
        // Live sends spread over the reconnect: some are lost too, some arrive on the new connection while the
        // catch-up reads the stream.
        for index in 0..<30 {
            a.send(json: ["friend": friendship, "content": "live \(index)", "cid": "live \(index)"])
            try await Task.sleep(for: .milliseconds(10))
        }
        let next = await b.messages(31, timeout: .seconds(10))
        #expect(next.map { $0["content"] as? String } == ["two"] + (0..<30).map { "live \($0)" })
        #expect(next.first?["id"] as? String == lost)
        // Nothing twice.
        #expect(await collect(b, for: .milliseconds(300)).filter { $0["id"] != nil }.isEmpty)
    }

    @Test func entriesStoredWhileASubscriberWasAwayArriveWithoutAnyLaterMessage() async throws {
        let cluster = try await TestCluster.start()
        defer { Task { await cluster.stop() } }
        let (alice, bob, friendship) = try await cluster.makeFriends("alice", "bob")
        let b = try await cluster.connect(bob, node: 1)
        // A pong proves the socket is fully open: its own catch-up is over before its frames are read.
        b.send(json: ["op": "ping"])
        #expect(await b.next(where: { $0["op"] as? String == "pong" }) != nil)
        // Entries whose publishes never came (written straight into the stream), and no live frame after them:
        // only the catch-up after node 1's subscriber reconnects can bring them.
        for content in ["lost 1", "lost 2"] {
            _ = try await storeWithoutPublishing(content, from: alice, to: bob, in: friendship, cluster: cluster)
        }
        #expect(await collect(b, for: .milliseconds(300)).isEmpty)
        try await killSubscriber(of: "node1", in: cluster)
        let caughtUp = await b.messages(2, timeout: .seconds(10))
        #expect(caughtUp.map { $0["content"] as? String } == ["lost 1", "lost 2"])
    }

    @Test func publishesMissedWhileASubscriberReconnectsAreCaughtUp() async throws {
        let cluster = try await TestCluster.start()
        defer { Task { await cluster.stop() } }
        let (alice, bob, friendship) = try await cluster.makeFriends("alice", "bob")
        let a = try await cluster.connect(alice, node: 0)
        let b = try await cluster.connect(bob, node: 1)
        a.send(json: ["friend": friendship, "content": "before", "cid": "before"])
        #expect(await b.messages(1).first?["content"] as? String == "before")

        // Cut node 1's subscriber (and only it), then store messages at once through node 0, while it comes back.
        try await killSubscriber(of: "node1", in: cluster)
        for index in 0..<50 { a.send(json: ["friend": friendship, "content": "m\(index)", "cid": "m\(index)"]) }
        var acks = 0
        while acks < 50, await a.next(where: { $0["op"] as? String == "ack" }) != nil { acks += 1 }
        #expect(acks == 50)

        // Bob's socket on node 1 stayed open and gets every message, in order, once.
        let received = await b.messages(50, timeout: .seconds(15))
        #expect(received.map { $0["content"] as? String } == (0..<50).map { "m\($0)" })
        #expect(await collect(b, for: .milliseconds(300)).filter { $0["id"] != nil }.isEmpty)
        #expect(!b.isClosed)
    }
}

extension GapFreeDeliveryTests {
    @Test func aCatchUpNeverHandsASocketItsOwnMessagesButItsOtherDevicesGetThem() async throws {
        let cluster = try await TestCluster.start(nodes: 1)
        defer { Task { await cluster.stop() } }
        let (alice, _, friendship) = try await cluster.makeFriends("alice", "bob")
        let phone = try await cluster.connect(alice, node: 0)
        let laptop = try await cluster.connect(alice, node: 0)
        for socket in [phone, laptop] {
            socket.send(json: ["op": "ping"])
            #expect(await socket.next(where: { $0["op"] as? String == "pong" }) != nil)
        }
        // The node's subscriber drops while the phone sends: the live frames may be lost, and the catch-up after the
        // reconnect reads them from the stream. The phone must not get its own messages back; the laptop gets all.
        try await killSubscriber(of: "node0", in: cluster)
        for index in 0..<20 { phone.send(json: ["friend": friendship, "content": "p\(index)", "cid": "p\(index)"]) }
        var acks = 0
        while acks < 20, await phone.next(where: { $0["op"] as? String == "ack" }) != nil { acks += 1 }
        #expect(acks == 20)
        let onLaptop = await laptop.messages(20, timeout: .seconds(10))
        #expect(onLaptop.map { $0["content"] as? String } == (0..<20).map { "p\($0)" })
        #expect(await collect(phone, for: .milliseconds(500)).filter { $0["id"] != nil }.isEmpty)
    }
}

/// Drops one node's pub/sub connection from the Redis side, as a network blip would.
func killSubscriber(of node: String, in cluster: TestCluster) async throws {
    let clients = try await cluster.redis.command("CLIENT", "LIST").string ?? ""
    let subscriber = try #require(
        clients.split(separator: "\n").first { $0.contains("name=chatrelay-\(node)") && $0.contains("cmd=subscribe") }
    )
    let clientID = String(subscriber.split(separator: " ").first { $0.hasPrefix("id=") }?.dropFirst(3) ?? "")
    _ = try await cluster.redis.command("CLIENT", "KILL", "ID", .string(clientID))
}

/// Appends an entry to a friendship's stream the way the store script does, but publishes nothing: a message whose
/// PUBLISH never went out. Returns its id.
func storeWithoutPublishing(
    _ content: String,
    from: String,
    to: String,
    in friendship: String,
    cluster: TestCluster
) async throws
    -> String?
{
    let key = RedisArgument.string("chat:history:{\(friendship)}")
    let fields: [RedisArgument] = ["from", .string(from), "to", .string(to), "type", "text", "content", .string(content)]
    return try await cluster.redis.command(["XADD", key, "*"] + fields).string
}
