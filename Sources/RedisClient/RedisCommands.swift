import NIOCore
import NIOPosix

/// Commands and scripts, whoever answers them: one server (``RedisClient``) or a cluster (``RedisClusterClient``,
/// which sends each command to the primary of its first key's slot). Callers name their keys the same way for both.
public protocol RedisCommands: Sendable {
    /// Sends one command and calls `callback` with its reply, on an event loop.
    func send(_ arguments: [RedisArgument], then callback: @escaping RedisReplyCallback)

    /// The same as a future; a requirement, so that a client with a future of its own (``RedisClient``) is called
    /// through it.
    func send(_ arguments: [RedisArgument]) -> EventLoopFuture<RedisReply>

    /// Runs a script and calls `callback` with its reply and the server connection that ran it (for a `WAIT` that
    /// must follow on that same connection).
    func evaluate(_ call: consuming RedisScriptCall, then callback: @escaping @Sendable (Result<RedisReply, any Error>, RedisClient?) -> Void)
}

extension RedisCommands {
    public func send(_ arguments: [RedisArgument]) -> EventLoopFuture<RedisReply> {
        let promise = MultiThreadedEventLoopGroup.singleton.any().makePromise(of: RedisReply.self)
        send(arguments) { promise.completeWith($0) }
        return promise.futureResult
    }

    public func command(_ arguments: [RedisArgument]) async throws -> RedisReply {
        try await send(arguments).get()
    }

    public func command(_ arguments: RedisArgument...) async throws -> RedisReply {
        try await send(arguments).get()
    }

    /// Runs a call built argument by argument.
    public func evaluate(_ call: consuming RedisScriptCall, then callback: @escaping RedisReplyCallback) {
        evaluate(call) { result, _ in callback(result) }
    }

    public func evaluate(_ script: RedisScript, keys: [RedisArgument], arguments: [RedisArgument]) -> EventLoopFuture<RedisReply> {
        let promise = MultiThreadedEventLoopGroup.singleton.any().makePromise(of: RedisReply.self)
        evaluate(script, keys: keys, arguments: arguments) { promise.completeWith($0) }
        return promise.futureResult
    }

    /// Runs `script` and calls `callback` with its reply on an event loop.
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

    public func run(_ script: RedisScript, keys: [RedisArgument] = [], arguments: [RedisArgument] = []) async throws -> RedisReply {
        try await evaluate(script, keys: keys, arguments: arguments).get()
    }
}
