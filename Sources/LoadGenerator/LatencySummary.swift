/// Percentiles of a set of latencies in milliseconds.
public struct LatencySummary: Sendable, Equatable {
    public var count: Int
    public var p50: Double
    public var p90: Double
    public var p99: Double
    public var p999: Double
    public var max: Double

    public init(_ samples: [Double]) {
        let sorted = samples.sorted()
        count = sorted.count
        func at(_ fraction: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            return sorted[Swift.min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.down)))]
        }
        p50 = at(0.5)
        p90 = at(0.9)
        p99 = at(0.99)
        p999 = at(0.999)
        max = sorted.last ?? 0
    }

    public var description: String {
        func ms(_ value: Double) -> String { String(Double(Int(value * 100)) / 100) }
        return "p50 \(ms(p50))  p90 \(ms(p90))  p99 \(ms(p99))  p99.9 \(ms(p999))  max \(ms(max))  (n=\(count))"
    }
}
