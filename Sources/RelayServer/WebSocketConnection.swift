import RelayCore

/// A WebSocket as the relay core sees it: frames are queued here and written by the socket's writer task.
final class WebSocketConnection: RelaySocket {
    enum Outbound: Sendable {
        case text(String)
        case close(CloseCode)
    }

    let id: String
    let userID: String
    private let continuation: AsyncStream<Outbound>.Continuation

    init(id: String, userID: String, continuation: AsyncStream<Outbound>.Continuation) {
        self.id = id
        self.userID = userID
        self.continuation = continuation
    }

    func send(_ text: String) {
        continuation.yield(.text(text))
    }

    func close(_ code: CloseCode) {
        continuation.yield(.close(code))
        continuation.finish()
    }
}
