import Foundation
import NIOCore
import RedisClient
import Synchronization

/// Where one sender's messages in one friendship go: its members, the stream and both users' channels. Made once
/// and reused by the sender's socket for every send to that friend; a class, so that each send holds it with one
/// reference instead of six strings (copying the struct was 0.6% of a node at 10,000 msg/s).
public final class StoreRoute: Sendable {
    let friendship: String
    let sender: String
    let recipient: String
    let history: String
    /// The friendship's hash, which the store checks: an unfriended friendship stores nothing.
    let friendshipKey: String
    let recipientChannel: String
    let senderChannel: String
    /// The delivered frame's fields after its id up to the content's opening quote
    /// (``ServerMessage/messageHead(friendship:from:to:)``), escaped once for the route: the script puts the
    /// message's id, content and type around it.
    let frameHead: String
    /// The cid record keys of the last day a send used (the day, the day before, the day after), and whether a
    /// record this route stored that day has set the day's bucket to expire.
    private let cidBuckets: Mutex<(day: Int, keys: [RedisArgument], expirySet: Bool)?> = Mutex(nil)

    init(
        friendship: String,
        sender: String,
        recipient: String,
        history: String,
        friendshipKey: String,
        recipientChannel: String,
        senderChannel: String
    ) {
        self.friendshipKey = friendshipKey
        self.friendship = friendship
        self.sender = sender
        self.recipient = recipient
        self.history = history
        self.recipientChannel = recipientChannel
        self.senderChannel = senderChannel
        frameHead = ServerMessage.messageHead(friendship: friendship, from: sender, to: recipient)
    }

    /// Age retention's work for this route: its sends so far, and when it last set the stream's expiry (ms).
    private let ageState: Mutex<(sends: UInt32, expirySetAt: UInt64)> = Mutex((0, 0))

    /// What a store through this route does for age retention: trim up to the oldest id to keep (its first send and
    /// every ``Retention/ageTrimInterval``-th), and move the stream's expiry to the age plus a margin (when this route
    /// last did so over the margin ago). Any route's latest expiry is then at least the age after the newest message,
    /// and at most the margin more.
    func ageWork(now: UInt64, retention: Retention) -> (oldestKept: UInt64?, expiry: UInt64?) {
        let age = UInt64(retention.maximumAgeMilliseconds)
        let margin = retention.expiryMarginMilliseconds
        return ageState.withLock { state in
            let trims = state.sends % Retention.ageTrimInterval == 0
            state.sends &+= 1
            let expires = state.expirySetAt == 0 || now >= state.expirySetAt + margin
            if expires { state.expirySetAt = now }
            return (trims && now > age ? now - age : nil, expires ? age + margin : nil)
        }
    }

    /// The friendship, sender and recipient, which the sender's next frame most likely names again.
    var identifiers: KnownIdentifiers { KnownIdentifiers(friendship, sender, recipient) }

    /// The day's cid record keys, built once a day rather than once a message, and whether the send should set the
    /// day's bucket to expire: until one of this route's records that day has done it.
    func cidBuckets(day: Int, keys: RedisKeys) -> (keys: [RedisArgument], setsExpiry: Bool) {
        cidBuckets.withLock { cached in
            if let cached, cached.day == day { return (cached.keys, !cached.expirySet) }
            let buckets = [day, day - 1, day + 1].map { RedisArgument.string(keys.clientIDs(friendship: friendship, day: $0)) }
            cached = (day, buckets, false)
            return (buckets, true)
        }
    }

    /// A record stored with the expiry flag: later sends that day need not set it again.
    func expirySet(day: Int) {
        cidBuckets.withLock { cached in
            if cached?.day == day { cached?.expirySet = true }
        }
    }
}
