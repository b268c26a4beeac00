import Foundation
import JWTKit

/// Issues tokens: HS256 with the shared secret (`chatrelay token`, the load generator, tests), or RS256, ES256 or
/// EdDSA with a private key, as an identity provider would (the load generator's measure of verifying each). Nodes
/// verify with ``TokenVerifier``.
public struct TokenAuthority: Sendable {
    private let keys: JWTKeyCollection

    /// HS256 keys shorter than the hash (32 bytes) are weak; jwt-kit refuses them, and so does the relay, clearly.
    public static let minimumSecretBytes = 32

    public init(secret: String) async throws(TokenError) {
        try Self.checkStrength(secret)
        keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
    }

    /// A PEM private key: RSA (RS256), P-256 (ES256) or Ed25519 (EdDSA), whichever it is.
    public init(privateKeyPEM pem: String) async throws(TokenError) {
        keys = JWTKeyCollection()
        if let rsa = try? Insecure.RSA.PrivateKey(pem: pem) {
            await keys.add(rsa: rsa, digestAlgorithm: .sha256)
        } else if let ecdsa = try? ES256PrivateKey(pem: pem) {
            await keys.add(ecdsa: ecdsa)
        } else if let eddsa = try? EdDSA.PrivateKey(pem: pem) {
            await keys.add(eddsa: eddsa)
        } else {
            throw TokenError(description: "not a PEM private key of RSA, P-256 (ES256) or Ed25519 (EdDSA)")
        }
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
