import Logging
import NIOConcurrencyHelpers
import NIOCore
import RedisClient

/// The sockets open on this node, by user, and the node's subscriptions that follow them.
///
/// The first socket of a user subscribes `deliver:{user}`, the last one to close unsubscribes. (Un)subscribes are
/// issued under the registry's lock, so they reach Redis in the order sockets came and went; a socket is added
/// only once its user's subscription is confirmed.
public final class SocketRegistry: Sendable {
    private struct UserSockets {
        var sockets: [ObjectIdentifier: any RelaySocket] = [:]
        var subscribed: EventLoopFuture<Void>
    }

    private let users = NIOLockedValueBox<[String: UserSockets]>([:])
    private let keys: RedisKeys
    private let logger: Logger
    let subscriber: RedisSubscriber

    init(keys: RedisKeys, redis: RedisConfiguration, logger: Logger, onStateChange: @escaping @Sendable (RedisConnectionState) -> Void) {
        self.keys = keys
        self.logger = logger
        let users = self.users
        subscriber = RedisSubscriber(
            configuration: redis,
            logger: logger,
            onStateChange: onStateChange,
            onMessage: { message in
                SocketRegistry.dispatch(message, users: users, keys: keys)
            }
        )
    }

    public var socketCount: Int { users.withLockedValue { $0.values.reduce(0) { $0 + $1.sockets.count } } }

    /// Adds the socket once its user's channel is subscribed; throws (and leaves nothing behind) when it cannot be.
    public func add(_ socket: any RelaySocket) async throws {
        let channel = keys.deliver(socket.userID)
        while true {
            let subscribed = users.withLockedValue { users -> EventLoopFuture<Void> in
                if let entry = users[socket.userID] { return entry.subscribed }
                let future = subscriber.subscribeFuture([channel])
                users[socket.userID] = UserSockets(subscribed: future)
                return future
            }
            do {
                try await subscribed.get()
            } catch {
                // Forget the failed attempt unless other sockets of the user are already in.
                users.withLockedValue { users in
                    if users[socket.userID]?.sockets.isEmpty == true, users[socket.userID]?.subscribed === subscribed {
                        users[socket.userID] = nil
                        _ = subscriber.unsubscribeFuture([channel])
                    }
                }
                throw error
            }
            let added = users.withLockedValue { users -> Bool in
                // The user's last other socket may have closed (and unsubscribed) while this one waited: go again.
                guard users[socket.userID]?.subscribed === subscribed else { return false }
                users[socket.userID]?.sockets[ObjectIdentifier(socket)] = socket
                return true
            }
            if added { return }
        }
    }

    public func remove(_ socket: any RelaySocket) {
        users.withLockedValue { users in
            guard var entry = users[socket.userID], entry.sockets.removeValue(forKey: ObjectIdentifier(socket)) != nil else { return }
            if entry.sockets.isEmpty {
                users[socket.userID] = nil
                _ = subscriber.unsubscribeFuture([keys.deliver(socket.userID)])
            } else {
                users[socket.userID] = entry
            }
        }
    }

    public func allSockets() -> [any RelaySocket] {
        users.withLockedValue { $0.values.flatMap { $0.sockets.values } }
    }

    private static func dispatch(_ message: RedisPubSubMessage, users: NIOLockedValueBox<[String: UserSockets]>, keys: RedisKeys) {
        if message.channel == keys.broadcast {
            let text = String(buffer: message.payload)
            for socket in users.withLockedValue({ $0.values.flatMap { $0.sockets.values } }) { socket.send(text) }
            return
        }
        guard let userID = keys.userID(ofDeliverChannel: message.channel) else { return }
        let sockets = users.withLockedValue { $0[userID].map { Array($0.sockets.values) } ?? [] }
        guard !sockets.isEmpty else { return }
        let frame = PublishedFrame(message.payload)
        for socket in sockets where frame.origin.map({ $0 != socket.id }) ?? true {
            socket.send(frame.text)
        }
    }
}
