import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RedisClient

/// `--min-replicas`: a stored message is acked only once `replicas` replicas have it, asked with `WAIT` on the
/// connection that stored it (on a cluster, the connection to the primary of the friendship's slot).
///
/// `WAIT` cannot run inside a script and blocks its connection, so stores go through connections of their own (the
/// writer), and one `WAIT` per connection covers every store whose reply came before it was sent (a group commit):
/// the replies that arrive in one read share one round trip to the replicas.
final class ReplicaConfirmation: Sendable {
    let replicas: Int
    /// How long a `WAIT` waits for the replicas.
    let timeoutMilliseconds: Int
    /// Per connection, the waits for its next `WAIT`, not sent yet.
    private let pending = NIOLockedValueBox<[ObjectIdentifier: [@Sendable (Bool) -> Void]]>([:])

    init(replicas: Int, timeoutMilliseconds: Int) {
        self.replicas = replicas
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    /// Calls `completion` with whether enough replicas have every write that `connection` was answered for so far.
    /// Call it from the store's reply, on the connection's event loop: the `WAIT` goes out after the current read.
    func confirm(on connection: RedisClient, _ completion: @escaping @Sendable (Bool) -> Void) {
        let key = ObjectIdentifier(connection)
        let first = pending.withLockedValue { pending in
            pending[key, default: []].append(completion)
            return pending[key]!.count == 1
        }
        guard first else { return }
        let sendWait: @Sendable () -> Void = { [self] in
            let waits = pending.withLockedValue { $0.removeValue(forKey: key) } ?? []
            connection.send(["WAIT", .integer(replicas), .integer(timeoutMilliseconds)]) { [replicas] result in
                let confirmed = (try? result.get().int).map { $0 >= replicas } ?? false
                for wait in waits { wait(confirmed) }
            }
        }
        // Replies are handled on an event loop: the WAIT goes out once the read's other replies joined it. A caller
        // elsewhere gets its WAIT at once.
        if let loop = MultiThreadedEventLoopGroup.currentEventLoop { loop.execute(sendWait) } else { sendWait() }
    }
}
