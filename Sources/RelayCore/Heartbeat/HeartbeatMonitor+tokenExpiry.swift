import Foundation

/// Token expiry on the heartbeat's entries: each socket's `exp` lives in its heartbeat entry, and a map of
/// one-second buckets lists which sockets may expire when. A second's bucket is read once, when that second comes;
/// an entry whose `exp` moved on (a refresh) or that was forgotten is skipped then. No timer or task per socket: a
/// socket's expiry costs it one bucket slot.
extension HeartbeatMonitor {
    @Sendable public static func unixSeconds() -> Int64 { Int64(Date().timeIntervalSince1970) }

    /// A refresh: the socket now ends at `second` (Unix seconds). False when the socket is not watched or does not
    /// expire (it ended, or it opened without a token).
    @discardableResult
    public func extendToken(of socket: any RelaySocket, until second: Int64) -> Bool {
        wheel.withLock { wheel in
            let key = ObjectIdentifier(socket)
            guard let entry = wheel.entries[key], entry.expiresAt != 0 else { return false }
            wheel.setExpiry(of: key, to: second)
            return true
        }
    }

    /// Sockets whose token expired by `second` (Unix seconds), each returned once; the caller closes them with 4001.
    public func expireTokens(through second: Int64) -> [any RelaySocket] {
        let through = UInt32(clamping: second)
        return wheel.withLock { wheel in
            var expired: [any RelaySocket] = []
            while wheel.expiredThrough < through {
                wheel.expiredThrough += 1
                for key in wheel.expiries.removeValue(forKey: wheel.expiredThrough) ?? [] {
                    guard let index = wheel.entries.index(forKey: key) else { continue }
                    let expiresAt = wheel.entries.values[index].expiresAt
                    guard expiresAt != 0, expiresAt <= wheel.expiredThrough else { continue }
                    wheel.entries.values[index].expiresAt = 0
                    expired.append(wheel.entries.values[index].socket)
                }
            }
            return expired
        }
    }

    /// At the start of every second: a socket whose token expires at second S lives through S - 1 only.
    func turnExpiries() async {
        while !Task.isCancelled {
            let fraction = Date().timeIntervalSince1970.truncatingRemainder(dividingBy: 1)
            try? await Task.sleep(for: .milliseconds(Int((1 - fraction) * 1000) + 5))
            guard !Task.isCancelled else { return }
            for socket in expireTokens(through: now()) { socket.close(.tokenExpired) }
        }
    }
}

extension HeartbeatMonitor.Wheel {
    /// A second already handled goes to the next one: a token that expired by the time its socket opened ends at the
    /// next turn.
    mutating func setExpiry(of key: ObjectIdentifier, to second: Int64) {
        let at = max(UInt32(clamping: second), expiredThrough + 1)
        entries[key]?.expiresAt = at
        expiries[at, default: []].append(key)
    }
}
