import Metrics
import NIOCore

/// The client's own series, through swift-metrics (nothing is recorded until the program bootstraps a backend).
enum RedisMetrics {
    static let commands = Counter(label: "redis_commands_total")
    /// Error replies, timeouts and commands lost with their connection.
    static let failures = Counter(label: "redis_command_failures_total")
    /// From the write of a command to its reply.
    static let roundTrip = Timer(label: "redis_command_duration_seconds", preferredDisplayUnit: .seconds)
    static let reconnects = Counter(label: "redis_reconnects_total")
    static let pushes = Counter(label: "redis_pushes_total")
    /// Channels the process's subscribers are subscribed to (or will be, once reconnected).
    static let subscriptions = Meter(label: "redis_subscriptions")
}

extension Timer {
    /// Records the time from `start` to now.
    func recordInterval(since start: NIODeadline) {
        recordNanoseconds(Int64(NIODeadline.now().uptimeNanoseconds - start.uptimeNanoseconds))
    }
}
