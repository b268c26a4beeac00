import Logging

/// What every ``ClientSession`` of a node uses, shared: one reference per socket instead of copies of the
/// conversations, the limits, a logger and the metrics in each (a third of a kilobyte per idle socket).
final class SessionContext: Sendable {
    let conversations: Conversations
    /// Frames per second per socket, and the burst above it (0: no limit).
    let rate: Double
    let burst: Double
    let maximumContentBytes: Int
    let logger: Logger
    let metrics: RelayMetrics

    init(conversations: Conversations, configuration: RelayConfiguration, logger: Logger, metrics: RelayMetrics) {
        self.conversations = conversations
        rate = configuration.rate
        burst = configuration.burst
        maximumContentBytes = configuration.maximumContentBytes
        self.logger = logger
        self.metrics = metrics
    }
}
