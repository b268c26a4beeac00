/// Why a socket ended, as `chatrelay_socket_closes_total{reason}` counts it.
public enum SocketCloseReason: String, CaseIterable, Sendable {
    /// The client closed: its close frame, or the connection dropped.
    case client
    /// Terminated for a missed pong.
    case heartbeat
    /// The node drained.
    case drain
    case slowConsumer = "slow_consumer"
    /// The client broke RFC 6455 (1002, 1007, 1009) or the socket could not open.
    case protocolError = "protocol_error"
    /// The token expired without a refresh (4001).
    case tokenExpired = "token_expired"
    /// An admin ended the user's sessions or blocked them (4003).
    case disconnected
    /// The user was erased (4004).
    case erased
}
