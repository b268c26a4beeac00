import Metrics

/// A client's own series, through swift-metrics, labelled with its role (`commands` or `subscriber`): made when the
/// client is, so a backend lists them at zero from the start.
final class RedisMetrics: Sendable {
    let commands: Counter
    /// Error replies, timeouts and commands lost with their connection.
    let failures: Counter
    /// From the write of a command to its reply.
    let roundTrip: Timer
    let reconnects: Counter
    let pushes: Counter
    /// Channels the subscriber is subscribed to (or will be, once reconnected).
    let subscriptions: Meter
    /// Times the connection left a server that stopped being the master (a Sentinel named another, or it answered
    /// `READONLY`).
    let masterChanges: Counter

    init(_ settings: RedisMetricsSettings, role: String) {
        let dimensions = settings.dimensions + [("role", role)]
        let factory = settings.factory
        commands = Counter(label: "redis_commands_total", dimensions: dimensions, factory: factory)
        failures = Counter(label: "redis_command_failures_total", dimensions: dimensions, factory: factory)
        roundTrip = Timer(label: "redis_command_duration_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds, factory: factory)
        reconnects = Counter(label: "redis_reconnects_total", dimensions: dimensions, factory: factory)
        pushes = Counter(label: "redis_pushes_total", dimensions: dimensions, factory: factory)
        subscriptions = Meter(label: "redis_subscriptions", dimensions: dimensions, factory: factory)
        masterChanges = Counter(label: "redis_master_changes_total", dimensions: dimensions, factory: factory)
        subscriptions.set(0)
    }
}
