import NIOCore

/// Receives a reply (or the error that replaced it), on the connection's event loop.
public typealias RedisReplyCallback = @Sendable (Result<RedisReply, any Error>) -> Void

/// Who waits for a pending command's reply: a promise for `async` and future callers, or a plain callback, which
/// spares the hot path a future, its callback list and the chained futures built on it.
enum RedisResponder: Sendable {
    case promise(EventLoopPromise<RedisReply>)
    case callback(RedisReplyCallback)

    func succeed(_ reply: RedisReply) {
        switch self {
        case .promise(let promise): promise.succeed(reply)
        case .callback(let callback): callback(.success(reply))
        }
    }

    func fail(_ error: any Error) {
        switch self {
        case .promise(let promise): promise.fail(error)
        case .callback(let callback): callback(.failure(error))
        }
    }
}
