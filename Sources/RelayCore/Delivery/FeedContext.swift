import Logging
import Synchronization

/// What every ``SocketFeed`` of a node needs: the message store to fill gaps from, and where to log.
final class FeedContext: Sendable {
    let store: MessageStore
    let logger: Logger

    init(store: MessageStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }
}
