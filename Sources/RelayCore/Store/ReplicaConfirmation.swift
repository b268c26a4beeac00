import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RedisClient

/// `--min-replicas`: a stored message is acked only once `replicas` replicas have it, asked with `WAIT` on the
/// connection that stored it.
///
/// `WAIT` cannot run inside a script and blocks its connection, so stores go through a connection of their own
/// (`writer`), and one `WAIT` covers every store whose reply came before it was sent (a group commit): the replies
/// that arrive in one read share one round trip to the replicas.
final class ReplicaConfirmation: Sendable {
    let writer: RedisClient
    let replicas: Int
    /// How long a `WAIT` waits for the replicas.
    let timeoutMilliseconds: Int
    /// The waits for the next `WAIT`, not sent yet.
    private let pending = NIOLockedValueBox<[@Sendable (Bool) -> Void]>([])

    init(writer: RedisClient, replicas: Int, timeoutMilliseconds: Int) {
        self.writer = writer
        self.replicas = replicas
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    /// Calls `completion` with whether enough replicas have every write that `writer` was answered for so far. Call
    /// it from the store's reply, on the connection's event loop: the `WAIT` goes out after the current read.
    func confirm(_ completion: @escaping @Sendable (Bool) -> Void) {
        let first = pending.withLockedValue { waits in
            waits.append(completion)
            return waits.count == 1
        }
        guard first else { return }
        // Replies are handled on an event loop; a caller elsewhere gets its own WAIT at once.
        let later = MultiThreadedEventLoopGroup.currentEventLoop.map { loop in { (work: @escaping @Sendable () -> Void) in loop.execute(work) } }
        (later ?? { $0() }) { [self] in
            let waits = pending.withLockedValue { waits in
                defer { waits = [] }
                return waits
            }
            writer.send(["WAIT", .integer(replicas), .integer(timeoutMilliseconds)]) { [replicas] result in
                let confirmed = (try? result.get().int).map { $0 >= replicas } ?? false
                for wait in waits { wait(confirmed) }
            }
        }
    }
}
