import NIOConcurrencyHelpers
import Synchronization

/// What one user holds on this node, shared by all of their sockets here: their number of open sockets
/// (`--max-sockets-per-user`) and one frame rate over all of them together (`--rate`, `--burst`), so that opening
/// more sockets buys no more frames. Each socket spends the user's rate only: a socket never sends more than its user
/// may, so the user's bucket holds each socket to the rate too. Small on purpose: there is one per connected user.
public final class UserAllowance: Sendable {
    fileprivate let state: Mutex<(level: TokenBucket.Level, sockets: Int)>

    fileprivate init(burst: Double) {
        state = Mutex((TokenBucket.Level(burst: burst), 1))
    }
}

/// The node's ``UserAllowance``s, one per user with sockets here (or upgrades being admitted), made on the first
/// and dropped with the last.
public final class UserAllowances: Sendable {
    public let maximumSocketsPerUser: Int
    public let rate: Double
    public let burst: Double
    private let held = NIOLockedValueBox<[String: UserAllowance]>([:])

    public init(maximumSocketsPerUser: Int, rate: Double, burst: Double) {
        self.maximumSocketsPerUser = maximumSocketsPerUser
        self.rate = rate
        self.burst = burst
    }

    /// One more socket for `userID`: their allowance, or nil when they hold the maximum on this node already. Every
    /// socket admitted is given back with ``release(_:)`` once, when that socket (or its upgrade) ends.
    public func admit(_ userID: String) -> UserAllowance? {
        held.withLockedValue { held in
            if let allowance = held[userID] {
                let admitted = allowance.state.withLock { state in
                    guard state.sockets < maximumSocketsPerUser else { return false }
                    state.sockets += 1
                    return true
                }
                return admitted ? allowance : nil
            }
            guard maximumSocketsPerUser > 0 else { return nil }
            let allowance = UserAllowance(burst: burst)
            held[userID] = allowance
            return allowance
        }
    }

    public func release(_ userID: String) {
        held.withLockedValue { held in
            guard let allowance = held[userID] else { return }
            let left = allowance.state.withLock { state in
                state.sockets -= 1
                return state.sockets
            }
            if left <= 0 { held[userID] = nil }
        }
    }

    /// One frame's token from the user's bucket.
    public func take(_ allowance: UserAllowance, now: ContinuousClock.Instant = .now) -> Bool {
        allowance.state.withLock { $0.level.take(now: now, rate: rate, burst: burst) }
    }

    /// The error a frame over the user's rate gets, whatever the frame.
    public func rateLimited(cid: String?) -> RequestError {
        RequestError(.rateLimited, "over \(Int(rate)) frames per second", cid: cid)
    }

    /// What a binary frame gets: `bad_json`, or `rate_limited` when the user's bucket is empty (it counts like any
    /// frame, so that garbage draws no more answers than the rate allows).
    public func refusalOfBinaryFrame(_ allowance: UserAllowance) -> RequestError {
        take(allowance) ? RequestError(.badJSON, "frames must be JSON text frames, not binary") : rateLimited(cid: nil)
    }
}
