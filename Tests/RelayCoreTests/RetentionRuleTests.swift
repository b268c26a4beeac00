import ChatProtocol
import Testing

@testable import RelayCore

@Suite struct RetentionRuleTests {
    static func route() -> StoreRoute {
        StoreRoute(
            friendship: "f",
            sender: "a",
            recipient: "b",
            history: "chat:history:{f}",
            friendshipKey: "chat:friendship:{f}",
            recipientChannel: "chat:deliver:{b}",
            senderChannel: "chat:deliver:{a}"
        )
    }

    /// Age trimming on a route's first store and every 16th; the stream's expiry set at most once per margin, always
    /// to the age and the margin, so the newest message is never dropped before the age.
    @Test func aRouteTrimsByAgeEverySixteenthStoreAndMovesTheExpiryOncePerMargin() {
        let retention = Retention(maximumLength: 0, maximumAgeMilliseconds: 60_000)
        #expect(retention.expiryMarginMilliseconds == 6_000)
        let route = Self.route()
        let start: UInt64 = 1_800_000_000_000
        var trims: [Int] = []
        var expiries: [Int] = []
        for index in 0..<40 {
            let work = route.ageWork(now: start + UInt64(index) * 500, retention: retention)
            if let oldest = work.oldestKept {
                trims.append(index)
                #expect(oldest == start + UInt64(index) * 500 - 60_000)
            }
            if let expiry = work.expiry {
                expiries.append(index)
                #expect(expiry == 66_000)
            }
        }
        #expect(trims == [0, 16, 32])
        // Every 12th store at 500 ms apart: each one 6 s after the last.
        #expect(expiries == [0, 12, 24, 36])
    }

    @Test func theMarginIsATenthOfTheAgeBetweenASecondAndAnHour() {
        #expect(Retention(maximumLength: 0, maximumAgeMilliseconds: 3_000).expiryMarginMilliseconds == 1_000)
        #expect(Retention(maximumLength: 0, maximumAgeMilliseconds: 365 * 86_400_000).expiryMarginMilliseconds == 3_600_000)
        #expect(Retention(maximumLength: 0, maximumAgeMilliseconds: 0).oldestReturned(now: 5_000) == nil)
        #expect(Retention(maximumLength: 0, maximumAgeMilliseconds: 2_000).oldestReturned(now: 5_000) == StreamID(milliseconds: 3_000, sequence: 0))
        #expect(Retention(maximumLength: 0, maximumAgeMilliseconds: 9_000).oldestReturned(now: 5_000) == .zero)
    }
}
