import NIOCore
import NIOWebSocket
import RelayCore

/// A WebSocket as the relay core sees it: frames are queued here and written by the socket's writer task.
final class WebSocketConnection: RelaySocket {
    enum Outbound: Sendable {
        case text(String)
        case ping
        case close(CloseCode)
    }

    let id: String
    let userID: String
    private let continuation: AsyncStream<Outbound>.Continuation
    private let channel: any Channel

    init(id: String, userID: String, channel: any Channel, continuation: AsyncStream<Outbound>.Continuation) {
        self.id = id
        self.userID = userID
        self.channel = channel
        self.continuation = continuation
    }

    func ping() {
        continuation.yield(.ping)
    }

    func terminate() {
        continuation.finish()
        channel.close(promise: nil)
    }

    func send(_ text: String) {
        continuation.yield(.text(text))
    }

    func close(_ code: CloseCode) {
        continuation.yield(.close(code))
        continuation.finish()
    }
}
