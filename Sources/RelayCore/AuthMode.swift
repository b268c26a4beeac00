import Foundation

/// How a node identifies clients.
public enum AuthMode: String, Sendable, CaseIterable {
    /// HS256 JWTs whose `sub` is the user id.
    case jwt
    /// The user id in the path is trusted, as in the original express-ws demo. Local development only.
    case none
}
