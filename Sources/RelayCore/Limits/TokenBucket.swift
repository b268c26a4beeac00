/// A token bucket: `rate` frames per second on average, bursts of up to `burst`.
///
/// A value type that its owner keeps; it is given the time, so it is tested without clocks.
public struct TokenBucket: Sendable {
    public let rate: Double
    public let burst: Double
    private var level: Level

    public init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = max(1, burst)
        level = Level(burst: burst)
    }

    /// Takes one token if there is one.
    public mutating func take(now: ContinuousClock.Instant = .now) -> Bool {
        level.take(now: now, rate: rate, burst: burst)
    }

    /// What a bucket holds, without its rate and burst: for many buckets that share one rate (a node's users), kept
    /// small because there is one per user.
    public struct Level: Sendable {
        private var tokens: Double
        private var last: ContinuousClock.Instant?

        public init(burst: Double) {
            tokens = max(1, burst)
        }

        /// Refills for the time since the last take, then takes one token if there is one; `rate` 0 takes always.
        public mutating func take(now: ContinuousClock.Instant, rate: Double, burst: Double) -> Bool {
            if rate <= 0 { return true }
            if let last {
                let elapsed = now - last
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                tokens = min(max(1, burst), tokens + seconds * rate)
            }
            last = now
            guard tokens >= 1 else { return false }
            tokens -= 1
            return true
        }
    }
}
