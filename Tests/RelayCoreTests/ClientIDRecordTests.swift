import NIOConcurrencyHelpers
import RedisClient
import TestSupport
import Testing

@testable import RelayCore

/// A send repeated with the same cid within 24 hours is stored once (PROTOCOL.md). The records live in one hash per
/// friendship and day; these tests move the store's day by hand, against a real Redis.
@Suite struct ClientIDRecordTests {
    private let friendship = Friendship(id: "f1", user1: "alice", user2: "bob")
    private let keys = RedisKeys(prefix: "chat")

    private func store(_ store: MessageStore, cid: String?, route: StoreRoute? = nil) async throws -> StoreReceipt {
        let route = route ?? store.route(in: friendship, from: "alice")
        return try await withCheckedThrowingContinuation { continuation in
            store.store(route, content: "hi", type: .text, cid: cid) { continuation.resume(with: $0) }
        }
    }

    /// A store on a real Redis whose day the test moves by hand, starting at day 20,000. The server is returned
    /// so that it stays up for the test.
    private func storeOnDay20000() async throws -> (RedisServer, RedisClient, NIOLockedValueBox<StoreClock>, MessageStore) {
        let server = try await RedisServer()
        let redis = RedisClient(configuration: server.configuration)
        try await redis.connect()
        // The store refuses a friendship whose hash is gone (an unfriended one): this one exists.
        _ = try await redis.command("HSET", .string(keys.friendship(friendship.id)), "user1", "alice", "user2", "bob")
        let day = NIOLockedValueBox(StoreClock(day: 20_000))
        return (server, redis, day, MessageStore(redis: redis, keys: keys, clock: { day.withLockedValue { $0 } }))
    }

    @Test func aRetryOnTheNextDayStillFindsItsRecordAndTheRecordExpires() async throws {
        let (server, redis, day, messages) = try await storeOnDay20000()
        defer { withExtendedLifetime(server) {} }

        let first = try await store(messages, cid: "c1")
        #expect(first.isNew)
        let bucket = keys.clientIDs(friendship: "f1", day: 20_000)
        #expect(try await redis.command("HGET", .string(bucket), "alice:c1").string == first.id)
        let ttl = try #require(try await redis.command("TTL", .string(bucket)).int)
        #expect(ttl > 259_000 && ttl <= 259_200)

        // Same day, and the next day (a node whose clock is past midnight): the first id, nothing stored.
        #expect(try await store(messages, cid: "c1") == StoreReceipt(id: first.id, isNew: false))
        day.withLockedValue { $0 = StoreClock(day: 20_001) }
        #expect(try await store(messages, cid: "c1") == StoreReceipt(id: first.id, isNew: false))
        // A node whose clock is still just before that midnight sees a record written "tomorrow" too.
        day.withLockedValue { $0 = StoreClock(day: 19_999, nearMidnight: true) }
        #expect(try await store(messages, cid: "c1") == StoreReceipt(id: first.id, isNew: false))
        #expect(try await redis.command("XLEN", "chat:history:{f1}") == .integer(1))

        // Two days on (more than 24 hours), the cid is new again.
        day.withLockedValue { $0 = StoreClock(day: 20_002) }
        #expect(try await store(messages, cid: "c1").isNew)
        #expect(try await store(messages, cid: nil).isNew)
        #expect(try await redis.command("XLEN", "chat:history:{f1}") == .integer(3))
        // Without a cid, no record is written anywhere; duplicates wrote none either.
        let buckets = try await redis.command("KEYS", "chat:cids:*").array?.compactMap(\.string).sorted()
        #expect(buckets == [keys.clientIDs(friendship: "f1", day: 20_000), keys.clientIDs(friendship: "f1", day: 20_002)])
        #expect(try await redis.command("HLEN", .string(keys.clientIDs(friendship: "f1", day: 20_002))) == .integer(1))
        await redis.shutdown()
    }

    /// A socket asks for its day's bucket to expire until one of its records has been stored that day: a first send
    /// of the day that turns out to be a retry stores nothing, so the next one must still ask.
    @Test func aBucketStartedAfterARetryStillExpires() async throws {
        let (server, redis, day, messages) = try await storeOnDay20000()
        defer { withExtendedLifetime(server) {} }
        _ = try await store(messages, cid: "c1")

        day.withLockedValue { $0 = StoreClock(day: 20_001) }
        let route = messages.route(in: friendship, from: "alice")
        #expect(try await store(messages, cid: "c1", route: route).isNew == false)
        #expect(try await store(messages, cid: "c2", route: route).isNew)
        let bucket = keys.clientIDs(friendship: "f1", day: 20_001)
        #expect(try await redis.command("HLEN", .string(bucket)) == .integer(1))
        let ttl = try #require(try await redis.command("TTL", .string(bucket)).int)
        #expect(ttl > 259_000 && ttl <= 259_200)
        await redis.shutdown()
    }
}
