import ChatClient
import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Contract v3's Limits at the connection level, tried as an attacker would against real node processes from raw
/// sockets: every bound answers as the contract says, closes, and leaves the node serving everyone else.
@Suite(.takesTurns) struct HostileConnectionTests {
    struct Node {
        let process: RelayProcess
        let redis: RedisServer
        var port: Int { process.port }
    }

    static func start(_ flags: [String] = [], environment: [String: String] = [:], launcher: [String] = []) async throws -> Node {
        let redis = try await RedisServer()
        let process = try RelayProcess(
            arguments: ["--redis", redis.url, "--auth", "none", "--log-level", "error"] + flags,
            port: try FreePort.next(),
            environment: environment,
            launcher: launcher
        )
        #expect(try await process.becomesReady(), "\(process.standardError)")
        return Node(process: process, redis: redis)
    }

    static let upgrade =
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"

    /// The node still serves: a socket opens and answers a ping, and `/healthz` answers.
    static func expectServing(_ node: Node, _ comment: Comment) async throws {
        let socket = try await ChatConnection.connect(url: "ws://127.0.0.1:\(node.port)/ws/bystander\(Int.random(in: 0..<1_000_000))")
        socket.send(json: ["op": "ping"])
        #expect(await socket.next { $0["op"] as? String == "pong" } != nil, comment)
        await socket.close()
        let health = try await RawConnection.open(port: node.port)
        await health.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(await health.readAnswer().status == 200, comment)
    }

