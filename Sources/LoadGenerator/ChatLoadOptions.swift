import ChatClient
import Foundation
import NIOConcurrencyHelpers

/// What a chat load run does: friend pairs whose two members sit on different nodes, sending at a fixed rate or
/// with a window of unacknowledged messages, for `duration` seconds of which the first `warmup` are not measured.
public struct ChatLoadOptions: Sendable {
    /// WebSocket base URLs of the nodes (`ws://host:port`); pair `i` puts its members on nodes `i` and `i + 1`.
    public var urls: [String]
    public var pairs = 50
    /// Messages per second per sender; 0 switches to window mode.
    public var rate: Double = 10
    /// Unacknowledged messages in flight per sender, in window mode.
    public var window = 8
    /// Both members of a pair send (otherwise only the first).
    public var both = true
    public var duration: Double = 10
    public var warmup: Double = 2
    /// Bytes of content per message.
    public var size = 64
    /// Seconds to wait after sending for the last acks and deliveries.
    public var drain: Double = 5
    /// Admin API: base URL (default: the first node's) and token.
    public var apiURL: String?
    public var adminToken: String?
    /// Mints a token for a user id (`--auth jwt`); nil when the node runs `--auth none` (the id is in the path).
    public var token: (@Sendable (String) async throws -> String)?

    public init(urls: [String]) {
        self.urls = urls
    }
}
