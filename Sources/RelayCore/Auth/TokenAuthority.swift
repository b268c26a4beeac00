import Foundation
import JWTKit

/// Issues HS256 tokens with the shared secret (`chatrelay token`, the load generator, tests). Nodes verify with
/// ``TokenVerifier``, which also takes keys that only an identity provider can sign with.
public struct TokenAuthority: Sendable {
    private let keys: JWTKeyCollection

    /// HS256 keys shorter than the hash (32 bytes) are weak; jwt-kit refuses them, and so does the relay, clearly.
    public static let minimumSecretBytes = 32

    public init(secret: String) async throws(TokenError) {
        try Self.checkStrength(secret)
        keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
    }

    static func checkStrength(_ secret: String) throws(TokenError) {
        guard secret.utf8.count >= Self.minimumSecretBytes else {
            throw TokenError(description: "the JWT secret must be at least \(Self.minimumSecretBytes) bytes, it has \(secret.utf8.count)")
        }
    }

    public func issue(userID: String, ttl: TimeInterval = 3600) async throws -> String {
        let claims = RelayClaims(sub: SubjectClaim(value: userID), exp: ExpirationClaim(value: Date().addingTimeInterval(ttl)))
        return try await keys.sign(claims)
    }
}

extension VerificationKey {
    /// The HS256 key of a shared secret, held to the same strength as ``TokenAuthority`` holds it.
    public static func sharedSecret(_ secret: String) async throws(TokenError) -> VerificationKey {
        try TokenAuthority.checkStrength(secret)
        return await hmac(secret: secret)
    }
}
