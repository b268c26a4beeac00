import Logging
import RedisClient
import ServiceLifecycle
import Synchronization

/// Who is online, across nodes: this node's share of it, and the sweeping of nodes that died without saying so.
///
/// The registry reports a user's first socket on this node (``arrived(_:)``) and their last one leaving
/// (``left(_:)``); each is one script in the user's slot (``PresenceScripts``), which announces the change to every
/// friend when the user's online state changed. Those calls and the renewals are issued under one lock, so that a
/// renewal never reaches Redis after the user's departure and brings them back.
///
/// A service: ``run()`` renews this instance's lease in the node set every half heartbeat period (the lease lasts a
/// period and 3 s), and takes the users of instances whose lease ran out offline. A node killed with `kill -9`
/// therefore has its users announced offline within 1.5 periods and 3 s, inside the contract's two periods and 5 s.
/// The users' own leases only make a dead node's entries expire when no node is left to sweep them, so they are
/// long (15 periods) and renewed every 5 periods: a node with 10,000 users renews 200 of them a second, not 2,000.
public final class Presence: Sendable {
    private let redis: any RedisCommands
    private let publisher: Publisher
    private let keys: RedisKeys
    /// This process's name in Redis: the node id and a random suffix, so that a restarted node with the same id
    /// never renews or removes its predecessor's leases.
    public let instance: String
    /// This instance's lease in the node set, and how often it is renewed (with the sweep).
    private let nodeLease: Int
    private let tick: Duration
    /// A user's lease, renewed every ``userRenewalTicks`` ticks.
    private let userLease: Int
    static let userRenewalTicks = 10
    private let logger: Logger
    private let metrics: RelayMetrics
    /// The users with sockets here.
    private let users = Mutex(Set<String>())
    /// Ticks since the users' leases were last renewed.
    private let ticksSinceUserRenewal = Mutex(0)

    init(redis: any RedisCommands, publisher: Publisher, keys: RedisKeys, nodeID: String, heartbeat: Double, logger: Logger, metrics: RelayMetrics) {
        self.redis = redis
        self.publisher = publisher
        self.keys = keys
        instance = "\(nodeID)-\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
        nodeLease = Int(heartbeat * 1000) + 3000
        tick = .milliseconds(Int64(heartbeat * 500))
        userLease = Int(heartbeat * 15_000) + 3000
        self.logger = logger
        self.metrics = metrics
    }

    /// The user's first socket on this node is open.
    func arrived(_ user: String) {
        users.withLock { users in
            users.insert(user)
            announceHere(user)
            _ = redis.send(["SADD", .string(keys.nodeUsers(instance)), .string(user)])
        }
    }

    /// The user's last socket on this node closed.
    func left(_ user: String) {
        users.withLock { users in
            users.remove(user)
            announceGone(user, instance: instance)
            _ = redis.send(["SREM", .string(keys.nodeUsers(instance)), .string(user)])
        }
    }

    /// Whether each user holds a live lease now (one pipelined read for all of them).
    public func areOnline(_ userIDs: [String]) async throws -> [Bool] {
        let now = Int(WallClock.milliseconds)
        let counts = userIDs.map { redis.send(["ZCOUNT", .string(keys.presence($0)), .integer(now), "+inf"]) }
        var result: [Bool] = []
        for count in counts { result.append((try await count.get().int ?? 0) > 0) }
        return result
    }

    /// Called under the lock: the order of these calls is the order Redis sees them in.
    private func announceHere(_ user: String) {
        announce(user, online: true, instance: instance, extra: [.integer(userLease), .integer(2 * userLease)])
    }

    private func announceGone(_ user: String, instance: String) {
        announce(user, online: false, instance: instance)
    }

    /// Runs ``PresenceScripts/here`` or ``PresenceScripts/gone``, which share their keys and first arguments.
    private func announce(_ user: String, online: Bool, instance: String, extra: [RedisArgument] = []) {
        let frame = ServerMessage.presence(user: user, online: online, timestamp: Self.now())
        redis.evaluate(
            online ? PresenceScripts.here : PresenceScripts.gone,
            keys: [.string(keys.presence(user)), .string(keys.friends(user))],
            arguments: [.string(instance), .string(frame), publisher.scriptChannel(keys.deliverPrefix)] + extra
        ) { [metrics, logger, publisher, keys] result in
            switch result {
            case .success(let reply):
                if let friends = reply.array {
                    for case let friend? in friends.map(\.string) { publisher.publish(.string(frame), to: keys.deliver(friend)) }
                } else if reply.int != 1 {
                    return
                }
                metrics.presenceAnnounced(online: online)
            case .failure(let error): logger.debug("presence not written", metadata: ["user": "\(user)", "online": "\(online)", "error": "\(error)"])
            }
        }
    }

    /// Renews this instance's lease, and its users' leases when they are due (or when this instance was swept or is
    /// new), and sweeps dead instances. Public so that tests drive it without waiting.
    public func renew() async throws {
        let reply = try await redis.run(PresenceScripts.nodeLease, keys: [.string(keys.nodes)], arguments: [.string(instance), .integer(nodeLease)])
        guard let parts = reply.array, parts.count == 2 else { throw RedisClientError(.unexpectedReply, "presence lease: \(reply)") }
        // A new entry: the first renewal, or this node stalled past its lease and was swept (its users with it).
        let wasSwept = parts[0] == .integer(1)
        let due = ticksSinceUserRenewal.withLock { ticks in
            ticks += 1
            guard wasSwept || ticks >= Self.userRenewalTicks else { return false }
            ticks = 0
            return true
        }
        if due { renewUsers(readding: wasSwept) }
        for case let other? in (parts[1].array ?? []).map(\.string) where other != instance {
            try await sweep(other)
        }
    }

    private func renewUsers(readding: Bool) {
        let members = users.withLock { users in
            for user in users { announceHere(user) }
            return Array(users)
        }
        guard readding else { return }
        for chunk in stride(from: 0, to: members.count, by: 1000) {
            let arguments = members[chunk..<min(chunk + 1000, members.count)].map { RedisArgument.string($0) }
            _ = redis.send(["SADD", .string(keys.nodeUsers(instance))] + arguments)
        }
    }

    /// Takes the users of a dead instance offline, once: whichever node removes it from the node set does it.
    private func sweep(_ deadInstance: String) async throws {
        guard try await redis.command(["ZREM", .string(keys.nodes), .string(deadInstance)]) == .integer(1) else { return }
        let usersKey = keys.nodeUsers(deadInstance)
        let stranded = (try await redis.command("SMEMBERS", .string(usersKey)).array ?? []).compactMap(\.string)
        logger.info("a node's lease ran out; taking its users offline", metadata: ["instance": "\(deadInstance)", "users": "\(stranded.count)"])
        metrics.nodesSwept.increment()
        for user in stranded { announceGone(user, instance: deadInstance) }
        _ = try await redis.command("DEL", .string(usersKey))
    }

    private static func now() -> Int { Int(WallClock.milliseconds) }
}

extension Presence: Service {
    /// Renews the leases until graceful shutdown, then gives this instance's lease up (its users left as their sockets
    /// closed in the drain).
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await self.renew()
                } catch {
                    self.logger.debug("presence renewal failed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: self.tick)
            }
        }
        for user in users.withLock({ Array($0) }) { left(user) }
        _ = try? await redis.command("ZREM", .string(keys.nodes), .string(instance))
        _ = try? await redis.command("DEL", .string(keys.nodeUsers(instance)))
    }
}
