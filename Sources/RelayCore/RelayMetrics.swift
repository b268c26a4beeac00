import Metrics

/// The node's counters and gauges, through swift-metrics (exported as Prometheus text by the surface).
enum RelayMetrics {
    static let storedMessages = Counter(label: "chatrelay_messages_stored_total")
    static let duplicateSends = Counter(label: "chatrelay_duplicate_sends_total")
    /// Moved by one on every open and close, rather than recounting every user's sockets each time.
    static let openSockets = Meter(label: "chatrelay_open_sockets")

    static func stored(isNew: Bool) {
        (isNew ? storedMessages : duplicateSends).increment()
    }
}
