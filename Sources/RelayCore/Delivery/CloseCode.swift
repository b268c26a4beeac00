import NIOCore

/// WebSocket close codes the relay uses.
public enum CloseCode: UInt16, Sendable {
    /// The node is draining: reconnect through the load balancer.
    case goingAway = 1001
    /// The peer broke the WebSocket protocol (a stray continuation frame, an unknown opcode).
    case protocolError = 1002
    /// A text message that is not UTF-8 (RFC 6455 §8.1).
    case invalidPayload = 1007
    /// The socket fell too far behind its outbound queue; it should reconnect and `sync`.
    case policyViolation = 1008
    case messageTooBig = 1009
    /// The node could not open the socket (Redis unreachable): try another node.
    case unexpectedServerError = 1011
}
