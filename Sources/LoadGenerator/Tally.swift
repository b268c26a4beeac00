import ChatClient
import NIOConcurrencyHelpers

/// Counts and latencies of the whole run; only messages sent after the warm-up are measured.
final class Tally: Sendable {
    private struct Counts {
        var sent = 0
        var acked = 0
        var rejected = 0
        var delivered = 0
        var duplicated = 0
        var reordered = 0
        var latencies: [Double] = []
        var ackLatencies: [Double] = []
    }

    let warmupEnd: UInt64
    private let counts = NIOLockedValueBox(Counts())

    init(warmupEnd: UInt64) {
        self.warmupEnd = warmupEnd
    }

    func isMeasured(_ sentAt: UInt64) -> Bool { sentAt >= warmupEnd }

    func sent(at time: UInt64) {
        guard isMeasured(time) else { return }
        counts.withLockedValue { $0.sent += 1 }
    }

    func answered(sentAt: UInt64, now: UInt64, accepted: Bool) {
        guard isMeasured(sentAt) else { return }
        counts.withLockedValue {
            if accepted {
                $0.acked += 1
                $0.ackLatencies.append(Double(now &- sentAt) / 1e6)
            } else {
                $0.rejected += 1
            }
        }
    }

    func delivered(sentAt: UInt64, now: UInt64, duplicate: Bool, reordered: Bool) {
        counts.withLockedValue {
            // Duplicates and reordering count whenever they happen; deliveries and latency only when measured.
            if duplicate { $0.duplicated += 1 }
            if reordered { $0.reordered += 1 }
            guard !duplicate, isMeasured(sentAt) else { return }
            $0.delivered += 1
            $0.latencies.append(Double(now &- sentAt) / 1e6)
        }
    }

    func report(senders: [Sender]) -> ChatLoadReport {
        var report = ChatLoadReport()
        counts.withLockedValue {
            report.sent = $0.sent
            report.acked = $0.acked
            report.rejected = $0.rejected
            report.delivered = $0.delivered
            report.duplicated = $0.duplicated
            report.reordered = $0.reordered
            report.latency = LatencySummary($0.latencies)
            report.ackLatency = LatencySummary($0.ackLatencies)
        }
        report.lost = senders.reduce(0) { $0 + $1.lost }
        return report
    }
}
