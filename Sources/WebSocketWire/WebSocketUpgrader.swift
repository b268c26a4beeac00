import NIOCore
import NIOHTTP1
import NIOWebSocket

/// The WebSocket upgrade: NIOWebSocket's handshake (the key and version checks, `Sec-WebSocket-Accept`), then a
/// pipeline with the caller's handler alone.
///
/// NIO's own upgrader also installs its frame encoder and decoder, which the relay does not use (it reads and
/// writes frames itself: ``ClientFrame``, ``ServerFrame``): an idle socket would keep two handlers, their contexts
/// and a header buffer for nothing.
public struct WebSocketUpgrader<UpgradeResult: Sendable>: NIOTypedHTTPServerProtocolUpgrader {
    /// Answers the handshake; its pipeline step is never taken.
    private let handshake: NIOTypedWebSocketServerUpgrader<UpgradeResult>
    private let upgradePipeline: @Sendable (any Channel, HTTPRequestHead) -> EventLoopFuture<UpgradeResult>

    public var supportedProtocol: String { handshake.supportedProtocol }
    public var requiredUpgradeHeaders: [String] { handshake.requiredUpgradeHeaders }

    /// - Parameters:
    ///   - shouldUpgrade: the headers to add to the answer, or nil to refuse the upgrade.
    ///   - upgradePipeline: installs the socket's handlers once the handshake is answered.
    public init(
        shouldUpgrade: @escaping @Sendable (any Channel, HTTPRequestHead) -> EventLoopFuture<HTTPHeaders?>,
        upgradePipeline: @escaping @Sendable (any Channel, HTTPRequestHead) -> EventLoopFuture<UpgradeResult>
    ) {
        handshake = NIOTypedWebSocketServerUpgrader(
            shouldUpgrade: shouldUpgrade,
            upgradePipelineHandler: { channel, _ in channel.eventLoop.makeFailedFuture(ChannelError.inappropriateOperationForState) }
        )
        self.upgradePipeline = upgradePipeline
    }

    public func buildUpgradeResponse(
        channel: any Channel,
        upgradeRequest: HTTPRequestHead,
        initialResponseHeaders: HTTPHeaders
    ) -> EventLoopFuture<HTTPHeaders> {
        handshake.buildUpgradeResponse(channel: channel, upgradeRequest: upgradeRequest, initialResponseHeaders: initialResponseHeaders)
    }

    public func upgrade(channel: any Channel, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<UpgradeResult> {
        upgradePipeline(channel, upgradeRequest)
    }
}
