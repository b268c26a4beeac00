import NIOConcurrencyHelpers
import NIOCore

/// A Lua script run with `EVALSHA`.
///
/// The SHA comes from `SCRIPT LOAD` on first use. When the server has lost the script (a restart, `SCRIPT FLUSH`,
/// a failover) it answers `NOSCRIPT`, nothing ran, and the call falls back to `EVAL`, which also caches the script
/// on the server again.
public final class RedisScript: Sendable {
    public let source: String
    private let sha = NIOLockedValueBox<String?>(nil)

    public init(_ source: String) {
        self.source = source
    }

    var knownSHA: String? { sha.withLockedValue { $0 } }

    func remember(sha value: String) {
        sha.withLockedValue { $0 = value }
    }
}

extension RedisClient {
    public func evaluate(_ script: RedisScript, keys: [RedisArgument], arguments: [RedisArgument]) -> EventLoopFuture<RedisReply> {
        let tail = [.integer(keys.count)] + keys + arguments
        guard let sha = script.knownSHA else {
            return send(["SCRIPT", "LOAD", .string(script.source)]).flatMap { reply in
                if let sha = reply.string { script.remember(sha: sha) }
                return self.send(["EVALSHA", .string(reply.string ?? "")] + tail)
            }
        }
        let attempt = send(["EVALSHA", .string(sha)] + tail)
        return attempt.flatMapError { error in
            guard let serverError = error as? RedisServerError, serverError.code == "NOSCRIPT" else {
                return attempt.eventLoop.makeFailedFuture(error)
            }
            return self.send(["EVAL", .string(script.source)] + tail)
        }
    }

    public func run(_ script: RedisScript, keys: [RedisArgument] = [], arguments: [RedisArgument] = []) async throws -> RedisReply {
        try await evaluate(script, keys: keys, arguments: arguments).get()
    }
}
