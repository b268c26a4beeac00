import Foundation
import Logging
import RelayCore
import TestSupport
import Testing

@Suite struct TokenVerifierTests {
    static let secret = "a-shared-secret-of-at-least-32-bytes!"
    static let now = 1_800_000_000.0

    static func verifier(_ keys: [VerificationKey], audience: String? = nil, issuer: String? = nil) -> TokenVerifier {
        TokenVerifier(keys: keys, audience: audience, issuer: issuer, now: { now })
    }

    @Test(arguments: TestSigner.Algorithm.allCases)
    func aPEMPublicKeyVerifiesTokensOfItsAlgorithm(_ algorithm: TestSigner.Algorithm) async throws {
        let signer = try await TestSigner(algorithm)
        let key = try await VerificationKey.publicKey(pem: signer.publicKeyPEM)
        #expect(key.algorithmName == algorithm.rawValue)
        let verifier = Self.verifier([key])
        let token = try await signer.token(.init(sub: "alice", exp: Self.now + 60))
        #expect(try await verifier.verify(token) == VerifiedToken(userID: "alice", expiresAt: Int64(Self.now + 60)))
        // Another key of the same algorithm did not sign it.
        let stranger = try await TestSigner(algorithm)
        await #expect(throws: TokenError.self) { try await verifier.verify(try await stranger.token(.init(sub: "alice", exp: Self.now + 60))) }
    }

    @Test func aTokenWhoseAlgorithmNoKeyHasIsRefused() async throws {
        let rsa = try await TestSigner(.rs256)
        let verifier = Self.verifier([try await VerificationKey.publicKey(pem: rsa.publicKeyPEM)])
        let hs256 = try await TokenAuthority(secret: Self.secret).issue(userID: "alice")
        let error = await #expect(throws: TokenError.self) { try await verifier.verify(hs256) }
        #expect(error?.description.contains("no key of this node verifies HS256") == true)
    }

    /// The classic confusion: an HS256 token whose HMAC key is the RSA public key's PEM text.
    @Test func anRSAPublicKeyIsNeverUsedAsAnHMACSecret() async throws {
        let rsa = try await TestSigner(.rs256)
        let verifier = Self.verifier([try await VerificationKey.publicKey(pem: rsa.publicKeyPEM)])
        let forged = try await TokenAuthority(secret: rsa.publicKeyPEM).issue(userID: "mallory")
        await #expect(throws: TokenError.self) { try await verifier.verify(forged) }
    }

