import ChatProtocol
import Foundation
import NIOCore
import RedisClient
import Synchronization

/// Message history: one Redis stream per friendship.
public struct MessageStore: Sendable {
    let redis: any RedisCommands
    let keys: RedisKeys
    /// Stores go here: with `--min-replicas` connections of their own (each store is followed by a `WAIT`).
    let writer: any RedisCommands
    let publisher: Publisher
    /// The UTC day (days since 1970) whose cid records a send writes, and whether the next midnight is less than a
    /// minute away; a parameter so that tests can move days.
    let clock: @Sendable () -> StoreClock
    /// With `--min-replicas`: the stores' own connection, and the replicas each store waits for.
    let replicaConfirmation: ReplicaConfirmation?
    /// What history keeps: trimmed in the store step, filtered on every read.
    let retention: Retention
    /// The length argument of every store, made once.
    private let maximumLengthArgument: RedisArgument

    public init(redis: RedisClient, keys: RedisKeys, clock: @escaping @Sendable () -> StoreClock = StoreClock.now) {
        self.init(redis: redis, keys: keys, publisher: Publisher(redis: redis, cluster: false), clock: clock)
    }

    init(
        redis: any RedisCommands,
        keys: RedisKeys,
        publisher: Publisher,
        clock: @escaping @Sendable () -> StoreClock = StoreClock.now,
        writer: (any RedisCommands)? = nil,
        replicaConfirmation: ReplicaConfirmation? = nil,
        retention: Retention = .keepAll
    ) {
        self.retention = retention
        maximumLengthArgument = .string(retention.maximumLength > 0 ? String(retention.maximumLength) : "")
        self.redis = redis
        self.keys = keys
        self.publisher = publisher
        self.clock = clock
        self.writer = writer ?? redis
        self.replicaConfirmation = replicaConfirmation
    }

    public func route(in friendship: Friendship, from sender: String) -> StoreRoute {
        let recipient = friendship.other(than: sender)
        return StoreRoute(
            friendship: friendship.id,
            sender: sender,
            recipient: recipient,
            history: keys.history(friendship.id),
            friendshipKey: keys.friendship(friendship.id),
            recipientChannel: keys.deliver(recipient),
            senderChannel: keys.deliver(sender)
        )
    }

    /// Stores and publishes in one script call, then calls `completion` on an event loop: with the receipt, or an
    /// error when Redis did not store it. A callback rather than a future: this runs once per message.
    public func store(
        _ route: StoreRoute,
        content: String,
        type: MessageType,
        cid: String?,
        completion: @escaping @Sendable (Result<StoreReceipt, any Error>) -> Void
    ) {
        // The content goes once when it needs no escaping (the script reads ARGV[4] for the frame then), twice
        // only when its JSON form differs: the whole frame body in every call made commands a quarter longer.
        let escapedContent = JSONString.needsEscaping(content) ? JSONString.escaped(content) : ""
        let now = clock()
        let buckets = cid == nil ? nil : route.cidBuckets(day: now.day, keys: keys)
        // The day after only near midnight, when a node whose clock is ahead may already have written there.
        let bucketCount = buckets == nil ? 0 : (now.nearMidnight ? 3 : 2)
        // Appended one by one: array literals for the keys and arguments were two allocations per message.
        var call = RedisScriptCall(StoreScript.script, keys: 2 + bucketCount, arguments: 13)
        call.append(.string(route.history))
        call.append(.string(route.friendshipKey))
        if let buckets {
            for index in 0..<bucketCount { call.append(buckets.keys[index]) }
        }
        call.append(.string(route.sender))
        call.append(.string(route.recipient))
        call.append(.string(type.rawValue))
        call.append(.string(content))
        call.append(.string(cid ?? ""))
        call.append(.string(route.frameHead))
        call.append(publisher.scriptChannel(route.recipientChannel))
        call.append(publisher.scriptChannel(route.senderChannel))
        let setsExpiry = buckets?.setsExpiry == true
        call.append(.string(setsExpiry ? "1" : ""))
        call.append(.string(escapedContent))
        call.append(maximumLengthArgument)
        let age: (oldestKept: UInt64?, expiry: UInt64?) =
            retention.maximumAgeMilliseconds > 0 ? route.ageWork(now: WallClock.milliseconds, retention: retention) : (nil, nil)
        call.append(.string(age.oldestKept.map { String($0) } ?? ""))
        call.append(.string(age.expiry.map { String($0) } ?? ""))
        let confirmation = replicaConfirmation
        writer.evaluate(call) { [self] result, node in
            let receipt = result.flatMap { reply -> Result<StoreReceipt, any Error> in
                guard let parts = reply.array, parts.count >= 2, let id = parts[0].string, let fresh = parts[1].int else {
                    return .failure(RedisClientError(.unexpectedReply, "store script answered \(reply)"))
                }
                if fresh == -1 { return .failure(FriendshipGone(friendship: route.friendship)) }
                // Stored, so the script set the bucket's expiry (a duplicate returns before storing).
                if setsExpiry, fresh == 1 { route.expirySet(day: now.day) }
                if publisher.publishesAfterScripts { publishStored(route, id: id, frame: parts.count > 2 ? parts[2].bytes : nil) }
                return .success(StoreReceipt(id: id, isNew: fresh == 1))
            }
            guard let confirmation, let node, case .success(let stored) = receipt else { return completion(receipt) }
            confirmation.confirm(on: node) { confirmed in
                var receipt = stored
                receipt.replicated = confirmed
                completion(.success(receipt))
            }
        }
    }

