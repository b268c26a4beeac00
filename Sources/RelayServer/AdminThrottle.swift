import NIOConcurrencyHelpers

/// Slows down guessing the admin token: after ``allowedFailures`` wrong admin tokens from one address within
/// ``window``, that address's admin requests are answered 429 for ``penalty`` (a right token included, so that the
/// guess that happens to be right tells nothing).
final class AdminThrottle: Sendable {
    static let allowedFailures = 10
    static let window = Duration.seconds(60)
    static let penalty = Duration.seconds(60)
    /// Past this many addresses the expired ones are swept (a failure's record lives one window).
    private static let sweepAbove = 1024

    private struct Record {
        var failures: [ContinuousClock.Instant] = []
        var blockedUntil: ContinuousClock.Instant?
    }

    private let records = NIOLockedValueBox<[String: Record]>([:])

    func isBlocked(_ address: String, now: ContinuousClock.Instant = .now) -> Bool {
        records.withLockedValue { records in
            guard let until = records[address]?.blockedUntil else { return false }
            if now < until { return true }
            records[address] = nil
            return false
        }
    }

    func failed(_ address: String, now: ContinuousClock.Instant = .now) {
        records.withLockedValue { records in
            if records.count > Self.sweepAbove { Self.sweep(&records, now: now) }
            var record = records[address] ?? Record()
            record.failures = record.failures.filter { now - $0 < Self.window } + [now]
            if record.failures.count >= Self.allowedFailures {
                record.blockedUntil = now + Self.penalty
                record.failures = []
            }
            records[address] = record
        }
    }

    private static func sweep(_ records: inout [String: Record], now: ContinuousClock.Instant) {
        records = records.filter { _, record in
            if let until = record.blockedUntil, now < until { return true }
            return record.failures.contains { now - $0 < window }
        }
    }
}
