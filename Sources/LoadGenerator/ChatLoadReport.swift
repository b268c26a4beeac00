import ChatClient
import Foundation
import NIOConcurrencyHelpers

/// The figures of a chat load run. Counts cover the measured part; `lost` counts acknowledged messages that never
/// reached their recipient.
public struct ChatLoadReport: Sendable {
    public var pairs = 0
    public var sent = 0
    public var acked = 0
    public var rejected = 0
    public var delivered = 0
    public var lost = 0
    public var duplicated = 0
    public var reordered = 0
    public var connectFailures = 0
    public var disconnects = 0
    public var measuredSeconds = 0.0
    public var latency = LatencySummary([])
    public var ackLatency = LatencySummary([])

    public var deliveredPerSecond: Double { measuredSeconds > 0 ? Double(delivered) / measuredSeconds : 0 }

    public var summary: String {
        """
        pairs \(pairs), measured \(measuredSeconds) s: sent \(sent), acked \(acked), delivered \(delivered) \
        (\(Int(deliveredPerSecond)) msg/s), lost \(lost), duplicated \(duplicated), reordered \(reordered), \
        rejected \(rejected), connect failures \(connectFailures), disconnects \(disconnects)
        delivery latency ms: \(latency.description)
        ack latency ms:      \(ackLatency.description)
        """
    }

    public var json: String {
        func number(_ value: Double) -> String { String(Double(Int(value * 1000)) / 1000) }
        return "{"
            + [
                "\"mode\":\"chat\"", "\"pairs\":\(pairs)", "\"sent\":\(sent)", "\"acked\":\(acked)", "\"rejected\":\(rejected)",
                "\"delivered\":\(delivered)", "\"lost\":\(lost)", "\"dup\":\(duplicated)", "\"reordered\":\(reordered)",
                "\"connect_failures\":\(connectFailures)", "\"disconnects\":\(disconnects)",
                "\"msgs_per_s\":\(number(deliveredPerSecond))", "\"p50_ms\":\(number(latency.p50))", "\"p99_ms\":\(number(latency.p99))",
                "\"ack_p50_ms\":\(number(ackLatency.p50))", "\"ack_p99_ms\":\(number(ackLatency.p99))",
            ].joined(separator: ",") + "}"
    }
}
