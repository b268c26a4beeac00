/// Why the node turned a connection or request away, as `chatrelay_refusals_total{reason}` counts it.
public enum RefusalReason: String, CaseIterable, Sendable {
    /// Past `--max-connections` (503).
    case maxConnections = "max_connections"
    /// No whole request within `--request-timeout` (408, or closed).
    case requestTimeout = "request_timeout"
    /// A request head over 16 KiB (431).
    case headTooLarge = "head_too_large"
    /// Bytes that are not HTTP/1 (400).
    case notHTTP = "not_http"
    /// Past `--max-sockets-per-user` (429).
    case socketsPerUser = "sockets_per_user"
    /// An upgrade from a page of another origin (403).
    case origin
    /// Admin requests from an address with too many wrong admin tokens (429).
    case adminThrottle = "admin_throttle"
    /// An upgrade of a user an admin blocked (403).
    case blocked
}
