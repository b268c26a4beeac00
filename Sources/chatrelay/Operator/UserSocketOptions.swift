import ArgumentParser
import ChatClient
import RelayCore

/// How `send` and `listen` open a socket as a user: with `--token`, with a token they sign themselves from the JWT
/// secret, or with none (a node under `--auth none`).
struct UserSocketOptions: ParsableArguments {
    @Option(help: "A token for the user, for a node under --auth jwt.") var token: String?
    @Option(name: .customLong("jwt-secret"), help: "Sign a short-lived token with this secret instead (CHATRELAY_JWT_SECRET).")
    var jwtSecret: String?

    func connect(as userID: String, node: NodeOptions, onFrame: (@Sendable (String) -> Void)? = nil) async throws -> ChatConnection {
        var token = self.token
        if token == nil, let secret = jwtSecret ?? Environment.value("CHATRELAY_JWT_SECRET") {
            token = try await TokenAuthority(secret: secret).issue(userID: userID, ttl: 300)
        }
        let url = node.webSocketURL("/ws/\(userID)")
        do {
            return try await ChatConnection.connect(url: url, token: token, onFrame: onFrame)
        } catch {
            throw OperatorError("cannot open a socket as \(userID) at \(node.webSocketURL("/ws/\(userID)")): \(error)")
        }
    }
}
