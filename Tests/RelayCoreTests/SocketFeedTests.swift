import ChatProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore
import RedisClient
import TestSupport
import Testing

@testable import RelayCore

/// A socket that keeps the ids of the frames it was sent, in order.
private final class FrameLog: RelaySocket {
    let userID = "bob"
    private let ids = NIOLockedValueBox<[String]>([])

    var received: [String] { ids.withLockedValue { $0 } }
    func send(_ text: String) { record(ByteBuffer(string: text)) }
    func send(frame bytes: ByteBuffer) { record(bytes) }
    func close(_ reason: SocketEnd) {}
    func ping() {}
    func terminate() {}
    func waitForCapacity() async {}

    private func record(_ frame: ByteBuffer) {
        let text = String(buffer: frame)
        guard let start = text.range(of: #""id":""#)?.upperBound, let end = text[start...].firstIndex(of: "\"") else { return }
        ids.withLockedValue { $0.append(String(text[start..<end])) }
    }
}

/// Gaps open only while the node's subscriber has no connection (and between a socket's opening instant and its
/// subscription); the feed holds live frames from those moments until its catch-up has read the streams.
/// Against a real Redis, with the live frames handed in by hand so that their timing is the test's.
@Suite struct SocketFeedTests {
    private let friendship = "f1"

