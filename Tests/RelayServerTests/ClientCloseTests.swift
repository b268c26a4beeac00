import ChatClient
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Testing

/// A WebSocket server that completes the upgrade, then reads and ignores every frame: a hung node, which never
/// answers a close frame.
private final class DeafWebSocketServer: Sendable {
    let channel: any Channel

    private init(channel: any Channel) {
        self.channel = channel
    }

    var port: Int { channel.localAddress?.port ?? 0 }

    static func start() async throws -> DeafWebSocketServer {
        let upgrader = NIOWebSocketServerUpgrader(
            shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders()) },
            upgradePipelineHandler: { channel, _ in channel.pipeline.addHandler(IgnoreEverything()) }
        )
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline(
                    withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in })
                )
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return DeafWebSocketServer(channel: channel)
    }

    func stop() async {
        try? await channel.close()
    }

    private final class IgnoreEverything: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
    }
}

@Suite struct ClientCloseTests {
    @Test func closingWhenTheServerNeverAnswersDropsTheConnectionAfterTheTimeout() async throws {
        let server = try await DeafWebSocketServer.start()
        let connection = try await ChatConnection.connect(url: "ws://127.0.0.1:\(server.port)/ws/deaf")
        let started = ContinuousClock.now
        // Without the timeout, close would wait for ever: the test then aborts the connection itself after 10 s.
        let closedByItself = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await connection.close(timeout: .milliseconds(300))
                return true
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(10))
                if !Task.isCancelled { await connection.abort() }
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        let took = ContinuousClock.now - started
        #expect(closedByItself, "close still waiting after \(took)")
        #expect(connection.isClosed)
        #expect(took >= .milliseconds(300), "closed after \(took): the server cannot have answered")
        await server.stop()
    }
}
