import Foundation

/// A compact JWS split into what verifying it needs, before any key is chosen: the header's `alg` and `kid`, the
/// signed input, the signature and the payload's JSON.
struct TokenText {
    let alg: String
    let kid: String?
    let signingInput: ArraySlice<UInt8>
    let signature: [UInt8]
    let payload: [UInt8]

    /// A token's size is bounded by the request head (16 KiB) or the frame it came in; nothing here grows with it twice.
    init(_ token: String) throws(TokenError) {
        let bytes = Array(token.utf8)
        let dots = bytes.indices.filter { bytes[$0] == UInt8(ascii: ".") }
        guard dots.count == 2 else { throw TokenError(description: "not a JWT: it has \(dots.count + 1) parts, not 3") }
        guard let header = Self.base64URL(bytes[..<dots[0]]),
            let payload = Self.base64URL(bytes[(dots[0] + 1)..<dots[1]]),
            let signature = Self.base64URL(bytes[(dots[1] + 1)...])
        else { throw TokenError(description: "not a JWT: a part is not base64url") }
        guard let fields = try? JSONSerialization.jsonObject(with: Data(header)) as? [String: Any], let alg = fields["alg"] as? String else {
            throw TokenError(description: "the token's header names no alg")
        }
        self.alg = alg
        kid = fields["kid"] as? String
        signingInput = bytes[..<dots[1]]
        self.signature = signature
        self.payload = payload
    }

    static func base64URL(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        var standard = String(decoding: text, as: UTF8.self).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        guard !standard.contains("=") else { return nil }
        standard += String(repeating: "=", count: (4 - standard.utf8.count % 4) % 4)
        return Data(base64Encoded: standard).map(Array.init)
    }
}
