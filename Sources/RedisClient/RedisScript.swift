import NIOConcurrencyHelpers
import NIOCore

/// A Lua script run with `EVALSHA`.
///
/// The client loads a script (`SCRIPT LOAD`) on its connection before the first `EVALSHA` that needs it, and again
/// on every new connection before that connection counts as ready, so calls go out as `EVALSHA` at once and in
/// the order they were made, also after a Redis restart. If the server still answers `NOSCRIPT` (someone ran
/// `SCRIPT FLUSH`), nothing ran, and that call falls back to `EVAL`, which caches the script again.
public final class RedisScript: Sendable, Hashable {
    public let source: String
    public let sha: String

    public init(_ source: String) {
        self.source = source
        sha = SHA1.hexDigest(source)
    }

    public static func == (lhs: RedisScript, rhs: RedisScript) -> Bool { lhs.sha == rhs.sha }
    public func hash(into hasher: inout Hasher) { hasher.combine(sha) }
}

/// One `EVALSHA` of a script: its keys, then its arguments, appended in order into the command's one array.
public struct RedisScriptCall: Sendable {
    let script: RedisScript
    private(set) var command: [RedisArgument]

    /// `keys` and `arguments` are how many of each will be appended; the keys come first.
    public init(_ script: RedisScript, keys: Int, arguments: Int) {
        self.script = script
        command = []
        command.reserveCapacity(3 + keys + arguments)
        command.append("EVALSHA")
        command.append(.string(script.sha))
        command.append(.integer(keys))
    }

    public mutating func append(_ argument: RedisArgument) {
        command.append(argument)
    }
}

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

extension RedisClient {
    public func evaluate(_ script: RedisScript, keys: [RedisArgument], arguments: [RedisArgument]) -> EventLoopFuture<RedisReply> {
        let promise = keeper.anyEventLoop.makePromise(of: RedisReply.self)
        evaluate(script, keys: keys, arguments: arguments) { promise.completeWith($0) }
        return promise.futureResult
    }

    /// Runs `script` and calls `callback` with its reply on an event loop; the hot-path form of ``evaluate(_:keys:arguments:)``.
    public func evaluate(
        _ script: RedisScript,
        keys: [RedisArgument],
        arguments: [RedisArgument],
        then callback: @escaping RedisReplyCallback
    ) {
        var call = RedisScriptCall(script, keys: keys.count, arguments: arguments.count)
        for key in keys { call.append(key) }
        for argument in arguments { call.append(argument) }
        evaluate(call, then: callback)
    }

    /// Runs a call built argument by argument: the command is one array, allocated once.
    public func evaluate(_ call: consuming RedisScriptCall, then callback: @escaping RedisReplyCallback) {
        let script = call.script
        scripts.ensureLoaded(script) { script in _ = send(["SCRIPT", "LOAD", .string(script.source)]) }
        let command = call.command
        send(command) { [self] result in
            guard case .failure(let error as RedisServerError) = result, error.code == "NOSCRIPT" else { return callback(result) }
            var eval = command
            eval[0] = "EVAL"
            eval[1] = .string(script.source)
            send(eval, then: callback)
        }
    }

    public func run(_ script: RedisScript, keys: [RedisArgument] = [], arguments: [RedisArgument] = []) async throws -> RedisReply {
        try await evaluate(script, keys: keys, arguments: arguments).get()
    }
}
