import ServiceLifecycle
import Synchronization

/// What a cluster keeps one of per node: a command client or a subscriber.
protocol ClusterNodeConnection: Sendable {
    func connect() async throws
    func run() async throws
    func shutdown() async
}

extension RedisClient: ClusterNodeConnection {}
extension RedisSubscriber: ClusterNodeConnection {}

/// One long-lived connection per cluster node, made and connected the first time the node is asked for; ``run(alongside:)``
/// keeps every one of them (reconnecting) until graceful shutdown.
final class ClusterNodeConnections<Connection: ClusterNodeConnection>: Sendable {
    private let connections = Mutex<[RedisEndpoint: Connection]>([:])
    private let made = AsyncStream.makeStream(of: Connection.self)

    /// The node's connection, if one was made.
    func existing(_ node: RedisEndpoint) -> Connection? {
        connections.withLock { $0[node] }
    }

    /// The node's connection; `make` builds it the first time, and it is connected before it is handed out. Two
    /// callers racing for a new node get the same one.
    func connection(for node: RedisEndpoint, make: () -> Connection) async throws -> Connection {
        if let known = existing(node) { return known }
        let fresh = make()
        try await fresh.connect()
        let (kept, isNew) = connections.withLock { connections -> (Connection, Bool) in
            if let raced = connections[node] { return (raced, false) }
            connections[node] = fresh
            return (fresh, true)
        }
        if isNew { made.continuation.yield(fresh) } else { await fresh.shutdown() }
        return kept
    }

    /// Closes every connection made so far.
    func shutdown() async {
        for connection in connections.withLock({ Array($0.values) }) { await connection.shutdown() }
    }

    /// Runs every connection, made before or during the call, and `work` beside them, until graceful shutdown.
    func run(alongside work: @escaping @Sendable () async -> Void) async {
        await withDiscardingTaskGroup { group in
            group.addTask {
                await cancelWhenGracefulShutdown { await work() }
                self.made.continuation.finish()
            }
            for await connection in made.stream {
                group.addTask { try? await connection.run() }
            }
        }
    }
}
