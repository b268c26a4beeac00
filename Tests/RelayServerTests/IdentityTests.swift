import ChatClient
import Foundation
import RelayCore
import TestSupport
import Testing

/// Tokens from an identity provider (PEM keys of each algorithm, a JWKS endpoint that rotates), the subprotocol that
/// keeps tokens out of URLs, sockets that end with their token, and refresh in band.
@Suite struct IdentityTests {
    static func pemFiles(_ signers: [TestSigner]) throws -> (paths: [String], directory: URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chatrelay-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let paths = try signers.map { signer in
            let path = directory.appendingPathComponent("\(signer.algorithm.rawValue).pem").path
            try signer.publicKeyPEM.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        return (paths, directory)
    }

    @Test func publicKeysOfEachAlgorithmOpenSocketsAndAudienceAndIssuerAreHeld() async throws {
        let signers = [try await TestSigner(.rs256), try await TestSigner(.es256), try await TestSigner(.eddsa)]
        let (paths, directory) = try Self.pemFiles(signers)
        defer { ChildProcesses.discarded(directory) }
        let cluster = try await TestCluster.start(nodes: 1, auth: .jwt) {
            $0.jwtPublicKeyFiles = paths
            $0.jwtAudience = "chat"
            $0.jwtIssuer = "https://idp.example"
        }
        defer { Task { await cluster.stop() } }
        let exp = Date().timeIntervalSince1970 + 600
        for signer in signers {
            let token = try await signer.token(.init(sub: "alice", exp: exp, aud: ["chat"], iss: "https://idp.example"))
            let socket = try await ChatConnection.connect(url: "ws://127.0.0.1:\(cluster.port(0))/ws/alice", token: token)
            socket.send(json: ["op": "ping"])
            #expect(await socket.next(where: { $0["op"] as? String == "pong" }) != nil, "\(signer.algorithm)")
            await socket.close()
        }
        let es = signers[1]
        for claims in [
            TestSigner.Claims(sub: "alice", exp: exp, aud: ["mail"], iss: "https://idp.example"),
            TestSigner.Claims(sub: "alice", exp: exp, aud: ["chat"], iss: "https://evil.example"),
            TestSigner.Claims(sub: "alice", exp: exp - 700, aud: ["chat"], iss: "https://idp.example"),
        ] {
            let token = try await es.token(claims)
            #expect(try await cluster.upgradeStatus("/ws/alice", headers: ["Authorization": "Bearer \(token)"]) == 401)
        }
        // The HS256 secret is configured too, but its token lacks the audience; a key the node lacks verifies nothing.
        #expect(try await cluster.upgradeStatus("/ws/alice", headers: ["Authorization": "Bearer \(try await cluster.token(for: "alice"))"]) == 401)
        let stranger = try await TestSigner(.rs256).token(.init(sub: "alice", exp: exp, aud: ["chat"], iss: "https://idp.example"))
        #expect(try await cluster.upgradeStatus("/ws/alice", headers: ["Authorization": "Bearer \(stranger)"]) == 401)
    }

    @Test func theTokenTravelsAsASubprotocolAndTheNodeSelectsChatrelay() async throws {
        let cluster = try await TestCluster.start(nodes: 1, auth: .jwt)
        defer { Task { await cluster.stop() } }
        let token = try await cluster.token(for: "alice")
        let connection = try await RawConnection.open(port: cluster.port(0))
        await connection.send(
            "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n\(HostileConnectionTests.upgrade)Sec-WebSocket-Protocol: chatrelay, chatrelay.token.\(token)\r\n\r\n"
        )
        let answer = await connection.readAnswer()
        #expect(answer.status == 101)
        #expect(answer.text.lowercased().contains("sec-websocket-protocol: chatrelay\r\n"))
        #expect(!answer.text.contains(token))
        // Without a token among the subprotocols: 401; with another user's path: 403.
        #expect(try await cluster.upgradeStatus("/ws", headers: ["Sec-WebSocket-Protocol": "chatrelay"]) == 401)
        #expect(try await cluster.upgradeStatus("/ws/bob", headers: ["Sec-WebSocket-Protocol": "chatrelay, chatrelay.token.\(token)"]) == 403)
        #expect(try await cluster.upgradeStatus("/ws", headers: ["Sec-WebSocket-Protocol": "chatrelay, chatrelay.token.garbage"]) == 401)
    }

    @Test func keysRotateAtTheProviderWhileSocketsStayOpenAndAFailingProviderKeepsTheKeys() async throws {
        let first = try await TestSigner(.rs256)
        let second = try await TestSigner(.es256)
        let provider = try await KeySetServer.start(serving: [first])
        defer { Task { await provider.stop() } }
        let cluster = try await TestCluster.start(nodes: 2, auth: .jwt) {
            $0.jwtSecret = nil
            $0.jwksURL = provider.url
        }
        defer { Task { await cluster.stop() } }
        #expect(provider.fetches == 2, "each node fetches at start")
        let url = { (node: Int) in "ws://127.0.0.1:\(cluster.port(node))/ws" }
        let old = try await ChatConnection.connect(url: url(0), token: try await first.token(for: "alice"))
        old.send(json: ["op": "ping"])
        #expect(await old.next(where: { $0["op"] as? String == "pong" }) != nil)

        // The provider rotates to a new key: a token naming it makes each node fetch once, and opens.
        provider.serve([second])
        for node in 0..<2 {
            let socket = try await ChatConnection.connect(url: url(node), token: try await second.token(for: "bob"))
            socket.send(json: ["op": "ping"])
            #expect(await socket.next(where: { $0["op"] as? String == "pong" }) != nil)
        }
        #expect(provider.fetches == 4)
        // The socket opened with the retired key lives on until its token expires.
        old.send(json: ["op": "ping"])
        #expect(await old.next(where: { $0["op"] as? String == "pong" }) != nil)
        // The retired key opens nothing new, and an unknown kid within the minute fetches nothing more.
        #expect(try await cluster.upgradeStatus("/ws", headers: ["Authorization": "Bearer \(try await first.token(for: "alice"))"]) == 401)
        #expect(provider.fetches == 4)

        // The provider goes down: the fetch fails, counted, and the node keeps verifying with the keys it had.
        provider.fail()
        await cluster.nodes[0].relay.tokens?.keySet?.refreshNow()
        #expect(try await cluster.metricSamples(node: 0)[#"chatrelay_jwks_fetches_total{node="node0",result="failed"}"#] == 1)
        #expect(try await cluster.metricSamples(node: 0)[#"chatrelay_jwks_keys{node="node0"}"#] == 1)
        #expect(try await cluster.upgradeStatus("/ws", headers: ["Authorization": "Bearer \(try await second.token(for: "bob"))"]) == 101)
        await old.close()
    }

    @Test func aSocketClosesWith4001WhenItsTokenExpires() async throws {
        let cluster = try await TestCluster.start(nodes: 1, auth: .jwt)
        defer { Task { await cluster.stop() } }
        let socket = try await ChatConnection.connect(
            url: "ws://127.0.0.1:\(cluster.port(0))/ws",
            token: try await cluster.token(for: "alice", ttl: 6)
        )
        socket.send(json: ["op": "ping"])
        #expect(await socket.next(where: { $0["op"] as? String == "pong" }, timeout: .seconds(20)) != nil)
        #expect(await cluster.eventually(seconds: 30) { socket.isClosed })
        #expect(socket.closeCode == 4001)
        // Counted when the connection ends, once the client answered the close: a moment after the client saw it.
        #expect(
            await cluster.eventually(seconds: 20) {
                (try? await cluster.metricSamples(node: 0)[#"chatrelay_socket_closes_total{node="node0",reason="token_expired"}"#]) == 1
            }
        )
    }

    @Test func aRefreshKeepsTheSocketOpenAndABadOneChangesNothing() async throws {
        let cluster = try await TestCluster.start(nodes: 1, auth: .jwt)
        defer { Task { await cluster.stop() } }
        let url = "ws://127.0.0.1:\(cluster.port(0))/ws"
        // Both tokens run out in 8 s: room for a loaded machine to open both sockets and refresh one before then.
        let refreshed = try await ChatConnection.connect(url: url, token: try await cluster.token(for: "alice", ttl: 8))
        let unrefreshed = try await ChatConnection.connect(url: url, token: try await cluster.token(for: "alice", ttl: 8))

        let later = try await cluster.token(for: "alice", ttl: 60)
        refreshed.send(json: ["op": "refresh", "token": later, "cid": "r1"])
        let answer = await refreshed.next(where: { $0["op"] as? String == "refreshed" }, timeout: .seconds(20))
        #expect(answer?["cid"] as? String == "r1")
        let exp = answer?["exp"] as? Int ?? 0
        #expect(abs(Double(exp) - (Date().timeIntervalSince1970 + 60)) < 30)

        // Bad tokens are refused with bad_token and the socket's end stays where it was.
        for (token, cid) in [("garbage", "b1"), (try await cluster.token(for: "bob", ttl: 60), "b2")] {
            unrefreshed.send(json: ["op": "refresh", "token": token, "cid": cid])
            let error = await unrefreshed.next(where: { $0["op"] as? String == "error" }, timeout: .seconds(20))
            #expect(error?["code"] as? String == "bad_token")
            #expect(error?["cid"] as? String == cid)
        }
        unrefreshed.send(json: ["op": "refresh", "cid": "b3"])
        #expect(await unrefreshed.next(where: { $0["op"] as? String == "error" }, timeout: .seconds(20))?["code"] as? String == "bad_message")

        #expect(await cluster.eventually(seconds: 30) { unrefreshed.isClosed })
        #expect(unrefreshed.closeCode == 4001)
        // Past the first token's expiry, the refreshed socket still answers.
        refreshed.send(json: ["op": "ping"])
        #expect(await refreshed.next(where: { $0["op"] as? String == "pong" }, timeout: .seconds(20)) != nil)
        #expect(!refreshed.isClosed)
        await refreshed.close()
    }
}

extension IdentityTests {
    @Test func disconnectAndBlockReachEveryNodeOnOneRedis() async throws {
        let cluster = try await TestCluster.start(nodes: 2, auth: .jwt)
        defer { Task { await cluster.stop() } }
        try await EndedSessions.check(cluster, alice: "alice", bob: "bob") {
            try await cluster.redis.command("EXISTS", "chat:blocked:{alice}") == .integer(1)
        }
        // Admin routes: a user's token is not the admin's.
        #expect(try await cluster.http("POST", "/api/users/bob/disconnect", token: try await cluster.token(for: "bob")).status == 401)
    }
}