    /// On a cluster: publishes the frame the store script returned to both users' channels, or, for a cid stored
    /// before (no frame), the stored message again, read back with its previous id: its first publish may never
    /// have happened (the node that stored it died), and receivers drop an id they have.
    private func publishStored(_ route: StoreRoute, id: String, frame: ByteBuffer?) {
        if let frame {
            publisher.publish(.bytes(frame), to: route.recipientChannel, route.senderChannel)
            return
        }
        Task {
            let history = keys.history(route.friendship)
            let entry = redis.send(["XRANGE", .string(history), .string(id), .string(id)])
            let newest = redis.send(["XREVRANGE", .string(history), .string("(\(id)"), "-", "COUNT", "1"])
            guard let message = try? Self.messages(in: await entry.get(), friendship: route.friendship).first,
                let before = try? await newest.get()
            else { return }
            let previous = Self.firstID(in: before) ?? "0-0"
            let frame = RedisArgument.string(ServerMessage.message(message, previous: previous))
            publisher.publish(frame, to: route.recipientChannel, route.senderChannel)
        }
    }

    /// Up to `limit` messages older than `before` (default: the newest), oldest first; none older than retention's age.
    public func history(friendship: String, before: String?, limit: Int) async throws -> [StoredMessage] {
        // Nothing is older than the first id there is (and Redis refuses the exclusive range).
        if let before, StreamID(before) == .zero { return [] }
        let end = before.map { "(\($0)" } ?? "+"
        if let oldest = oldestReturned, let before = before.flatMap({ StreamID($0) }), before <= oldest { return [] }
        let start = oldestReturned.map(\.description) ?? "-"
        let reply = try await redis.command([
            "XREVRANGE", .string(keys.history(friendship)), .string(end), .string(start), "COUNT", .integer(limit),
        ])
        return try Self.messages(in: reply, friendship: friendship).reversed()
    }

    /// Messages after `after` (exclusive; nil for the beginning) and before `before` (exclusive), oldest first; none
    /// older than retention's age.
    public func range(friendship: String, after: String?, before: String? = nil, limit: Int) async throws -> [StoredMessage] {
        // Nothing comes after the last id there can be, nor before the first (Redis refuses those exclusive ranges).
        if let after, StreamID(after) == .maximum { return [] }
        if let before, StreamID(before) == .zero { return [] }
        var start = after.map { "(\($0)" } ?? "-"
        if let oldest = oldestReturned, (after.flatMap { StreamID($0) } ?? .zero) < oldest {
            if let before = before.flatMap({ StreamID($0) }), before <= oldest { return [] }
            start = oldest.description
        }
        let end = before.map { "(\($0)" } ?? "+"
        let reply = try await redis.command(["XRANGE", .string(keys.history(friendship)), .string(start), .string(end), "COUNT", .integer(limit)])
        return try Self.messages(in: reply, friendship: friendship)
    }

    /// The oldest id a read returns now, when retention has an age.
    private var oldestReturned: StreamID? {
        retention.oldestReturned(now: WallClock.milliseconds)
    }

    /// Whether the cursor is older than the friendship's oldest kept message while retention dropped (or hides)
    /// messages: messages older than the age lie after it, or the stream dropped entries (`entries-added` over
    /// `length`) and its first entry is after the cursor. False when retention keeps everything.
    public func isTruncated(friendship: String, after cursor: String) async throws -> Bool {
        guard retention.trims, let cursorID = StreamID(cursor) else { return false }
        let history = keys.history(friendship)
        if let oldest = oldestReturned, cursorID < oldest {
            let hidden = try await redis.command([
                "XRANGE", .string(history), .string("(\(cursor)"), .string("(\(oldest)"), "COUNT", "1",
            ])
            if !(hidden.array ?? []).isEmpty { return true }
        }
        // A stream that expired whole, or never was, has no record of what it dropped.
        guard let info = try? await redis.command(["XINFO", "STREAM", .string(history)]), let fields = info.array else { return false }
        var values: [String: RedisReply] = [:]
        var index = 0
        while index + 1 < fields.count {
            if let name = fields[index].string { values[name] = fields[index + 1] }
            index += 2
        }
        guard let length = values["length"]?.int, let added = values["entries-added"]?.int, added > length,
            let first = values["recorded-first-entry-id"]?.string.flatMap({ StreamID($0) })
        else { return false }
        return cursorID < first
    }

    /// Every message after `after`, oldest first, read in pages of `pageSize`.
    public func all(friendship: String, after: String?, pageSize: Int = 500, _ body: ([StoredMessage]) async throws -> Void) async throws {
        var cursor = after
        while true {
            let page = try await range(friendship: friendship, after: cursor, limit: pageSize)
            if !page.isEmpty { try await body(page) }
            guard page.count == pageSize, let last = page.last else { return }
            cursor = last.id
        }
    }

    /// Reads an `XRANGE` reply: `[[id, [field, value, ...]], ...]`.
    /// The id of a stream range's first entry (with `COUNT 1`: the newest of an `XREVRANGE`); nil for an empty one.
    static func firstID(in reply: RedisReply) -> String? {
        reply.array?.first?.array?.first?.string
    }

    static func messages(in reply: RedisReply, friendship: String) throws -> [StoredMessage] {
        guard let entries = reply.array else { throw RedisClientError(.unexpectedReply, "expected a stream range, got \(reply)") }
        return entries.compactMap { entry in
            guard let pair = entry.array, pair.count == 2, let id = pair[0].string, let fields = pair[1].array else { return nil }
            var message = StoredMessage(id: id, friendship: friendship, from: "", to: "", content: "", type: "text")
            var index = 0
            while index + 1 < fields.count {
                let value = fields[index + 1].string ?? ""
                switch fields[index].string {
                case "from": message.from = value
                case "to": message.to = value
                case "type": message.type = value
                case "content": message.content = value
                case "cid": message.cid = value
                default: break
                }
                index += 2
            }
            return message
        }
    }
}
