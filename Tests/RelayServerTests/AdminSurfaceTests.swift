import ChatClient
import Foundation
import RelayCore
import TestSupport
import Testing

/// What an attacker can reach of the admin API, against real node processes: the throttle on wrong admin tokens, the
/// admin port that keeps admin routes and `/metrics` off the public port, and secrets that come from files.
@Suite(.takesTurns) struct AdminSurfaceTests {
    static let secret = "a-jwt-secret-of-at-least-32-bytes-long"
    static let adminToken = String(repeating: "a", count: 32)

    static func request(
        _ port: Int,
        _ method: String,
        _ path: String,
        bearer: String?,
        from source: String = "127.0.0.1",
        body: String = ""
    )
        async throws -> RawConnection.Received
    {
        let connection = try await RawConnection.open(port: port, from: source)
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n"
        if let bearer { head += "Authorization: Bearer \(bearer)\r\n" }
        if !body.isEmpty { head += "Content-Type: application/json\r\n" }
        await connection.send(head + "\r\n" + body)
        return await connection.readUntilClosed()
    }

    @Test func tenWrongAdminTokensFromOneAddressAreAnswered429ForAMinute() async throws {
        let node = try await HostileConnectionTests.start(
            ["--auth", "jwt", "--jwt-secret", Self.secret, "--admin-token", Self.adminToken]
        )
        // Requests without a bearer guess nothing and are not counted.
        for _ in 0..<12 {
            #expect(try await Self.request(node.port, "POST", "/api/broadcast", bearer: nil, body: #"{"content":"x"}"#).status == 401)
        }
        for attempt in 0..<10 {
            let answer = try await Self.request(node.port, "POST", "/api/broadcast", bearer: "guess-\(attempt)", body: #"{"content":"x"}"#)
            #expect(answer.status == 401, "attempt \(attempt): \(answer.text)")
        }
        // The right token too, from that address; a mixed route's admin attempt as well.
        let blocked = try await Self.request(node.port, "POST", "/api/broadcast", bearer: Self.adminToken, body: #"{"content":"x"}"#)
        #expect(blocked.status == 429, "\(blocked.text)")
        #expect(try await Self.request(node.port, "GET", "/api/users/alice", bearer: Self.adminToken).status == 429)
        // Another address is not held to it, and a user's own token still opens its route.
        let other = try await Self.request(node.port, "POST", "/api/broadcast", bearer: Self.adminToken, from: "127.0.0.2", body: #"{"content":"x"}"#)
        #expect(other.status == 202, "\(other.text)")
        let userToken = try await TokenAuthority(secret: Self.secret).issue(userID: "alice", ttl: 60)
        #expect(try await Self.request(node.port, "GET", "/api/users/alice", bearer: userToken).status == 404, "no such user, but let in")
        let refusals = try await HostileConnectionTests.metric(node.port, "chatrelay_refusals_total", label: #"reason="admin_throttle""#)
        #expect(refusals == 2)
    }

    @Test func withAnAdminPortTheAdminRoutesAndMetricsLeaveThePublicPort() async throws {
        let adminPort = try FreePort.next()
        let node = try await HostileConnectionTests.start(
            ["--auth", "jwt", "--jwt-secret", Self.secret, "--admin-token", Self.adminToken, "--admin-port", "\(adminPort)"]
        )
        let user = #"{"name":"alice","id":"alice"}"#
        #expect(try await Self.request(node.port, "POST", "/api/users", bearer: Self.adminToken, body: user).status == 404)
        #expect(try await Self.request(node.port, "GET", "/metrics", bearer: nil).status == 404)
        #expect(try await Self.request(adminPort, "POST", "/api/users", bearer: Self.adminToken, body: user).status == 201)
        #expect(try await Self.request(adminPort, "GET", "/metrics", bearer: nil).status == 200)
        // A user's route stays public, and there the admin token is refused; the user's own token opens it.
        #expect(try await Self.request(node.port, "GET", "/api/users/alice", bearer: Self.adminToken).status == 401)
        let userToken = try await TokenAuthority(secret: Self.secret).issue(userID: "alice", ttl: 60)
        #expect(try await Self.request(node.port, "GET", "/api/users/alice", bearer: userToken).status == 200)
        #expect(try await Self.request(adminPort, "GET", "/api/users/alice", bearer: Self.adminToken).status == 200)
        #expect(try await Self.request(node.port, "GET", "/healthz", bearer: nil).status == 200)
    }

    @Test func secretsComeFromFilesAndAreRefusedWhenGivenTwiceOrTooShort() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chatrelay-secrets-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        ChildProcesses.scratch(directory)
        defer { ChildProcesses.discarded(directory) }
        func file(_ name: String, _ text: String) throws -> String {
            let path = directory.appendingPathComponent(name).path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let redis = try await RedisServer(arguments: ["--requirepass", "redis-pass"])
        let environment = [
            "CHATRELAY_JWT_SECRET_FILE": try file("jwt", Self.secret + "\n"),
            "CHATRELAY_ADMIN_TOKEN_FILE": try file("admin", Self.adminToken + "\n"),
            "CHATRELAY_REDIS_PASSWORD_FILE": try file("redis", "redis-pass\n"),
        ]
        let port = try FreePort.next()
        let node = try RelayProcess(
            arguments: ["--redis", "redis://127.0.0.1:\(redis.port)/0", "--log-level", "error"],
            port: port,
            environment: environment
        )
        #expect(try await node.becomesReady(), "\(node.standardError)")
        #expect(try await Self.request(port, "POST", "/api/users", bearer: Self.adminToken, body: #"{"name":"bob"}"#).status == 201)
        let token = try await TokenAuthority(secret: Self.secret).issue(userID: "bob", ttl: 60)
        let socket = try await ChatConnection.connect(url: "ws://127.0.0.1:\(port)/ws/bob?token=\(token)")
        socket.send(json: ["op": "ping"])
        #expect(await socket.next { $0["op"] as? String == "pong" } != nil)
        await socket.close()

        var twice = environment
        twice["CHATRELAY_JWT_SECRET"] = Self.secret
        let refused = try RelayProcess(arguments: ["--redis", "redis://127.0.0.1:\(redis.port)/0"], port: try FreePort.next(), environment: twice)
        #expect(await refused.exitStatus(within: 10).map { $0 != 0 } == true)
        #expect(refused.standardError.contains("CHATRELAY_JWT_SECRET and CHATRELAY_JWT_SECRET_FILE are both set"), "\(refused.standardError)")

        let short = try RelayProcess(
            arguments: ["--redis", redis.url, "--jwt-secret", Self.secret, "--admin-token", "short-admin-token"],
            port: try FreePort.next(),
            environment: ["CHATRELAY_REDIS_PASSWORD_FILE": environment["CHATRELAY_REDIS_PASSWORD_FILE"]!]
        )
        #expect(await short.exitStatus(within: 10).map { $0 != 0 } == true)
        #expect(short.standardError.contains("--admin-token must be at least 32 bytes"), "\(short.standardError)")
    }
}
