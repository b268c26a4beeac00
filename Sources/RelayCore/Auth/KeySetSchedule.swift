/// When a node fetches its JSON Web Key Set, as the contract states it: at start, every 10 minutes, and when a token
/// names a `kid` the set lacks, at most once a minute. A failed fetch is tried again after a minute rather than ten,
/// so a node that started while its provider was down does not wait ten minutes for keys.
///
/// A value type told what happened and when; it answers what to do, so the rules are tested without clocks or HTTP.
public struct KeySetSchedule: Sendable, Equatable {
    public static let period: Duration = .seconds(600)
    public static let retryAfterFailure: Duration = .seconds(60)
    public static let unknownKidInterval: Duration = .seconds(60)

    /// When the next periodic fetch is due; nil before the first.
    public private(set) var nextFetch: ContinuousClock.Instant?
    private var lastUnknownKidFetch: ContinuousClock.Instant?

    public init() {}

    /// A token named a `kid` the set lacks: fetch now, unless a fetch for that reason went out within the last minute.
    public mutating func unknownKid(at now: ContinuousClock.Instant) -> Bool {
        if let last = lastUnknownKidFetch, now - last < Self.unknownKidInterval { return false }
        lastUnknownKidFetch = now
        return true
    }

    public mutating func fetched(succeeded: Bool, at now: ContinuousClock.Instant) {
        nextFetch = now + (succeeded ? Self.period : Self.retryAfterFailure)
    }
}
