import NIOCore

extension RedisClient {
    /// Runs a call built argument by argument (the command is one array, allocated once) with `EVALSHA`, loading the
    /// script first where this connection has not, and with `EVAL` after a `NOSCRIPT` (a restarted server).
    public func evaluate(
        _ call: consuming RedisScriptCall,
        then callback: @escaping @Sendable (Result<RedisReply, any Error>, RedisClient?) -> Void
    ) {
        let script = call.script
        scripts.ensureLoaded(script) { script in _ = send(["SCRIPT", "LOAD", .string(script.source)]) }
        let command = call.command
        send(command) { [self] result in
            guard case .failure(let error as RedisServerError) = result, error.code == "NOSCRIPT" else { return callback(result, self) }
            var eval = command
            eval[0] = "EVAL"
            eval[1] = .string(script.source)
            send(eval) { callback($0, self) }
        }
    }
}
