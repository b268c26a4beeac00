import RedisClient
import Testing

@Suite struct BackoffTests {
    /// Each delay lies between half and all of its step; steps double and stop at the maximum.
    @Test func delaysDoubleUpToTheMaximumWithJitterBelowEachStep() {
        for _ in 0..<100 {
            var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(1))
            let steps: [Duration] = [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1)]
            for step in steps {
                let delay = backoff.nextDelay()
                #expect(delay >= step / 2 && delay <= step, "\(delay) for a step of \(step)")
            }
        }
    }

    @Test func aMaximumBelowTheStartIsTheStart() {
        var backoff = Backoff(initial: .seconds(1), maximum: .milliseconds(1))
        #expect(backoff.maximum == .seconds(1))
        #expect(backoff.nextDelay() <= .seconds(1))
        #expect(backoff.nextDelay() >= .milliseconds(500))
    }
}
