/// The one retry policy for waiting on Redis: reconnects, and reads that must succeed before delivery goes on.
/// Delays double from `initial` up to `maximum`; each is drawn between half and all of its step, so that the many
/// feeds of a node (or the nodes of a deployment) that lost Redis together do not retry in step.
public struct Backoff: Sendable {
    public let initial: Duration
    public let maximum: Duration
    private var step: Duration

    public init(initial: Duration, maximum: Duration) {
        self.initial = initial
        self.maximum = max(initial, maximum)
        step = initial
    }

    /// The delay before the next attempt; the step after it doubles, up to the maximum.
    public mutating func nextDelay() -> Duration {
        let current = step
        step = min(step * 2, maximum)
        let half = current / 2
        let nanoseconds = Self.nanoseconds(half)
        return half + .nanoseconds(nanoseconds > 0 ? Int64.random(in: 0...nanoseconds) : 0)
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
