import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RedisClient
import Testing

/// A WebSocket client that reads only when told to, through a small receive window: a phone on a slow link.
private final class SlowReader: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    private struct State {
        var unread = ByteBuffer()
        var upgraded = false
        var texts: [String] = []
        var closeCode: UInt16?
    }

    private let state = NIOLockedValueBox(State())

    /// Connects without reading, sends the upgrade request and `frame` as one masked text frame.
    static func connect(port: Int, path: String, sending frame: String) async throws -> (SlowReader, any Channel) {
        let reader = SlowReader()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.autoRead, value: false)
            // A fixed receive window, so that the kernel's buffers cannot hold the whole sync on the client's behalf.
            .channelOption(.socketOption(.so_rcvbuf), value: 32 * 1024)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 64 * 1024))
            .channelInitializer { $0.pipeline.addHandler(reader) }
            .connect(host: "127.0.0.1", port: port)
            .get()
        var bytes = ByteBuffer(
            string: "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        let payload = Array(frame.utf8)
        precondition(payload.count < 126)
        bytes.writeBytes([0x81, 0x80 | UInt8(payload.count), 0, 0, 0, 0])  // a zero mask leaves the payload as it is
        bytes.writeBytes(payload)
        try await channel.writeAndFlush(bytes)
        return (reader, channel)
    }

    /// The server's text frames so far, and its close code if one came.
    var frames: (texts: [String], closeCode: UInt16?) { state.withLockedValue { ($0.texts, $0.closeCode) } }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        state.withLockedValue { state in
            state.unread.writeBuffer(&bytes)
            if !state.upgraded {
                let text = String(buffer: state.unread)
                guard let end = text.range(of: "\r\n\r\n") else { return }
                state.unread.moveReaderIndex(forwardBy: text.utf8.distance(from: text.utf8.startIndex, to: end.upperBound))
                state.upgraded = true
            }
            while let frame = Self.readFrame(from: &state.unread) {
                switch frame.opcode {
                case 0x1: state.texts.append(String(buffer: frame.payload))
                case 0x8: state.closeCode = frame.payload.getInteger(at: frame.payload.readerIndex, as: UInt16.self)
                default: break
                }
            }
            state.unread.discardReadBytes()
        }
    }

    /// One whole unmasked server frame, or nil (nothing consumed) until more bytes come.
    private static func readFrame(from buffer: inout ByteBuffer) -> (opcode: UInt8, payload: ByteBuffer)? {
        let start = buffer.readerIndex
        guard let first = buffer.getInteger(at: start, as: UInt8.self), let second = buffer.getInteger(at: start + 1, as: UInt8.self)
        else { return nil }
        var header = 2
        var length = Int(second & 0x7F)
        if length == 126 {
            guard let long = buffer.getInteger(at: start + 2, as: UInt16.self) else { return nil }
            (header, length) = (4, Int(long))
        } else if length == 127 {
            guard let long = buffer.getInteger(at: start + 2, as: UInt64.self) else { return nil }
            (header, length) = (10, Int(long))
        }
        guard buffer.readableBytes >= header + length else { return nil }
        buffer.moveReaderIndex(forwardBy: header)
        return (first & 0x0F, buffer.readSlice(length: length)!)
    }
}

@Suite(.takesTurns) struct SyncPacingTests {
    /// A sync much larger than the outbound bound, to a client reading slower than Redis answers: the sync waits for
    /// the client instead of overflowing the queue, and the client gets all of it, without a 1008.
    @Test func aSyncLargerThanTheQueueBoundIsPacedByASlowReader() async throws {
        // The reader never answers pings: a heartbeat longer than the test keeps it.
        let cluster = try await TestCluster.start(nodes: 1) {
            $0.maximumQueuedBytes = 512 * 1024
            $0.heartbeat = 120
        }
        defer { Task { await cluster.stop() } }
        let (alice, bob, friendship) = try await cluster.makeFriends("alice", "bob")
        // 8 MB: more than the node's socket send buffer can take (autotuned up to 4 MB here) plus the bound.
        let count = 4_000
        let content = String(repeating: "s", count: 2_000)
        let key = RedisArgument.string("chat:history:{\(friendship)}")
        let entry: [RedisArgument] = ["XADD", key, "*", "from", .string(alice), "to", .string(bob), "type", "text", "content", .string(content)]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<count {
                group.addTask { _ = try await cluster.redis.command(entry) }
            }
            try await group.waitForAll()
        }

        let (reader, channel) = try await SlowReader.connect(
            port: cluster.port(0),
            path: "/ws/\(bob)",
            sending: #"{"op":"sync","cursors":{"\#(friendship)":"0-0"}}"#
        )
        // 8 MB, at most 64 KiB every 20 ms: a few seconds, far slower than the node can queue it.
        let started = ContinuousClock.now
        var frames = reader.frames
        while frames.texts.last?.contains(#""op":"synced""#) != true, frames.closeCode == nil, channel.isActive,
            ContinuousClock.now - started < .seconds(60)
        {
            channel.read()
            try await Task.sleep(for: .milliseconds(20))
            frames = reader.frames
        }
        // A dropped slow consumer's 1008 sits behind the frames it did not read, so the drop shows as the end of the
        // connection.
        #expect(frames.closeCode == nil && channel.isActive, "dropped after \(frames.texts.count) frames")
        let messages = frames.texts.filter { $0.contains(#""content":"sss"#) }
        #expect(messages.count == count)
        #expect(frames.texts.last?.contains(#""op":"synced""#) == true)
        try? await channel.close()
    }
}
