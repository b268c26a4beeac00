import Foundation
import JWTKit

/// Why a token was refused; the surface answers 401 for all of them.
public struct TokenError: Error, Sendable, CustomStringConvertible {
    public let description: String
}
