import NIOConcurrencyHelpers
import NIOCore

/// The scripts a client has used, loaded on every new connection.
final class ScriptRegistry: Sendable {
    /// By identity: looked up on every call, where hashing the 40-character digest cost more than the lookup.
    private let scripts = NIOLockedValueBox<[ObjectIdentifier: RedisScript]>([:])

    var all: [RedisScript] { scripts.withLockedValue { Array($0.values) } }

    /// Runs `load` under the registry's lock the first time `script` is seen, so that the `SCRIPT LOAD` it sends is
    /// queued before any `EVALSHA` of that script from another caller.
    func ensureLoaded(_ script: RedisScript, load: (RedisScript) -> Void) {
        scripts.withLockedValue { scripts in
            guard scripts[ObjectIdentifier(script)] == nil else { return }
            scripts[ObjectIdentifier(script)] = script
            load(script)
        }
    }

    /// Loads every script on a new connection; the caller waits for the replies before using it.
    func loadAll(on connection: RedisConnection) -> [EventLoopFuture<RedisReply>] {
        all.map { connection.send(["SCRIPT", "LOAD", .string($0.source)]) }
    }
}