    /// A frame as it comes on bob's channel: from alice, or from bob himself (this socket or his other devices); on a
    /// cluster it names the entry before it.
    private func published(
        _ id: String,
        from sender: String = "alice",
        in friendship: String = "f1",
        previous: String? = nil
    ) -> PublishedMessage {
        let to = sender == "alice" ? "bob" : "alice"
        let tail = previous.map { #","prev":"\#($0)"}"# } ?? "}"
        let text =
            #"{"id":"\#(id)","friend":"\#(friendship)","from":"\#(sender)","to":"\#(to)","content":"c \#(id)","type":"text","ts":1"#
            + tail
        return PublishedMessage(ByteBuffer(string: text), owner: "bob")!
    }

    private func store(_ id: String, in redis: RedisClient) async throws {
        _ = try await redis.command(
            "XADD",
            "chat:history:{f1}",
            .string(id),
            "from",
            "alice",
            "to",
            "bob",
            "type",
            "text",
            "content",
            .string("c \(id)")
        )
    }

    /// Contract v2: from a `sync` request until its `synced`, the socket gets the replay and nothing else of the
    /// friendships it replays; their live frames follow the replay, without those it already brought.
    @Test func aSyncHoldsLiveFramesOfItsFriendshipsUntilItsReplayIsOver() async throws {
        let redis = RedisClient(configuration: RedisConfiguration())
        let context = FeedContext(store: MessageStore(redis: redis, keys: RedisKeys(prefix: "chat")), logger: Logger(label: "test"))
        let socket = FrameLog()
        let feed = SocketFeed(socket: socket, openedAfter: StreamID(milliseconds: 1, sequence: 0), context: context)
        // Nothing to catch up on: frames flow from here.
        await feed.catchUp(friendships: [])
        feed.deliver(published("2-0"))
        #expect(socket.received == ["2-0"])

        feed.beginSync(.only(["f1"]))
        feed.deliver(published("3-0"))
        feed.deliver(published("4-0"))
        // Another friendship, not replayed, is not held.
        feed.deliver(published("5-0", in: "f2"))
        #expect(socket.received == ["2-0", "5-0"])
        // The replay brought f1's entries up to 3-0: 3-0 is not sent again, 4-0 follows.
        feed.endSync(replayedThrough: ["f1": StreamID("3-0")!])
        #expect(socket.received == ["2-0", "5-0", "4-0"])
        feed.deliver(published("4-0"))
        feed.deliver(published("6-0"))
        #expect(socket.received == ["2-0", "5-0", "4-0", "6-0"])

        // A sync with `since` replays every friendship; a replay that went past the held frames leaves none to send.
        feed.beginSync(.all)
        feed.deliver(published("7-0"))
        feed.deliver(published("8-0", in: "f2"))
        #expect(socket.received.count == 4)
        feed.endSync(replayedThrough: ["f1": StreamID("9-0")!, "f2": StreamID("9-0")!])
        #expect(socket.received == ["2-0", "5-0", "4-0", "6-0"])
        feed.deliver(published("10-0"))
        #expect(socket.received.last == "10-0")
    }

    /// On a cluster, a frame naming an entry the socket lacks waits the context's grace for it: the missing frame that
    /// comes meanwhile goes first, then the one that waited, and no fill reads the stream (here Redis is not there, so a
    /// fill would hold both).
    @Test func aFrameBehindAGapWaitsTheGraceForTheMissingOne() async throws {
        let redis = RedisClient(configuration: RedisConfiguration())
        let context = FeedContext(
            store: MessageStore(redis: redis, keys: RedisKeys(prefix: "chat")),
            logger: Logger(label: "test"),
            gapGrace: .seconds(30)
        )
        let socket = FrameLog()
        let feed = SocketFeed(socket: socket, openedAfter: StreamID(milliseconds: 1, sequence: 0), context: context)
        defer { feed.close() }
        await feed.catchUp(friendships: [])
        feed.deliver(published("3-0", previous: "2-0"))
        // Time for a feed that did not wait to start its fill; far less than the grace.
        try await Task.sleep(for: .milliseconds(300))
        #expect(socket.received.isEmpty)
        feed.deliver(published("2-0", previous: "1-0"))
        #expect(socket.received == ["2-0", "3-0"])
    }

    @Test func liveFramesWaitForTheCatchUpAtOpeningAndAfterAReconnect() async throws {
        let server = try await RedisServer()
        let redis = RedisClient(configuration: server.configuration)
        try await redis.connect()
        let context = FeedContext(store: MessageStore(redis: redis, keys: RedisKeys(prefix: "chat")), logger: Logger(label: "test"))
        let socket = FrameLog()
        let feed = SocketFeed(socket: socket, openedAfter: StreamID(milliseconds: 1, sequence: 0), context: context)

        // Opening: 3-0 was stored before the subscription was live (its publish never came), 5-0 came live
        // before the catch-up ran. Delivered at once, 5-0 would move the socket past 3-0 for good.
        try await store("3-0", in: redis)
        try await store("5-0", in: redis)
        feed.deliver(published("5-0"))
        #expect(socket.received.isEmpty)
        await feed.catchUp(friendships: [friendship])
        #expect(socket.received == ["3-0", "5-0"])

        // Live again.
        try await store("6-0", in: redis)
        feed.deliver(published("6-0"))
        #expect(socket.received == ["3-0", "5-0", "6-0"])

        // The subscriber loses its connection: 7-0 is published meanwhile and lost; 9-0 comes on the new one.
        feed.holdUntilCatchUp()
        try await store("7-0", in: redis)
        try await store("9-0", in: redis)
        feed.deliver(published("9-0"))
        #expect(socket.received == ["3-0", "5-0", "6-0"])
        await feed.catchUp(friendships: [friendship])
        #expect(socket.received == ["3-0", "5-0", "6-0", "7-0", "9-0"])

        // A frame the socket has is never sent twice.
        feed.deliver(published("9-0"))
        #expect(socket.received.count == 5)
        await redis.shutdown()
    }

    /// The sending socket must not get its own message back, but its other devices must, and nothing may wait long:
    /// the feed tells its own frames from its store replies, which may come before or after the publish.
    @Test func theSendingSocketSkipsItsOwnMessagesWhateverComesFirst() async throws {
        let server = try await RedisServer()
        let redis = RedisClient(configuration: server.configuration)
        let context = FeedContext(store: MessageStore(redis: redis, keys: RedisKeys(prefix: "chat")), logger: Logger(label: "test"))
        let socket = FrameLog()
        let feed = SocketFeed(socket: socket, openedAfter: StreamID(milliseconds: 1, sequence: 0), context: context)
        await feed.catchUp(friendships: [])

        // The publish comes before the store reply: it waits, and alice's frame after it waits behind it.
        feed.willStore(friendship: friendship)
        feed.deliver(published("10-0", from: "bob"))
        feed.deliver(published("11-0"))
        #expect(socket.received.isEmpty)
        feed.didStore(StreamID("10-0"), friendship: friendship)
        #expect(socket.received == ["11-0"])

        // The reply comes first: the publish is recognised when it comes.
        feed.willStore(friendship: friendship)
        feed.didStore(StreamID("12-0"), friendship: friendship)
        feed.deliver(published("12-0", from: "bob"))
        #expect(socket.received == ["11-0"])

        // Bob's other device sends while this socket has two sends in flight: its frame waits only until a reply
        // shows this socket's sends got later ids.
        feed.willStore(friendship: friendship)
        feed.willStore(friendship: friendship)
        feed.deliver(published("13-0", from: "bob"))
        #expect(socket.received == ["11-0"])
        feed.didStore(StreamID("14-0"), friendship: friendship)
        #expect(socket.received == ["11-0", "13-0"])
        feed.deliver(published("14-0", from: "bob"))
        feed.deliver(published("15-0", from: "bob"))
        #expect(socket.received == ["11-0", "13-0"])
        // The last send failed (nothing stored): 15-0 was another device's after all.
        feed.didStore(nil, friendship: friendship)
        #expect(socket.received == ["11-0", "13-0", "15-0"])

        // With nothing in flight, bob's frames from elsewhere go straight through.
        feed.deliver(published("16-0", from: "bob"))
        #expect(socket.received == ["11-0", "13-0", "15-0", "16-0"])
        await redis.shutdown()
    }
}
