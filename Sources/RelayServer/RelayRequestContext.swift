import Hummingbird
import HummingbirdWebSocket
import NIOConcurrencyHelpers
import NIOCore

/// The request context of every route. `identity` carries the user that `shouldUpgrade` authenticated over to the
/// WebSocket handler (the context is copied, the box is shared).
struct RelayRequestContext: RequestContext, WebSocketRequestContext {
    var coreContext: CoreRequestContextStorage
    let webSocket: WebSocketHandlerReference<Self>
    let identity: IdentityBox
    /// The connection, for the heartbeat: pongs are observed and dead peers dropped on it directly.
    let channel: any Channel

    init(source: Source) {
        coreContext = .init(source: source)
        channel = source.channel
        webSocket = .init()
        identity = IdentityBox()
    }
}

final class IdentityBox: Sendable {
    private let value = NIOLockedValueBox<String?>(nil)
    var userID: String? {
        get { value.withLockedValue { $0 } }
        set { value.withLockedValue { $0 = newValue } }
    }
}
