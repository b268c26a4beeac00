import NIOConcurrencyHelpers
import NIOCore
import RedisClient
import TestSupport
import Testing

/// Collects what a subscriber receives, for assertions.
final class Inbox: Sendable {
    private let messages = NIOLockedValueBox<[RedisPubSubMessage]>([])
    func append(_ message: RedisPubSubMessage) { messages.withLockedValue { $0.append(message) } }
    var all: [RedisPubSubMessage] { messages.withLockedValue { $0 } }
    func payloads(on channel: String) -> [String] {
        all.filter { $0.channel == channel }.map { String(buffer: $0.payload) }
    }

    /// Waits up to `seconds` for `condition` to hold.
    func wait(seconds: Double = 5, until condition: ([RedisPubSubMessage]) -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if condition(all) { return }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}

@Suite struct PubSubTests {
    /// A consumer that forwards payloads behind a header of its own asks for room in front of them; by default none.
    @Test func payloadsComeWithTheHeadroomTheConfigurationAsksFor() async throws {
        let redis = try await RedisServer()
        let publisher = RedisClient(configuration: redis.configuration)
        try await publisher.connect()
        var roomy = redis.configuration
        roomy.pushPayloadHeadroom = 10
        let (plainInbox, roomyInbox) = (Inbox(), Inbox())
        let plain = RedisSubscriber(configuration: redis.configuration, onMessage: plainInbox.append)
        let withRoom = RedisSubscriber(configuration: roomy, onMessage: roomyInbox.append)
        for subscriber in [plain, withRoom] {
            try await subscriber.connect()
            try await subscriber.subscribe(["h"])
        }
        defer {
            Task {
                await plain.shutdown()
                await withRoom.shutdown()
                await publisher.shutdown()
            }
        }
        _ = try await publisher.command("PUBLISH", "h", "payload")
        try await plainInbox.wait { !$0.isEmpty }
        try await roomyInbox.wait { !$0.isEmpty }
        #expect(plainInbox.all.first?.payload.readerIndex == 0)
        #expect(roomyInbox.all.first?.payload.readerIndex == 10)
        #expect(roomyInbox.payloads(on: "h") == ["payload"])
    }

    @Test func messagesArriveInOrderAndUnsubscribeStopsThem() async throws {
        let redis = try await RedisServer()
        let publisher = RedisClient(configuration: redis.configuration)
        try await publisher.connect()
        let first = Inbox()
        let second = Inbox()
        let subscriber = RedisSubscriber(configuration: redis.configuration, onMessage: first.append)
        let other = RedisSubscriber(configuration: redis.configuration, onMessage: second.append)
        try await subscriber.connect()
        try await other.connect()
        defer {
            Task {
                await subscriber.shutdown()
                await other.shutdown()
                await publisher.shutdown()
            }
        }

        try await subscriber.subscribe(["a", "b"])
        try await other.subscribe(["a"])
        let sent = (0..<500).map { "m\($0)" }
        let futures = sent.map { publisher.send(["PUBLISH", "a", .string($0)]) }
        for future in futures { #expect(try await future.get() == .integer(2)) }
        _ = try await publisher.command("PUBLISH", "b", "on-b")
        try await first.wait { $0.count == 501 }
        #expect(first.payloads(on: "a") == sent)
        #expect(first.payloads(on: "b") == ["on-b"])

        try await subscriber.unsubscribe(["a"])
        #expect(subscriber.channels == ["b"])
        #expect(try await publisher.command("PUBLISH", "a", "after") == .integer(1))
        _ = try await publisher.command("PUBLISH", "b", "still")
        try await first.wait { $0.count == 502 }
        try await second.wait { $0.count == 501 }
        #expect(first.payloads(on: "a") == sent, "unsubscribed channel still delivered")
        #expect(first.payloads(on: "b") == ["on-b", "still"])
        // The other subscriber's connection is unaffected.
        #expect(second.payloads(on: "a") == sent + ["after"])
    }

    @Test func asyncStreamDeliversMessages() async throws {
        let redis = try await RedisServer()
        let publisher = RedisClient(configuration: redis.configuration)
        try await publisher.connect()
        let (subscriber, stream) = RedisSubscriber.makeStream(configuration: redis.configuration)
        try await subscriber.connect()
        try await subscriber.subscribe(["news"])
        for index in 0..<3 { _ = try await publisher.command("PUBLISH", "news", .string("n\(index)")) }
        var received: [String] = []
        for await message in stream {
            received.append(String(buffer: message.payload))
            if received.count == 3 { break }
        }
        #expect(received == ["n0", "n1", "n2"])
        await subscriber.shutdown()
        await publisher.shutdown()
    }
}
