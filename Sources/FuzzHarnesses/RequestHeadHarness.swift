import ConnectionGuard
import NIOCore
import NIOEmbedded
import NIOHTTP1

enum RequestHeadHarness {
    /// Feeds the input to a connection's first handlers, as the node sets them up (the guard, NIO's HTTP decoder with
    /// the node's 16 KiB limits, the progress signals), in reads whose size the first byte picks; then lets the request
    /// timeout pass. The guard lets no request head over 16 KiB through to the decoder, answers only with the
    /// contract's statuses, and ends the connection when the time is up.
    static func run(_ input: [UInt8]) {
        guard let first = input.first else { return }
        let readSize = Int(first) * 64 + 1
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(loop: loop)
        let connections = OpenConnections(maximum: 10)
        precondition(connections.admit())
        let sink = HeadSink()
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderListSize = RequestHeadMachine.maximumHeadBytes
        limits.maxHeaderFieldSize = RequestHeadMachine.maximumHeadBytes
        do {
            try channel.pipeline.syncOperations.addHandler(RequestHeadGuard(timeout: .seconds(10), connections: connections))
            try channel.pipeline.syncOperations.addHandler(HTTPResponseEncoder())
            try channel.pipeline.syncOperations.addHandler(
                ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes, limitConfiguration: limits))
            )
            try channel.pipeline.syncOperations.addHandler(RequestProgressSignals())
            try channel.pipeline.syncOperations.addHandler(sink)
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        } catch {
            preconditionFailure("set-up failed: \(error)")
        }
        var offset = 1
        while offset < input.count, channel.isActive {
            let end = min(input.count, offset + readSize)
            _ = try? channel.writeInbound(channel.allocator.buffer(bytes: input[offset..<end]))
            offset = end
        }
        loop.advanceTime(by: .seconds(13))
        var answer: [UInt8] = []
        while let part = try? channel.readOutbound(as: ByteBuffer.self) { answer += part.readableBytesView }
        if !answer.isEmpty, sink.answered == 0 {
            let statusLine = String(decoding: answer.prefix(12), as: UTF8.self)
            let allowed = ["HTTP/1.1 400", "HTTP/1.1 408", "HTTP/1.1 431", "HTTP/1.1 503"]
            precondition(allowed.contains(statusLine), "an answer the contract does not give: \(statusLine)")
        }
        precondition(!channel.isActive, "a connection outlived its request timeout and the linger after a refusal")
        _ = try? channel.finish()
        connections.drain()
    }

    /// Stands for the HTTP server behind the decoder: answers every request at once with an empty 200.
    final class HeadSink: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        var heads = 0
        var answered = 0

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head: heads += 1
            case .body: break
            case .end:
                answered += 1
                let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["Content-Length": "0"])
                context.write(wrapOutboundOut(.head(head)), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {}
    }
}
