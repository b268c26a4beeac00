/// One socket's heartbeat, as the contract states it: a ping every period, and a socket that has not answered the
/// previous ping when the next one is due is terminated.
///
/// A pure value type, like swift-websocket's `WebSocketStateMachine`: it is told about ticks and pongs and answers
/// what to do, so it is tested without sockets or clocks.
public struct Heartbeat: Sendable, Hashable {
    public enum Action: Sendable, Hashable {
        case sendPing
        case terminate
    }

    private var awaitingPong = false

    public init() {}

    /// The period is over: ping again, or give up on a socket that did not answer the last ping.
    public mutating func tick() -> Action {
        if awaitingPong { return .terminate }
        awaitingPong = true
        return .sendPing
    }

    public mutating func pongReceived() {
        awaitingPong = false
    }
}
