/// Why the node ends a socket. The core says why; the WebSocket surface chooses the close code
/// (`SocketStateMachine.closeCode(for:)`).
public enum SocketEnd: Sendable, Hashable {
    /// The node is draining: the client reconnects through the load balancer to another node.
    case draining
    /// The socket fell too far behind what it was sent; the client reconnects and syncs what it missed.
    case slowConsumer
    /// The node could not open the socket (Redis unreachable): the client tries another node.
    case openFailed
    /// The token the socket opened (or last refreshed) with expired: 4001; the client gets a new token and reconnects.
    case tokenExpired
    /// An admin disconnected or blocked the user: 4003.
    case disconnected
    /// The user was erased: 4004.
    case erased
}
