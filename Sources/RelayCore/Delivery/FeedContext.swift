import Logging
import Synchronization

/// What every ``SocketFeed`` of a node needs: the message store to fill gaps from, where to log, what to count, how
/// long a gap waits before a fill.
final class FeedContext: Sendable {
    let store: MessageStore
    let logger: Logger
    let metrics: RelayMetrics
    /// How long frames behind a gap wait for the missing one to come live before a fill reads it. Two nodes'
    /// publishes that cross arrive within milliseconds; a saturated node's store replies may take tenths of a second,
    /// and while one is pending the machine waits again by itself.
    let gapGrace: Duration

    init(store: MessageStore, logger: Logger, metrics: RelayMetrics = .discarding, gapGrace: Duration = .milliseconds(100)) {
        self.store = store
        self.logger = logger
        self.metrics = metrics
        self.gapGrace = gapGrace
    }
}
