import ChatProtocol

/// How long a friendship's history is kept (`--history-max-len`, `--history-max-age`).
///
/// Redis trims approximately, inside the store step (whole stream nodes, a bounded amount per store, so a store stays
/// O(1)); reads filter exactly, so that no page, sync or catch-up returns a message older than the age, whatever Redis
/// still holds.
public struct Retention: Sendable, Equatable {
    /// The newest messages each friendship keeps at least; 0 keeps all.
    public var maximumLength: Int
    /// Milliseconds a message is kept and returned; 0 keeps all.
    public var maximumAgeMilliseconds: Int64

    public static let keepAll = Retention(maximumLength: 0, maximumAgeMilliseconds: 0)

    public init(maximumLength: Int, maximumAgeMilliseconds: Int64) {
        self.maximumLength = max(0, maximumLength)
        self.maximumAgeMilliseconds = max(0, maximumAgeMilliseconds)
    }

    public var trims: Bool { maximumLength > 0 || maximumAgeMilliseconds > 0 }

    /// The oldest id a read may return at `now` (ms), or nil when age keeps everything.
    public func oldestReturned(now: UInt64) -> StreamID? {
        guard maximumAgeMilliseconds > 0 else { return nil }
        let age = UInt64(maximumAgeMilliseconds)
        return StreamID(milliseconds: now > age ? now - age : 0, sequence: 0)
    }

    /// Entries a store may trim at most: whole stream nodes only, so at least one node's worth (100 entries by
    /// Redis's default), and a bound so that a store after a long quiet stays cheap.
    static let trimLimit = 1000

    /// A route trims by age on its first store and every 16th: a command on every store cost Redis a tenth of its CPU
    /// per message, and reads filter exactly whatever is left.
    static let ageTrimInterval: UInt32 = 16

    /// How much longer than the age a quiet stream may live: a tenth of the age, between a second and an hour. A route
    /// sets the expiry at most once per margin, instead of on every store.
    var expiryMarginMilliseconds: UInt64 {
        UInt64(min(max(maximumAgeMilliseconds / 10, 1000), 3_600_000))
    }
}
