import ChatClient
import Foundation
import NIOConcurrencyHelpers

/// Nanoseconds since the run began; send times travel in the content, so sender and receiver share this clock.
struct RunClock: Sendable {
    let start = ContinuousClock.now

    var now: UInt64 { nanoseconds(of: ContinuousClock.now - start) }

    func nanoseconds(afterSeconds seconds: Double) -> UInt64 { UInt64(max(0, seconds) * 1e9) }

    private func nanoseconds(of duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        return UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000)
    }
}
