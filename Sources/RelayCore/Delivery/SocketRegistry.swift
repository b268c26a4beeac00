import Logging
import NIOConcurrencyHelpers
import NIOCore
import RedisClient

/// The sockets open on this node, by user, and the node's subscriptions that follow them.
///
/// The first socket of a user subscribes `deliver:{user}`, the last one to close unsubscribes. (Un)subscribes are
/// issued under the registry's lock, so they reach Redis in the order sockets came and went. A socket joins once
/// its user's subscription is confirmed, with a baseline from Redis's clock: its ``SocketFeed`` fills anything
/// stored after that which pub/sub did not bring. When the subscriber loses its connection every feed holds its
/// live frames, and when it is back every feed catches up from the streams, then lets them through.
public final class SocketRegistry: Sendable {
    private struct UserSockets {
        /// Usually one; an array costs less than a dictionary per user and copies without allocating.
        var feeds: [SocketFeed] = []
        var subscribed: EventLoopFuture<Void>
    }

    /// By the user's `deliver` channel, which is what every published frame names: the frame's path needs no user
    /// id cut out of the channel name.
    private let users = NIOLockedValueBox<[String: UserSockets]>([:])
    private let keys: RedisKeys
    private let logger: Logger
    private let store: MessageStore
    private let directory: Directory
    let subscriber: RedisSubscriber
    private let feedContext: FeedContext

    init(keys: RedisKeys, redis: RedisConfiguration, store: MessageStore, directory: Directory, logger: Logger) {
        self.keys = keys
        self.logger = logger
        self.store = store
        self.directory = directory
        feedContext = FeedContext(store: store, logger: logger)
        let users = self.users
        let hasConnected = NIOLockedValueBox(false)
        subscriber = RedisSubscriber(
            configuration: redis,
            logger: logger,
            onStateChange: { state in
                if state == .reconnecting {
                    // Called once the lost connection's last push is dispatched, before the new connection exists:
                    // from here every feed holds its live frames until its catch-up has read the streams.
                    for feed in users.withLockedValue({ $0.values.flatMap(\.feeds) }) { feed.holdUntilCatchUp() }
                }
                guard state == .connected else { return }
                // The first connection has nothing to catch up on; a reconnection may have missed publishes.
                let reconnected = hasConnected.withLockedValue { seen in
                    defer { seen = true }
                    return seen
                }
                if reconnected { SocketRegistry.catchUp(users: users, directory: directory, logger: logger) }
            },
            onMessage: { message in
                SocketRegistry.dispatch(consume message, users: users, keys: keys)
            }
        )
    }

    public var socketCount: Int { users.withLockedValue { $0.values.reduce(0) { $0 + $1.feeds.count } } }

    /// Adds the socket: it receives every message of its friendships stored after `openedAfter` (Redis's clock,
    /// read before the upgrade was answered; see ``Relay/openingInstant()``).
    ///
    /// The feed joins at once, the user's channel is subscribed, and then the feed
    /// reads the streams from the baseline: whatever was stored before the subscription was live comes from there,
    /// the rest live, in order and once. Throws (and leaves nothing behind) when Redis cannot be reached.
    func add(_ socket: any RelaySocket, openedAfter: StreamID) async throws -> SocketFeed {
        let channel = keys.deliver(socket.userID)
        let feed = SocketFeed(socket: socket, openedAfter: openedAfter, context: feedContext)
        while true {
            let subscribed = users.withLockedValue { users -> EventLoopFuture<Void> in
                let future = users[channel]?.subscribed ?? subscriber.subscribeFuture([channel])
                if users[channel] == nil { users[channel] = UserSockets(subscribed: future) }
                users[channel]?.feeds.removeAll { $0.socket === socket }
                users[channel]?.feeds.append(feed)
                return future
            }
            do {
                try await subscribed.get()
            } catch {
                remove(socket)
                throw error
            }
            let stillSubscribed = users.withLockedValue { users -> Bool in
                // The user's last other socket may have closed (and unsubscribed) while this one waited: go again.
                users[channel]?.subscribed === subscribed
            }
            if stillSubscribed { break }
        }
        let friendships: [String]
        do {
            friendships = try await directory.friendshipIDs(of: socket.userID)
        } catch {
            // The feed holds its frames until its first catch-up: it must not stay registered without one.
            remove(socket)
            throw error
        }
        await feed.catchUp(friendships: friendships)
        return feed
    }

    public func remove(_ socket: any RelaySocket) {
        let channel = keys.deliver(socket.userID)
        users.withLockedValue { users in
            guard var entry = users[channel], let index = entry.feeds.firstIndex(where: { $0.socket === socket }) else { return }
            let feed = entry.feeds.remove(at: index)
            feed.close()
            if entry.feeds.isEmpty {
                users[channel] = nil
                _ = subscriber.unsubscribeFuture([channel])
            } else {
                users[channel] = entry
            }
        }
    }

    public func allSockets() -> [any RelaySocket] {
        users.withLockedValue { $0.values.flatMap { $0.feeds.map(\.socket) } }
    }

    /// The id just before Redis's current millisecond: entries stored from now on come after it.
    func redisNow() async throws -> StreamID {
        let reply = try await store.redis.command("TIME")
        guard let parts = reply.array, parts.count == 2, let seconds = parts[0].string.flatMap({ UInt64($0) }),
            let micros = parts[1].string.flatMap({ UInt64($0) })
        else { throw RedisClientError(.unexpectedReply, "TIME answered \(reply)") }
        return .before(milliseconds: seconds * 1000 + micros / 1000)
    }

    private static func dispatch(_ message: consuming RedisPubSubMessage, users: NIOLockedValueBox<[String: UserSockets]>, keys: RedisKeys) {
        if message.channel == keys.broadcast {
            for feed in users.withLockedValue({ $0.values.flatMap { $0.feeds } }) { feed.socket.send(frame: message.payload) }
            return
        }
        let feeds = users.withLockedValue { $0[message.channel]?.feeds ?? [] }
        guard let userID = feeds.first?.socket.userID else { return }
        // Handed over, not copied: the frame goes out from the payload's own buffer, its header in the room in front.
        let payload = message.payload
        _ = consume message
        guard let frame = PublishedFrame(consume payload, owner: userID) else { return }
        for feed in feeds { feed.deliver(frame) }
    }

    private static func catchUp(users: NIOLockedValueBox<[String: UserSockets]>, directory: Directory, logger: Logger) {
        let byUser = users.withLockedValue { users in
            Dictionary(uniqueKeysWithValues: users.values.compactMap { entry in entry.feeds.first.map { ($0.socket.userID, entry.feeds) } })
        }
        guard !byUser.isEmpty else { return }
        logger.info("subscriber reconnected; catching sockets up from the streams", metadata: ["users": "\(byUser.count)"])
        Task {
            for (userID, feeds) in byUser {
                let friendships = (try? await directory.friendshipIDs(of: userID)) ?? []
                for feed in feeds { await feed.catchUp(friendships: friendships) }
            }
        }
    }
}
