import Foundation
import JWTKit

/// One key a token may be verified with: its algorithm's name (`HS256`, `RS256`, `ES256`, `EdDSA`) and, for keys of a
/// key set, the `kid` that names it. A key without a `kid` verifies tokens whatever `kid` they name.
public struct VerificationKey: Sendable {
    public let kid: String?
    let algorithm: any JWTAlgorithm

    public var algorithmName: String { algorithm.name }

    init(kid: String?, algorithm: any JWTAlgorithm) {
        self.kid = kid
        self.algorithm = algorithm
    }

    /// The algorithms the contract admits; jwt-kit knows more (RS384, PS256, ...), which stay refused.
    public static let acceptedAlgorithms: Set<String> = ["HS256", "RS256", "ES256", "EdDSA"]

    /// Whether this key may verify a token whose header names `alg` and `kid`.
    func matches(alg: String, kid tokenKid: String?) -> Bool {
        guard algorithm.name == alg else { return false }
        guard let kid else { return true }
        return kid == tokenKid
    }

    /// An HS256 key from a shared secret.
    static func hmac(secret: String) async -> VerificationKey {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        return VerificationKey(kid: nil, algorithm: try! await keys.getKey())
    }

    /// A public key from PEM text: RSA (RS256), P-256 (ES256) or Ed25519 (EdDSA), whichever it is.
    public static func publicKey(pem: String) async throws(TokenError) -> VerificationKey {
        let keys = JWTKeyCollection()
        if let rsa = try? Insecure.RSA.PublicKey(pem: pem) {
            await keys.add(rsa: rsa, digestAlgorithm: .sha256)
        } else if let ecdsa = try? ES256PublicKey(pem: pem) {
            await keys.add(ecdsa: ecdsa)
        } else if let eddsa = try? EdDSA.PublicKey(pem: pem) {
            await keys.add(eddsa: eddsa)
        } else {
            throw TokenError(description: "not a PEM public key of RSA, P-256 (ES256) or Ed25519 (EdDSA)")
        }
        do {
            return VerificationKey(kid: nil, algorithm: try await keys.getKey())
        } catch {
            throw TokenError(description: "unusable key: \(error)")
        }
    }
}
