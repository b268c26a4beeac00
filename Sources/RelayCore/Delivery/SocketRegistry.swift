import ChatProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore
import RedisClient
import ServiceLifecycle

/// The sockets open on this node, by user, and the node's subscriptions that follow them.
///
/// The first socket of a user subscribes `deliver:{user}`, the last one to close unsubscribes (``SubscriptionTable``
/// decides). Its actions are carried out under the registry's lock (``perform(_:in:)``), so they reach Redis in the
/// order sockets came and went. A socket joins once
/// its user's subscription is confirmed, with a baseline from Redis's clock: its ``SocketFeed`` fills anything
/// stored after that which pub/sub did not bring. When the subscriber loses its connection every feed holds its
/// live frames, and when it is back every feed catches up from the streams, then lets them through.
///
/// A service: ``run()`` keeps the subscriber's connection and runs the catch-ups after its reconnects, until graceful
/// shutdown.
public final class SocketRegistry: Sendable {
    private struct State {
        /// By the user's `deliver` channel, which is what every published frame names: the frame's path needs no user
        /// id cut out of the channel name.
        var table = SubscriptionTable<SocketFeed>()
        /// The confirmation of each subscription in the table, by generation.
        var confirmations: [UInt64: EventLoopFuture<Void>] = [:]
        /// Drains waiting for the last socket to go, by number (a drain that gives up takes its own out).
        var emptyWaiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
    }

    private let state = NIOLockedValueBox(State())
    private let keys: RedisKeys
    private let logger: Logger
    private let store: MessageStore
    private let directory: Directory
    /// Forgets a friendship when its `unfriended` frame passes through.
    private let friendships: FriendshipCache
    let subscriber: any DeliverySubscriber
    private let feedContext: FeedContext
    /// Told of each user's first socket here and of their last one leaving.
    let presence: Presence
    /// Proves the subscriptions deliver.
    let probe: SubscriptionProbe
    /// One element per resumed subscription (nil: all of them): their sockets catch up from the streams.
    private let catchUpsDue: AsyncStream<[String]?>

    private let metrics: RelayMetrics
    /// Milliseconds taken off a socket's baseline (``redisNow()``): on a cluster, how far primaries' clocks may differ.
    private let clockSkewAllowance: UInt64

    /// `makeSubscriber` builds the node's subscriber around the events the registry handles.
    init(
        keys: RedisKeys,
        store: MessageStore,
        directory: Directory,
        friendships: FriendshipCache,
        logger: Logger,
        metrics: RelayMetrics,
        presence: Presence,
        probe: SubscriptionProbe,
        clockSkewAllowance: UInt64 = 0,
        makeSubscriber: (DeliverySubscriberEvents) -> any DeliverySubscriber
    ) {
        self.metrics = metrics
        self.presence = presence
        self.probe = probe
        self.clockSkewAllowance = clockSkewAllowance
        self.keys = keys
        self.logger = logger
        self.store = store
        self.directory = directory
        self.friendships = friendships
        feedContext = FeedContext(store: store, logger: logger, metrics: metrics)
        let registryState = self.state
        let (catchUpsDue, catchUpDue) = AsyncStream.makeStream(of: [String]?.self)
        self.catchUpsDue = catchUpsDue
        subscriber = makeSubscriber(
            DeliverySubscriberEvents(
                interrupted: { channels in
                    // From here these feeds hold their live frames until their catch-up has read the streams.
                    let feeds = registryState.withLockedValue { state in
                        channels.map { $0.flatMap { state.table.members(of: $0) } } ?? state.table.allMembers
                    }
                    for feed in feeds { feed.holdUntilCatchUp() }
                },
                resumed: { channels in catchUpDue.yield(channels) },
                finished: { catchUpDue.finish() },
                message: { message in
                    SocketRegistry.dispatch(consume message, state: registryState, keys: keys, probe: probe, friendships: friendships)
                }
            )
        )
    }

