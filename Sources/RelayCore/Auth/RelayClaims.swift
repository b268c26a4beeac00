import ChatProtocol
import Foundation
import JWTKit

/// The claims a relay token carries: `sub` is the user id, `exp` is honoured, `nbf` too when present.
struct RelayClaims: JWTPayload {
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var nbf: NotBeforeClaim?

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        try nbf?.verifyNotBefore()
        guard Identifier.isValid(sub.value) else {
            throw JWTError.claimVerificationFailure(failedClaim: sub, reason: "sub is not a valid user id")
        }
    }
}