    @Test func algNoneAndOtherAlgorithmsAreRefused() async throws {
        let verifier = Self.verifier([try await VerificationKey.sharedSecret(Self.secret)])
        func unsigned(_ alg: String) -> String {
            let header = Data(#"{"alg":"\#(alg)","typ":"JWT"}"#.utf8).base64EncodedString()
            let payload = Data(#"{"sub":"mallory","exp":\#(Int(Self.now) + 60)}"#.utf8).base64EncodedString()
            return "\(header.replacingOccurrences(of: "=", with: "")).\(payload.replacingOccurrences(of: "=", with: "")).AAAA"
        }
        for alg in ["none", "HS512", "RS384", "PS256"] {
            let error = await #expect(throws: TokenError.self) { try await verifier.verify(unsigned(alg)) }
            #expect(error?.description.contains("not accepted") == true, "\(alg)")
        }
    }

    @Test func expiryAndNotBeforeHaveTwoSecondsOfLeewayAndNoMore() async throws {
        let signer = try await TestSigner(.es256)
        let verifier = Self.verifier([try await VerificationKey.publicKey(pem: signer.publicKeyPEM)])
        let now = Self.now
        _ = try await verifier.verify(try await signer.token(.init(sub: "a", exp: now - 1)))
        await #expect(throws: TokenError.self) { try await verifier.verify(try await signer.token(.init(sub: "a", exp: now - 3))) }
        _ = try await verifier.verify(try await signer.token(.init(sub: "a", exp: now + 60, nbf: now + 1)))
        await #expect(throws: TokenError.self) { try await verifier.verify(try await signer.token(.init(sub: "a", exp: now + 60, nbf: now + 3))) }
        // exp is required.
        await #expect(throws: TokenError.self) { try await verifier.verify(try await signer.token(.init(sub: "a", exp: nil))) }
    }

    @Test func audienceAndIssuerAreCheckedWhenConfigured() async throws {
        let signer = try await TestSigner(.eddsa)
        let key = try await VerificationKey.publicKey(pem: signer.publicKeyPEM)
        let verifier = Self.verifier([key], audience: "chat", issuer: "https://idp.example")
        let exp = Self.now + 60
        _ = try await verifier.verify(try await signer.token(.init(sub: "a", exp: exp, aud: ["mail", "chat"], iss: "https://idp.example")))
        for claims in [
            TestSigner.Claims(sub: "a", exp: exp, aud: ["mail"], iss: "https://idp.example"),
            TestSigner.Claims(sub: "a", exp: exp, iss: "https://idp.example"),
            TestSigner.Claims(sub: "a", exp: exp, aud: ["chat"], iss: "https://evil.example"),
            TestSigner.Claims(sub: "a", exp: exp, aud: ["chat"]),
        ] {
            await #expect(throws: TokenError.self) { try await verifier.verify(try await signer.token(claims)) }
        }
        // Without the settings, neither claim matters.
        _ = try await Self.verifier([key]).verify(try await signer.token(.init(sub: "a", exp: exp, aud: ["mail"], iss: "x")))
    }

    @Test func aBadSubjectIsRefused() async throws {
        let signer = try await TestSigner(.es256)
        let verifier = Self.verifier([try await VerificationKey.publicKey(pem: signer.publicKeyPEM)])
        await #expect(throws: TokenError.self) { try await verifier.verify(try await signer.token(.init(sub: "no spaces", exp: Self.now + 60))) }
    }

    @Test func garbageIsRefusedWithAReason() async throws {
        let verifier = Self.verifier([try await VerificationKey.sharedSecret(Self.secret)])
        for text in ["", "a.b", "a.b.c.d", "!!!.???.***", "e30.e30.", String(repeating: "A", count: 5000)] {
            await #expect(throws: TokenError.self) { try await verifier.verify(text) }
        }
        await #expect(throws: TokenError.self) {
            try await VerificationKey.publicKey(pem: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")
        }
        await #expect(throws: TokenError.self) { try await VerificationKey.sharedSecret("short") }
    }

    @Test func aKeySetKeepsTheKeysItCanUseAndMatchesThemByKid() async throws {
        let (rsa, ec, ed) = (try await TestSigner(.rs256), try await TestSigner(.es256), try await TestSigner(.eddsa))
        var entries: [[String: String]] = [rsa.jwk, ec.jwk, ed.jwk]
        entries.append(["kty": "RSA", "use": "enc", "kid": "encryption", "n": rsa.jwk["n"]!, "e": rsa.jwk["e"]!])
        entries.append(["kty": "oct", "kid": "symmetric", "k": "c2VjcmV0"])
        entries.append(["kty": "EC", "crv": "P-384", "kid": "p384", "x": "AAAA", "y": "AAAA"])
        let body = Array(try JSONSerialization.data(withJSONObject: ["keys": entries]))
        let document = try await KeySetDocument.parse(body)
        #expect(Set(document.keys.compactMap(\.kid)) == [rsa.kid, ec.kid, ed.kid])
        #expect(document.skipped == 3)
        await #expect(throws: TokenError.self) { try await KeySetDocument.parse(Array("not json".utf8)) }

        let keySet = RemoteKeySet(location: "test", logger: Logger(label: "test"), metrics: .discarding) { body }
        await keySet.refreshNow()
        let verifier = TokenVerifier(keys: [], keySet: keySet)
        for signer in [rsa, ec, ed] {
            #expect(try await verifier.verify(try await signer.token(for: "alice")).userID == "alice")
        }
        // A key of the set verifies only tokens that name its kid.
        await #expect(throws: TokenError.self) {
            try await verifier.verify(try await rsa.token(.init(sub: "a", exp: Date().timeIntervalSince1970 + 60), withKid: false))
        }
    }

    @Test func anUnknownKidFetchesTheSetAtMostOnceAMinute() async throws {
        let old = try await TestSigner(.es256)
        let new = try await TestSigner(.es256)
        let served = Served(TestSigner.keySet([old]))
        let keySet = RemoteKeySet(location: "test", logger: Logger(label: "test"), metrics: .discarding) { try served.take() }
        await keySet.refreshNow()
        let verifier = TokenVerifier(keys: [], keySet: keySet)
        _ = try await verifier.verify(try await old.token(for: "alice"))
        #expect(served.fetches == 1)
        // The provider rotated: the first token with the new kid fetches the set, and passes.
        served.body = TestSigner.keySet([new])
        _ = try await verifier.verify(try await new.token(for: "alice"))
        #expect(served.fetches == 2)
        // The old key went with the fetch; another unknown kid within the minute does not fetch again.
        await #expect(throws: TokenError.self) { try await verifier.verify(try await old.token(for: "alice")) }
        #expect(served.fetches == 2)
        // A failing provider keeps the keys the node had.
        served.failing = true
        await keySet.refreshNow()
        #expect(served.fetches == 3)
        _ = try await verifier.verify(try await new.token(for: "alice"))
    }
}

/// A key set endpoint in memory, counting its fetches.
private final class Served: @unchecked Sendable {
    private let lock = NSLock()
    private var _body: [UInt8]
    private var _fetches = 0
    private var _failing = false

    init(_ body: [UInt8]) { _body = body }

    var body: [UInt8] {
        get { lock.withLock { _body } }
        set { lock.withLock { _body = newValue } }
    }
    var failing: Bool {
        get { lock.withLock { _failing } }
        set { lock.withLock { _failing = newValue } }
    }
    var fetches: Int { lock.withLock { _fetches } }

    struct Down: Error {}

    func take() throws -> [UInt8] {
        try lock.withLock {
            _fetches += 1
            if _failing { throw Down() }
            return _body
        }
    }
}
