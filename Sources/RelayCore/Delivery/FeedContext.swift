import Logging
import Synchronization

/// What every ``SocketFeed`` of a node needs: the message store to fill gaps from, where to log, what to count.
final class FeedContext: Sendable {
    let store: MessageStore
    let logger: Logger
    let metrics: RelayMetrics

    init(store: MessageStore, logger: Logger, metrics: RelayMetrics = .discarding) {
        self.store = store
        self.logger = logger
        self.metrics = metrics
    }
}
