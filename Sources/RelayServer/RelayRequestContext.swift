import Hummingbird
import HummingbirdWebSocket
import NIOConcurrencyHelpers
import NIOCore
import RelayCore

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

/// What `shouldUpgrade` learnt, for the WebSocket handler: who connects, and from which instant it must receive.
final class IdentityBox: Sendable {
    private let value = NIOLockedValueBox<(userID: String, openedAfter: StreamID)?>(nil)
    var accepted: (userID: String, openedAfter: StreamID)? {
        get { value.withLockedValue { $0 } }
        set { value.withLockedValue { $0 = newValue } }
    }
}
