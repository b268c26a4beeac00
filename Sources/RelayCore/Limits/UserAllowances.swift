import NIOConcurrencyHelpers
import Synchronization

/// What one user may hold on this node, shared by all of their sockets here: a number of open sockets
/// (`--max-sockets-per-user`) and one frame rate (`--rate`, `--burst`) over all of them together, so that opening more
/// sockets buys no more frames.
public final class UserAllowance: Sendable {
    public let userID: String
    private let bucket: Mutex<TokenBucket>

    init(userID: String, rate: Double, burst: Double) {
        self.userID = userID
        bucket = Mutex(TokenBucket(rate: rate, burst: burst))
    }

    /// Takes one frame's token from the user's bucket.
    public func take(now: ContinuousClock.Instant = .now) -> Bool {
        bucket.withLock { $0.take(now: now) }
    }
}

/// The node's ``UserAllowance``s, one per user with sockets here (or upgrades being admitted), made on the first
/// and dropped with the last.
public final class UserAllowances: Sendable {
    public let maximumSocketsPerUser: Int
    private let rate: Double
    private let burst: Double
    private let held = NIOLockedValueBox<[String: (allowance: UserAllowance, sockets: Int)]>([:])

    public init(maximumSocketsPerUser: Int, rate: Double, burst: Double) {
        self.maximumSocketsPerUser = maximumSocketsPerUser
        self.rate = rate
        self.burst = burst
    }

    /// One more socket for `userID`: its allowance, or nil when the user holds the maximum on this node already.
    /// Every allowance given must be given back with ``release(_:)`` once, when that socket (or its upgrade) ends.
    public func admit(_ userID: String) -> UserAllowance? {
        held.withLockedValue { held in
            if let entry = held[userID] {
                guard entry.sockets < maximumSocketsPerUser else { return nil }
                held[userID] = (entry.allowance, entry.sockets + 1)
                return entry.allowance
            }
            guard maximumSocketsPerUser > 0 else { return nil }
            let allowance = UserAllowance(userID: userID, rate: rate, burst: burst)
            held[userID] = (allowance, 1)
            return allowance
        }
    }

    public func release(_ allowance: UserAllowance) {
        held.withLockedValue { held in
            guard let entry = held[allowance.userID] else { return }
            if entry.sockets <= 1 {
                held[allowance.userID] = nil
            } else {
                held[allowance.userID] = (entry.allowance, entry.sockets - 1)
            }
        }
    }

    /// The sockets (and admitted upgrades) `userID` holds on this node.
    public func sockets(of userID: String) -> Int {
        held.withLockedValue { $0[userID]?.sockets ?? 0 }
    }
}
