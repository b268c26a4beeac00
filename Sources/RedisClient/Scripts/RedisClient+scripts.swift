import NIOConcurrencyHelpers
import NIOCore

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
