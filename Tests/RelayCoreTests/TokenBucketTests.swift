import RelayCore
import Testing

@Suite struct TokenBucketTests {
    /// How many of `attempts` takes at `now` succeed (mutating calls cannot sit inside #expect).
    private func takes(_ bucket: inout TokenBucket, _ attempts: Int, at now: ContinuousClock.Instant) -> Int {
        var taken = 0
        for _ in 0..<attempts where bucket.take(now: now) { taken += 1 }
        return taken
    }

    @Test func burstThenRate() {
        var bucket = TokenBucket(rate: 10, burst: 3)
        let start = ContinuousClock.now
        let burst = takes(&bucket, 4, at: start)
        #expect(burst == 3)
        // 100 ms at 10/s refills one token.
        let refilled = takes(&bucket, 2, at: start + .milliseconds(100))
        #expect(refilled == 1)
        // Never more than the burst, however long it rested.
        let rested = takes(&bucket, 10, at: start + .seconds(60))
        #expect(rested == 3)
    }

    @Test func zeroRateMeansNoLimit() {
        var bucket = TokenBucket(rate: 0, burst: 1)
        let taken = takes(&bucket, 10_000, at: .now)
        #expect(taken == 10_000)
    }
}
