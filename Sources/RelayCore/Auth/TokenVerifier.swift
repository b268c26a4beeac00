import Foundation

/// A token the node accepted: whose it is, and until when it may keep a socket open.
public struct VerifiedToken: Sendable, Equatable {
    public let userID: String
    /// Unix seconds: the token's `exp`.
    public let expiresAt: Int64

    public init(userID: String, expiresAt: Int64) {
        self.userID = userID
        self.expiresAt = expiresAt
    }
}

/// Verifies user tokens against every key the node was given: the HS256 secret, PEM public keys, and a JSON Web Key
/// Set. A key verifies a token when its algorithm is the token's `alg` and, for a key of the set, its `kid` is the
/// token's; a token whose `alg` no key has is refused before any signature is computed, so an RS256 public key can
/// never be used as an HMAC secret.
public final class TokenVerifier: Sendable {
    /// How far `exp` and `nbf` may be off: clocks of the provider and the node disagree by a little.
    public static let leeway: Double = 2

    private let fixedKeys: [VerificationKey]
    public let keySet: RemoteKeySet?
    private let audience: String?
    private let issuer: String?
    private let now: @Sendable () -> Double

    public init(
        keys: [VerificationKey],
        keySet: RemoteKeySet? = nil,
        audience: String? = nil,
        issuer: String? = nil,
        now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        fixedKeys = keys
        self.keySet = keySet
        self.audience = audience
        self.issuer = issuer
        self.now = now
    }

    /// The token's user and expiry; anything else (an unknown `alg`, `alg: none`, a bad signature, expired, not yet
    /// valid, another audience or issuer, a bad `sub`) throws with the reason.
    public func verify(_ token: String) async throws(TokenError) -> VerifiedToken {
        let text = try TokenText(token)
        guard VerificationKey.acceptedAlgorithms.contains(text.alg) else {
            throw TokenError(description: "tokens signed with \(text.alg.prefix(16)) are not accepted")
        }
        var candidates = keys(for: text)
        if candidates.isEmpty, let kid = text.kid, let keySet, !keySet.contains(kid: kid) {
            await keySet.refresh(forUnknownKid: kid)
            candidates = keys(for: text)
        }
        guard !candidates.isEmpty else {
            throw TokenError(description: "no key of this node verifies \(text.alg) tokens\(text.kid.map { " with kid \($0.prefix(64))" } ?? "")")
        }
        guard candidates.contains(where: { (try? $0.algorithm.verify(text.signature, signs: text.signingInput)) == true }) else {
            throw TokenError(description: "the token's signature is not valid")
        }
        let claims = try TokenClaims(json: text.payload)
        try claims.check(now: now(), leeway: Self.leeway, audience: audience, issuer: issuer)
        return VerifiedToken(userID: claims.sub, expiresAt: Int64(claims.exp.rounded(.down)))
    }

    private func keys(for text: TokenText) -> [VerificationKey] {
        (fixedKeys + (keySet?.keys ?? [])).filter { $0.matches(alg: text.alg, kid: text.kid) }
    }
}
