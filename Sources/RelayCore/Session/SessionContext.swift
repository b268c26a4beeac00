import Logging

/// What every ``ClientSession`` of a node uses, shared: one reference per socket instead of copies of the
/// conversations, the limits, a logger and the metrics in each (a third of a kilobyte per idle socket).
final class SessionContext: Sendable {
    let conversations: Conversations
    let maximumContentBytes: Int
    /// Each user's frame rate on this node, which their sessions spend.
    let allowances: UserAllowances
    /// Checks the tokens of `refresh` frames; nil under `--auth none`.
    let tokens: TokenVerifier?
    /// Holds each socket's token expiry, which a refresh moves.
    let heartbeats: HeartbeatMonitor
    let logger: Logger
    let metrics: RelayMetrics

    init(
        conversations: Conversations,
        configuration: RelayConfiguration,
        allowances: UserAllowances,
        tokens: TokenVerifier?,
        heartbeats: HeartbeatMonitor,
        logger: Logger,
        metrics: RelayMetrics
    ) {
        self.allowances = allowances
        self.tokens = tokens
        self.heartbeats = heartbeats
        self.conversations = conversations
        maximumContentBytes = configuration.maximumContentBytes
        self.logger = logger
        self.metrics = metrics
    }
}
