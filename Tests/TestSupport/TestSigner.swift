import CryptoExtras
import Foundation
import JWTKit

/// Signs tokens as an identity provider would, with a key of each algorithm the relay accepts, and serves the
/// public halves as PEM text or as a JSON Web Key.
public struct TestSigner: Sendable {
    public enum Algorithm: String, Sendable, CaseIterable {
        case rs256 = "RS256"
        case es256 = "ES256"
        case eddsa = "EdDSA"
    }

    /// The claims a test puts in a token; nil ones are left out.
    public struct Claims: JWTPayload {
        public var sub: String
        public var exp: Double?
        public var nbf: Double?
        public var aud: [String]?
        public var iss: String?

        public init(sub: String, exp: Double?, nbf: Double? = nil, aud: [String]? = nil, iss: String? = nil) {
            (self.sub, self.exp, self.nbf, self.aud, self.iss) = (sub, exp, nbf, aud, iss)
        }

        public func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    public let algorithm: Algorithm
    public let kid: String
    public let publicKeyPEM: String
    /// The public key as one entry of a key set's `keys`.
    public let jwk: [String: String]
    private let keys: JWTKeyCollection

    public init(_ algorithm: Algorithm, kid: String = UUID().uuidString) async throws {
        self.algorithm = algorithm
        self.kid = kid
        keys = JWTKeyCollection()
        switch algorithm {
        case .rs256:
            let key = try Insecure.RSA.PrivateKey(backing: try _RSA.Signing.PrivateKey(keySize: .bits2048))
            await keys.add(rsa: key, digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid))
            publicKeyPEM = key.publicKey.pemRepresentation
            let parameters = try key.publicKey.getKeyPrimitives()
            jwk = [
                "kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid,
                "n": Self.base64URL(parameters.modulus), "e": Self.base64URL(parameters.publicExponent),
            ]
        case .es256:
            let key = ES256PrivateKey()
            await keys.add(ecdsa: key, kid: JWKIdentifier(string: kid))
            publicKeyPEM = key.publicKey.pemRepresentation
            let parameters = key.publicKey.parameters!
            jwk = ["kty": "EC", "crv": "P-256", "kid": kid, "x": parameters.x, "y": parameters.y]
        case .eddsa:
            let key = try EdDSA.PrivateKey(curve: .ed25519)
            await keys.add(eddsa: key, kid: JWKIdentifier(string: kid))
            publicKeyPEM = key.publicKey.pemRepresentation
            jwk = ["kty": "OKP", "crv": "Ed25519", "kid": kid, "x": Self.base64URL(key.publicKey.rawRepresentation)]
        }
    }

    /// A token for `user`, valid for `ttl` seconds from now unless `claims` says otherwise. `withKid: false` leaves the
    /// header's `kid` out, as a provider with one key may.
    public func token(_ claims: Claims, withKid: Bool = true) async throws -> String {
        try await keys.sign(claims, kid: withKid ? JWKIdentifier(string: kid) : nil)
    }

    public func token(for user: String, ttl: Double = 600) async throws -> String {
        try await token(Claims(sub: user, exp: Date().timeIntervalSince1970 + ttl))
    }

    /// A key set holding `signers`' public keys, as a provider's JWKS endpoint serves it.
    public static func keySet(_ signers: [TestSigner]) -> [UInt8] {
        Array(try! JSONSerialization.data(withJSONObject: ["keys": signers.map(\.jwk)]))
    }

    static func base64URL(_ bytes: some DataProtocol) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
