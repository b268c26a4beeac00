import NIOCore

/// What the relay core needs of an open socket. The surface implements it over a WebSocket.
public protocol RelaySocket: AnyObject, Sendable {
    var userID: String { get }
    /// Queues a text frame without waiting; called from event loops and tasks alike.
    func send(_ text: String)
    /// Queues a text frame whose bytes are ready (shared between the sockets it goes to, never copied).
    func send(frame bytes: ByteBuffer)
    func close(_ reason: SocketEnd)
    /// Sends a WebSocket ping.
    func ping()
    /// Drops the connection at once, without a close handshake: the peer is not answering.
    func terminate()
    /// Returns once the outbound queue has room for a page of frames, so that a long `sync` is paced by the
    /// client's reading instead of overflowing the queue.
    func waitForCapacity() async
}
