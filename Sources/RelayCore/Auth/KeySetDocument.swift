import Foundation
import JWTKit

/// A JSON Web Key Set as an identity provider serves it, turned into the keys the contract admits. Keys of other
/// types or uses (encryption, RS384, P-384, symmetric, ...) are skipped, not errors: providers publish them beside
/// the signing keys, and one jwt-kit cannot read must not take the others down with it.
public struct KeySetDocument: Sendable {
    public let keys: [VerificationKey]
    /// Keys the set had that no token may be verified with, for the logs.
    public let skipped: Int

    /// A body that is not a key set throws, and the node keeps the keys it had.
    public static func parse(_ body: [UInt8]) async throws(TokenError) -> KeySetDocument {
        guard let document = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let entries = document["keys"] as? [Any]
        else {
            throw TokenError(description: "the key set is not a JSON Web Key Set (an object with a keys array)")
        }
        var keys: [VerificationKey] = []
        for entry in entries {
            if let object = entry as? [String: Any], let key = await Self.key(object) { keys.append(key) }
        }
        return KeySetDocument(keys: keys, skipped: entries.count - keys.count)
    }

    private static func key(_ object: [String: Any]) async -> VerificationKey? {
        if let use = object["use"] as? String, use != "sig" { return nil }
        guard let data = try? JSONSerialization.data(withJSONObject: object), let jwk = try? JSONDecoder().decode(JWK.self, from: data),
            let kid = jwk.keyIdentifier, let alg = algorithm(of: jwk)
        else { return nil }
        let keys = JWTKeyCollection()
        guard (try? await keys.add(jwk: jwk)) != nil, let algorithm = try? await keys.getKey(for: kid, alg: alg), algorithm.name == alg else {
            return nil
        }
        return VerificationKey(kid: kid.string, algorithm: algorithm)
    }

    /// The key's `alg`, or the one its type implies when it names none (many providers leave it out).
    private static func algorithm(of jwk: JWK) -> String? {
        if let named = jwk.algorithm?.rawValue { return VerificationKey.acceptedAlgorithms.contains(named) ? named : nil }
        switch jwk.keyType {
        case .rsa: return "RS256"
        case .ecdsa: return jwk.curve?.rawValue == "P-256" ? "ES256" : nil
        case .octetKeyPair: return jwk.curve?.rawValue == "Ed25519" ? "EdDSA" : nil
        default: return nil
        }
    }
}