    @Test func silentTrickledAndIdleConnectionsEndWithinTheRequestTimeout() async throws {
        let node = try await Self.start(["--request-timeout", "1"])
        let opened = ContinuousClock.now
        let silent = try await RawConnection.open(port: node.port)
        let idle = try await RawConnection.open(port: node.port)
        await idle.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(await idle.readAnswer().status == 200)
        var slowloris: [RawConnection] = []
        for _ in 0..<20 {
            let connection = try await RawConnection.open(port: node.port)
            await connection.send("GET /ws/alice HTTP/1.1\r\n")
            slowloris.append(connection)
        }
        // A header line now and then, never the blank line that ends the head.
        let trickle = Task {
            for index in 0..<10 {
                for connection in slowloris { await connection.send("X-Trickle-\(index): 1\r\n") }
                try await Task.sleep(for: .milliseconds(300))
            }
        }
        let silentEnd = await silent.readUntilClosed(timeout: .seconds(5))
        #expect(silentEnd.closed && silentEnd.text.isEmpty, "a connection that sent nothing is closed without an answer")
        let idleEnd = await idle.readUntilClosed(timeout: .seconds(5))
        #expect(idleEnd.closed && !idleEnd.text.contains("HTTP/1.1 408"), "an idle keep-alive connection is closed")
        for connection in slowloris {
            let end = await connection.readUntilClosed(timeout: .seconds(5))
            #expect(end.closed && end.status == 408, "a trickled head is answered 408: \(end.text)")
        }
        #expect(ContinuousClock.now - opened < .seconds(5))
        trickle.cancel()
        try await Self.expectServing(node, "after the slow clients")
        let timeouts = try await Self.metric(node.port, "chatrelay_refusals_total", label: #"reason="request_timeout""#)
        #expect(timeouts == 20, "the 20 trickled heads are counted; the silent and idle connections are not refusals")
    }

    @Test func aHeadOver16KiBIs431AndBytesThatAreNotHTTPAre400() async throws {
        let node = try await Self.start()
        let huge = try await RawConnection.open(port: node.port)
        await huge.send("GET /ws/alice HTTP/1.1\r\nHost: x\r\nX-Padding: " + String(repeating: "p", count: 100_000) + "\r\n\r\n")
        let hugeEnd = await huge.readUntilClosed()
        #expect(hugeEnd.status == 431 && hugeEnd.closed, "\(hugeEnd.text.prefix(200))")
        #expect(hugeEnd.text.contains(#""error":"head_too_large""#))

        // A long request line counts too.
        let longLine = try await RawConnection.open(port: node.port)
        await longLine.send("GET /" + String(repeating: "a", count: 20_000) + " HTTP/1.1\r\n\r\n")
        #expect(await longLine.readUntilClosed().status == 431)

        // Just under the bound is served.
        let large = try await RawConnection.open(port: node.port)
        await large.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: " + String(repeating: "p", count: 15_000) + "\r\n\r\n")
        #expect(await large.readAnswer().status == 200)

        for garbage: [UInt8] in [[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03], Array("HELLO WORLD\r\n\r\n".utf8)] {
            let connection = try await RawConnection.open(port: node.port)
            await connection.send(garbage)
            let end = await connection.readUntilClosed()
            #expect(end.status == 400 && end.closed, "\(garbage): \(end.text)")
        }
        try await Self.expectServing(node, "after the malformed requests")
    }

    @Test func pastMaxConnectionsANewConnectionIsAnswered503() async throws {
        let node = try await Self.start(["--max-connections", "4", "--request-timeout", "30"])
        var held: [RawConnection] = []
        for _ in 0..<4 { held.append(try await RawConnection.open(port: node.port)) }
        try await Task.sleep(for: .milliseconds(200))
        let refused = try await RawConnection.open(port: node.port)
        let end = await refused.readUntilClosed()
        #expect(end.status == 503 && end.closed, "\(end.text)")
        #expect(end.text.contains(#""error":"unavailable""#))
        // One held connection goes: room for another, which is served.
        held.removeFirst()
        try await Task.sleep(for: .milliseconds(300))
        let served = try await RawConnection.open(port: node.port)
        await served.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(await served.readAnswer().status == 200)
        _ = held
    }

    /// Started with a soft limit of 512 (`prlimit` execs the node under it), the node runs with its hard limit.
    @Test func theNodeRaisesItsOpenFileLimitToTheHardLimit() async throws {
        let node = try await Self.start(launcher: ["/usr/bin/prlimit", "--nofile=512:"])
        let limits = try String(contentsOfFile: "/proc/\(node.process.process.processIdentifier)/limits", encoding: .utf8)
        let line = try #require(limits.split(separator: "\n").first { $0.hasPrefix("Max open files") })
        let numbers = line.split(separator: " ").compactMap { Int($0) }
        #expect(numbers.count == 2 && numbers[0] == numbers[1] && numbers[0] > 512, "\(line)")
    }

    /// SIGTERM ends the node within its drain time, whatever its clients do: a trickled upgrade, a silent connection,
    /// an idle keep-alive one, a request whose body never comes, and an open socket (closed with 1001).
    @Test func aDrainedNodeExitsWhateverItsClientsDo() async throws {
        let node = try await Self.start(["--request-timeout", "60"])
        let socket = try await ChatConnection.connect(url: "ws://127.0.0.1:\(node.port)/ws/alice")
        let trickled = try await RawConnection.open(port: node.port)
        await trickled.send("GET /ws/bob HTTP/1.1\r\nHost: x\r\n")
        let silent = try await RawConnection.open(port: node.port)
        let idle = try await RawConnection.open(port: node.port)
        await idle.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(await idle.readAnswer().status == 200)
        let bodiless = try await RawConnection.open(port: node.port)
        await bodiless.send("POST /api/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        try await Task.sleep(for: .milliseconds(200))

        let signalled = ContinuousClock.now
        kill(node.process.process.processIdentifier, SIGTERM)
        let status = await node.process.exitStatus(within: 15)
        #expect(status == 0, "exit status \(status.map(String.init) ?? "none: still running")")
        #expect(ContinuousClock.now - signalled < .seconds(8), "the drain took \(ContinuousClock.now - signalled)")
        #expect(try await waitFor { socket.isClosed })
        #expect(socket.closeCode == 1001)
        for connection in [trickled, silent, idle, bodiless] { #expect(await connection.readUntilClosed(timeout: .seconds(2)).closed) }
    }

    /// A sample of the node's `/metrics` whose labels include `label`.
    static func metric(_ port: Int, _ name: String, label: String) async throws -> Double? {
        let text = try await get(port, "/metrics")
        let line = text.split(separator: "\n").first { $0.hasPrefix(name + "{") && $0.contains(label) }
        return line.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }
    }

    static func get(_ port: Int, _ path: String) async throws -> String {
        let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        return String(decoding: data, as: UTF8.self)
    }
}
