import Testing

/// RFC 6455's close rules on a live node, through a raw socket: the answer to every kind of close frame, and a
/// failed connection that the client can still finish (it reads the close, not a reset).
@Suite struct CloseHandshakeTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var payload: [UInt8]
        var answer: UInt16
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "a valid code is echoed", payload: RawWebSocket.closePayload(4000, Array("bye".utf8)), answer: 4000),
        Case(name: "1000", payload: RawWebSocket.closePayload(1000), answer: 1000),
        Case(name: "no payload", payload: [], answer: 1000),
        Case(name: "one byte", payload: [0x03], answer: 1002),
        Case(name: "999", payload: RawWebSocket.closePayload(999), answer: 1002),
        Case(name: "1005, never on the wire", payload: RawWebSocket.closePayload(1005), answer: 1002),
        Case(name: "1006, never on the wire", payload: RawWebSocket.closePayload(1006), answer: 1002),
        Case(name: "1015, never on the wire", payload: RawWebSocket.closePayload(1015), answer: 1002),
        Case(name: "2999", payload: RawWebSocket.closePayload(2999), answer: 1002),
        Case(name: "5000", payload: RawWebSocket.closePayload(5000), answer: 1002),
        Case(name: "a reason that is not UTF-8", payload: RawWebSocket.closePayload(1000, [0xCE, 0xBA, 0xFF]), answer: 1007),
    ]

    @Test func everyCloseFrameGetsTheAnswerRFC6455Wants() async throws {
        let cluster = try await TestCluster.start(nodes: 1)
        defer { Task { await cluster.stop() } }
        for test in Self.cases {
            let socket = try await RawWebSocket.connect(port: cluster.port(0), path: "/ws/alice")
            let sent = await socket.send(opcode: 0x8, payload: test.payload)
            #expect(sent == nil)
            let answer = await socket.readClose()
            #expect(answer == .success(test.answer), "\(test.name)")
            let end = await socket.readToEnd()
            #expect(end == .endOfStream, "\(test.name)")
        }
    }

    /// The node refuses a frame over 64 KiB from its header. The client is still sending the frame's payload; the
    /// node must read on until the client has seen the 1009 and closed its side, or the client's unread bytes make
    /// the kernel reset the connection, and the client (or a proxy) reports 1006 instead of 1009.
    @Test func aClientFailedWith1009CanFinishSendingAndReadsTheClose() async throws {
        let cluster = try await TestCluster.start(nodes: 1)
        defer { Task { await cluster.stop() } }
        let socket = try await RawWebSocket.connect(port: cluster.port(0), path: "/ws/alice")
        let headerSent = await socket.send(RawWebSocket.header(opcode: 0x1, length: 1 << 20))
        #expect(headerSent == nil)
        // Past the node's refusal, as a client that does not read while it writes.
        try await Task.sleep(for: .milliseconds(200))
        let chunk = [UInt8](repeating: 0x61, count: 16_384)
        for index in 0..<16 {
            let failed = await socket.send(chunk)
            #expect(failed == nil, "send \(index) failed: \(String(describing: failed))")
            if failed != nil { break }
        }
        let answer = await socket.readClose()
        #expect(answer == .success(1009))
        let closeSent = await socket.send(opcode: 0x8, payload: RawWebSocket.closePayload(1009))
        #expect(closeSent == nil)
        let end = await socket.readToEnd()
        #expect(end == .endOfStream)
    }
}
