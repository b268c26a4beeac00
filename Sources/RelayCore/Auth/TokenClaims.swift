import ChatProtocol
import Foundation

/// The claims the relay reads from a verified token's payload, and the rules they must meet. A claim of the wrong
/// type (an `exp` that is a string or a boolean) makes the token invalid, as an absent `exp` does.
struct TokenClaims: Decodable {
    let sub: String
    /// Unix seconds.
    let exp: Double
    let nbf: Double?
    let aud: Audience?
    let iss: String?

    /// `aud` is one string or a list of them (RFC 7519 §4.1.3).
    struct Audience: Decodable {
        let values: [String]

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let one = try? container.decode(String.self) {
                values = [one]
            } else {
                values = try container.decode([String].self)
            }
        }
    }

    init(json: [UInt8]) throws(TokenError) {
        do {
            self = try JSONDecoder().decode(TokenClaims.self, from: Data(json))
        } catch {
            throw TokenError(description: "the token's claims are not readable (sub and exp are required): \(error)")
        }
        guard Identifier.isValid(sub) else { throw TokenError(description: "the token's sub is not a user id (\(Identifier.rule))") }
    }

    /// `exp` and `nbf` with the contract's leeway, then `aud` and `iss` when the node names them.
    func check(now: Double, leeway: Double, audience: String?, issuer: String?) throws(TokenError) {
        guard now < exp + leeway else { throw TokenError(description: "the token expired") }
        if let nbf, now + leeway < nbf { throw TokenError(description: "the token is not valid yet (nbf)") }
        if let audience, !(aud?.values.contains(audience) ?? false) {
            throw TokenError(description: "the token is not for this audience (aud)")
        }
        if let issuer, iss != issuer { throw TokenError(description: "the token is from another issuer (iss)") }
    }
}