    public var socketCount: Int { state.withLockedValue { $0.table.memberCount } }

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
            let (generation, confirmed) = state.withLockedValue { state in
                // Adding always subscribes or joins, so there is a subscription to wait for.
                perform(state.table.add(feed, to: channel), for: socket.userID, in: &state)!
            }
            do {
                try await confirmed.get()
            } catch {
                remove(socket)
                throw error
            }
            // The user's last other socket may have closed (and unsubscribed) while this one waited: go again.
            if state.withLockedValue({ $0.table.generation(of: channel) == generation }) { break }
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
        let (removed, drains) = state.withLockedValue { state -> (SocketFeed?, [CheckedContinuation<Void, Never>]) in
            guard let (feed, action) = state.table.removeFirst(from: channel, where: { $0.socket === socket }) else { return (nil, []) }
            perform(action, for: socket.userID, in: &state)
            guard state.table.memberCount == 0 else { return (feed, []) }
            defer { state.emptyWaiters = [:] }
            return (feed, Array(state.emptyWaiters.values))
        }
        removed?.close()
        for drain in drains { drain.resume() }
    }

    /// Returns once no socket is left, or after `grace`.
    func waitUntilEmpty(within grace: Duration) async {
        let number = state.withLockedValue { state -> UInt64? in
            guard state.table.memberCount > 0 else { return nil }
            state.nextWaiter += 1
            return state.nextWaiter
        }
        guard let number else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(for: grace)
                self.state.withLockedValue { $0.emptyWaiters.removeValue(forKey: number) }?.resume()
            }
            await withCheckedContinuation { waiter in
                let emptyAlready = state.withLockedValue { state -> Bool in
                    guard state.table.memberCount > 0 else { return true }
                    state.emptyWaiters[number] = waiter
                    return false
                }
                if emptyAlready { waiter.resume() }
            }
            group.cancelAll()
        }
    }

    public func allSockets() -> [any RelaySocket] {
        state.withLockedValue { $0.table.allMembers.map(\.socket) }
    }

    /// Carries out one of the table's actions for `user`'s channel, under the lock, so that Redis hears them (and the
    /// presence changes that go with them) in the table's order. Returns the subscription a subscribing or joining
    /// socket waits for.
    @discardableResult
    private func perform(
        _ action: SubscriptionTable<SocketFeed>.Action,
        for user: String,
        in state: inout State
    ) -> (generation: UInt64, confirmed: EventLoopFuture<Void>)? {
        switch action {
        case .subscribe(let channel, let generation):
            metrics.users.increment()
            let confirmed = subscriber.subscribe(channel)
            state.confirmations[generation] = confirmed
            presence.arrived(user)
            return (generation, confirmed)
        case .join(let generation):
            return (generation, state.confirmations[generation]!)
        case .unsubscribe(let channel, let generation):
            metrics.users.decrement()
            presence.left(user)
            state.confirmations[generation] = nil
            subscriber.unsubscribe(channel)
            return nil
        case .nothing:
            return nil
        }
    }

    /// The id just before Redis's current millisecond: entries stored from now on come after it.
    func redisNow() async throws -> StreamID {
        let reply = try await store.redis.command(["TIME"])
        guard let parts = reply.array, parts.count == 2, let seconds = parts[0].string.flatMap({ UInt64($0) }),
            let micros = parts[1].string.flatMap({ UInt64($0) })
        else { throw RedisClientError(.unexpectedReply, "TIME answered \(reply)") }
        return .before(milliseconds: seconds * 1000 + micros / 1000 - clockSkewAllowance)
    }

    private static func dispatch(
        _ message: consuming RedisPubSubMessage,
        state: NIOLockedValueBox<State>,
        keys: RedisKeys,
        probe: SubscriptionProbe,
        friendships: FriendshipCache
    ) {
        if message.channel == keys.broadcast {
            for feed in state.withLockedValue({ $0.table.allMembers }) { feed.socket.send(frame: message.payload) }
            return
        }
        let feeds = state.withLockedValue { $0.table.members(of: message.channel) }
        guard let userID = feeds.first?.socket.userID else {
            if probe.isProbe(message.channel) { probe.received(String(buffer: message.payload), on: message.channel) }
            return
        }
        if isEvent(message.payload) {
            let frame = message.payload.readableBytesView
            if frame.elementsEqual(sessionEnded) {
                for feed in feeds { feed.socket.close(.disconnected) }
                return
            }
            if frame.elementsEqual(sessionErased) {
                for feed in feeds { feed.socket.close(.erased) }
                return
            }
            if frame.starts(with: unfriendedPrefix) {
                let id = frame.dropFirst(unfriendedPrefix.count).prefix { $0 != UInt8(ascii: "\"") }
                friendships.forget(String(decoding: id, as: UTF8.self))
            }
            // Presence, typing and read marks are not messages: no order to keep, nothing to fill.
            for feed in feeds { feed.socket.send(frame: message.payload) }
            return
        }
        // Handed over, not copied: the frame goes out from the payload's own buffer, its header in the room in front.
        let payload = message.payload
        _ = consume message
        guard let frame = PublishedMessage(consume payload, owner: userID) else { return }
        for feed in feeds { feed.deliver(frame) }
    }

    private static let eventPrefix = Array(#"{"op":"#.utf8)
    /// An admin ended the user's sessions (``SessionControl``).
    private static let sessionEnded = Array(ServerMessage.sessionEnded.utf8)
    private static let sessionErased = Array(ServerMessage.sessionErased.utf8)
    /// An ended friendship (``ServerMessage/unfriended(friendship:)``), which this node forgets as the frame passes.
    private static let unfriendedPrefix = Array(#"{"op":"unfriended","friend":""#.utf8)

    /// A frame such as `{"op":"presence",...}` rather than a delivered message (`{"id":...}`).
    private static func isEvent(_ payload: ByteBuffer) -> Bool {
        payload.readableBytesView.starts(with: eventPrefix)
    }

    /// After the subscriptions of `channels` (nil: all) resumed: their sockets read their friendships' streams from
    /// where they are. One user at a time, each user's sockets together.
    private func catchUp(channels: [String]?) async {
        let wanted = channels.map(Set.init)
        let byUser = state.withLockedValue { state in
            state.table.membersByChannel.compactMap { entry in
                wanted?.contains(entry.channel) == false ? nil : entry.members.first.map { ($0.socket.userID, entry.members) }
            }
        }
        guard !byUser.isEmpty else { return }
        logger.info("subscriber reconnected; catching sockets up from the streams", metadata: ["users": "\(byUser.count)"])
        for (userID, feeds) in byUser {
            let friendships = (try? await directory.friendshipIDs(of: userID)) ?? []
            await withTaskGroup(of: Void.self) { group in
                for feed in feeds { group.addTask { await feed.catchUp(friendships: friendships) } }
            }
        }
    }
}

extension SocketRegistry: Service {
    /// Keeps the subscriber's connection, and catches the sockets up after each of its reconnects, until graceful
    /// shutdown.
    public func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await self.subscriber.run() }
            group.addTask { await cancelWhenGracefulShutdown { await self.probe.run(subscriber: self.subscriber) } }
            group.addTask {
                // Ends when the subscriber shuts down.
                for await channels in self.catchUpsDue { await self.catchUp(channels: channels) }
            }
        }
    }
}
