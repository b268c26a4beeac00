import ArgumentParser
import ChatProtocol
import RelayCore

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Print an HS256 token for a user, signed with --jwt-secret (or CHATRELAY_JWT_SECRET)."
    )

    @Argument(help: "The user id (the token's sub).") var userID: String
    @Option(help: "Seconds until the token expires.") var ttl: Double = 3600
    @Option(name: .customLong("jwt-secret"), help: "HS256 secret (CHATRELAY_JWT_SECRET).") var jwtSecret: String?

    func run() async throws {
        guard Identifier.isValid(userID) else { throw ValidationError("user ids are \(Identifier.rule)") }
        guard let secret = jwtSecret ?? Environment.value("CHATRELAY_JWT_SECRET") else {
            throw ValidationError("give --jwt-secret or set CHATRELAY_JWT_SECRET")
        }
        guard ttl > 0 else { throw ValidationError("--ttl must be positive") }
        let authority = try await TokenAuthority(secret: secret)
        print(try await authority.issue(userID: userID, ttl: ttl))
    }
}
