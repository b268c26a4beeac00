import Foundation
import NIOCore
import RedisClient
import Synchronization

/// Where a send stands in UTC days, for its cid records.
public struct StoreClock: Sendable {
    public var day: Int
    public var nearMidnight: Bool

    public init(day: Int, nearMidnight: Bool = false) {
        self.day = day
        self.nearMidnight = nearMidnight
    }

    public static func now() -> StoreClock {
        let seconds = Date().timeIntervalSince1970
        let day = Int(seconds / 86_400)
        let secondOfDay = seconds - Double(day) * 86_400
        return StoreClock(day: day, nearMidnight: secondOfDay > 86_340)
    }
}
