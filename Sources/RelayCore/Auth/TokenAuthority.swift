import Foundation
import JWTKit

/// Issues and checks HS256 tokens with one shared secret.
public struct TokenAuthority: Sendable {
    private let keys: JWTKeyCollection

    /// HS256 keys shorter than the hash (32 bytes) are weak; jwt-kit refuses them, and so does the relay, clearly.
    public static let minimumSecretBytes = 32

    public init(secret: String) async throws(TokenError) {
        guard secret.utf8.count >= Self.minimumSecretBytes else {
            throw TokenError(description: "the JWT secret must be at least \(Self.minimumSecretBytes) bytes, it has \(secret.utf8.count)")
        }
        keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
    }

    public func issue(userID: String, ttl: TimeInterval = 3600) async throws -> String {
        let claims = RelayClaims(sub: SubjectClaim(value: userID), exp: ExpirationClaim(value: Date().addingTimeInterval(ttl)))
        return try await keys.sign(claims)
    }

    /// The user id of a valid token; anything else (bad signature, other algorithm, `alg: none`, expired, not yet
    /// valid, bad `sub`) throws.
    public func verify(_ token: String) async throws(TokenError) -> String {
        do {
            return try await keys.verify(token, as: RelayClaims.self).sub.value
        } catch {
            throw TokenError(description: "invalid token: \(error)")
        }
    }
}
