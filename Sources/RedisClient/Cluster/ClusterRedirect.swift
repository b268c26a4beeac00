/// A cluster's answer that a key lives elsewhere: `MOVED` (the slot has a new owner: update the map) or `ASK` (the
/// slot is migrating: send `ASKING` and the command to the target once, without touching the map).
public enum ClusterRedirect: Sendable, Hashable {
    case moved(HashSlot, RedisEndpoint)
    case ask(HashSlot, RedisEndpoint)

    /// Parses `MOVED 3999 127.0.0.1:6381` and `ASK 3999 127.0.0.1:6381`; nil for any other error.
    public init?(_ error: RedisServerError) {
        let words = error.message.split(separator: " ")
        guard words.count == 3, let number = Int(words[1]), let slot = HashSlot(rawValue: number),
            let colon = words[2].lastIndex(of: ":"), let port = Int(words[2][words[2].index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        var host = words[2][..<colon]
        // An IPv6 address may come in brackets.
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        let endpoint = RedisEndpoint(host: String(host), port: port)
        switch words[0] {
        case "MOVED": self = .moved(slot, endpoint)
        case "ASK": self = .ask(slot, endpoint)
        default: return nil
        }
    }

    public var endpoint: RedisEndpoint {
        switch self {
        case .moved(_, let endpoint), .ask(_, let endpoint): endpoint
        }
    }
}
