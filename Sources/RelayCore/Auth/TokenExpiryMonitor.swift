import Foundation
import ServiceLifecycle
import Synchronization

/// Closes each socket at its token's `exp` (4001), on one timer wheel of one-second buckets for the whole node
/// rather than a timer or a task per socket: an idle socket costs an entry here and one in its bucket.
///
/// A refresh moves a socket to a later bucket; the earlier bucket still lists it, and is skipped when it comes round
/// because the socket's deadline no longer matches. A service: ``run()`` turns the wheel once a second until graceful
/// shutdown; ``expire(through:)`` is public so tests turn it without waiting for clocks.
public final class TokenExpiryMonitor: Sendable {
    private struct Deadline {
        let socket: any RelaySocket
        var second: Int64
    }

    private struct Wheel {
        var deadlines: [ObjectIdentifier: Deadline] = [:]
        var buckets: [Int64: [ObjectIdentifier]] = [:]
        /// The last second whose bucket was emptied.
        var handledThrough: Int64
    }

    private let wheel: Mutex<Wheel>
    private let now: @Sendable () -> Int64

    public init(now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) {
        self.now = now
        wheel = Mutex(Wheel(handledThrough: now() - 1))
    }

    public var count: Int { wheel.withLock { $0.deadlines.count } }

    /// The socket ends at `second` (Unix seconds), unless ``extend(_:until:)`` moves it on first.
    public func watch(_ socket: any RelaySocket, until second: Int64) {
        wheel.withLock { wheel in
            let key = ObjectIdentifier(socket)
            wheel.deadlines[key] = Deadline(socket: socket, second: second)
            wheel.buckets[max(second, wheel.handledThrough + 1), default: []].append(key)
        }
    }

    /// A refresh: the socket now ends at `second`. False when the socket is not watched (it ended, or it never had a
    /// token).
    @discardableResult
    public func extend(_ socket: any RelaySocket, until second: Int64) -> Bool {
        wheel.withLock { wheel in
            let key = ObjectIdentifier(socket)
            guard wheel.deadlines[key] != nil else { return false }
            wheel.deadlines[key]?.second = second
            wheel.buckets[max(second, wheel.handledThrough + 1), default: []].append(key)
            return true
        }
    }

    public func forget(_ socket: any RelaySocket) {
        _ = wheel.withLock { $0.deadlines.removeValue(forKey: ObjectIdentifier(socket)) }
    }

    /// Forgets and returns the sockets whose deadline is `second` or earlier; the caller closes them.
    public func expire(through second: Int64) -> [any RelaySocket] {
        wheel.withLock { wheel in
            var expired: [any RelaySocket] = []
            while wheel.handledThrough < second {
                wheel.handledThrough += 1
                for key in wheel.buckets.removeValue(forKey: wheel.handledThrough) ?? [] {
                    guard let deadline = wheel.deadlines[key], deadline.second <= wheel.handledThrough else { continue }
                    wheel.deadlines[key] = nil
                    expired.append(deadline.socket)
                }
            }
            return expired
        }
    }

    /// Turns the wheel at the start of every second until graceful shutdown or cancellation.
    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let fraction = Date().timeIntervalSince1970.truncatingRemainder(dividingBy: 1)
                try? await Task.sleep(for: .milliseconds(Int((1 - fraction) * 1000) + 5))
                guard !Task.isCancelled else { return }
                // A socket whose token expires at second S may live through S - 1 only.
                for socket in self.expire(through: self.now()) { socket.close(.tokenExpired) }
            }
        }
    }
}

extension TokenExpiryMonitor: Service {}
