import ChatClient
import Foundation
import JWTKit
import Testing

/// Claims shaped like the relay's, with no checks of their own, to forge the tokens a relay must refuse.
struct ForgedClaims: JWTPayload {
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var nbf: NotBeforeClaim?
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

@Suite struct HostileInputTests {
    @Test func forgedAndOddTokensAreRefused() async throws {
        let cluster = try await TestCluster.start(nodes: 1, auth: .jwt)
        defer { Task { await cluster.stop() } }
        let secret = TestCluster.jwtSecret
        let hs256 = JWTKeyCollection()
        await hs256.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        let hs384 = JWTKeyCollection()
        await hs384.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha384)
        let later = Date().addingTimeInterval(3600)
        func base64url(_ json: String) -> String {
            Data(json.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        let tokens: [(String, String)] = [
            (
                "alg none",
                base64url(#"{"alg":"none","typ":"JWT"}"#) + "." + base64url(#"{"sub":"alice","exp":\#(Int(later.timeIntervalSince1970))}"#) + "."
            ),
            ("HS384", try await hs384.sign(ForgedClaims(sub: "alice", exp: .init(value: later)))),
            (
                "not yet valid",
                try await hs256.sign(ForgedClaims(sub: "alice", exp: .init(value: later), nbf: .init(value: later.addingTimeInterval(-600))))
            ),
            ("sub with bad characters", try await hs256.sign(ForgedClaims(sub: "alice/../bob", exp: .init(value: later)))),
            ("garbage", "not.a.token"),
        ]
        for (name, token) in tokens {
            let answer = try await cluster.http("GET", "/ws?token=\(token)", token: "")
            #expect(answer.status == 401, "\(name): \(answer.status)")
            await #expect(throws: (any Error).self, "\(name) upgraded") {
                _ = try await ChatConnection.connect(url: "ws://127.0.0.1:\(cluster.port(0))/ws?token=\(token)")
            }
        }
        // The real thing still works.
        let good = try await hs256.sign(ForgedClaims(sub: "alice", exp: .init(value: later)))
        #expect(try await cluster.http("GET", "/ws?token=\(good)", token: "").status == 426)
    }

    @Test func invalidUTF8ClosesWith1007AndStoresNothing() async throws {
        let cluster = try await TestCluster.start(nodes: 1)
        defer { Task { await cluster.stop() } }
        let (alice, _, friendship) = try await cluster.makeFriends("alice", "bob")
        let a = try await cluster.connect(alice, node: 0)
        let prefix = Array(#"{"friend":"\#(friendship)","content":""#.utf8)
        a.send(textBytes: prefix + [0xC3, 0x28, 0xFF] + Array(#""}"#.utf8))
        #expect(await cluster.eventually(seconds: 5) { a.isClosed })
        #expect(a.closeCode == 1007)
        #expect(try await cluster.history(friendship).isEmpty)
    }
}
