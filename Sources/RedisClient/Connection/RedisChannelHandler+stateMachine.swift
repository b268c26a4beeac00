import NIOCore

extension RedisChannelHandler {
    /// One connection's commands as a value: which command each reply answers (first in, first out), the late ones,
    /// and the failure that ends the connection. No I/O: the handler carries out what each event returns. Generic
    /// over who waits for a reply, so that tests need no event loop.
    struct StateMachine<Responder> {
        struct Pending {
            var responder: Responder
            /// One, or one confirmation per channel of a `SUBSCRIBE`.
            var expectedReplies: Int
            var sentAt: NIODeadline
            var deadline: NIODeadline
        }

        enum State {
            case active(CircularBuffer<Pending>)
            /// The connection is unusable; later commands fail with this at once.
            case failed(RedisClientError)
        }

        enum SendAction {
            /// Write the commands; check for late replies at this deadline, unless a check is scheduled.
            case write(checkAt: NIODeadline)
            case fail(RedisClientError)
        }

        enum ReplyAction {
            /// With when the command was written, for its round trip.
            case succeed(Responder, RedisReply, sentAt: NIODeadline)
            case fail(Responder, RedisServerError, sentAt: NIODeadline)
            /// A confirmation of a multi-reply command: more are due.
            case nothing
            /// The stream is out of step: fail everything and close.
            case failAllAndClose(RedisClientError, [Responder])
        }

        enum TimeoutAction {
            case nothing
            case checkAgain(at: NIODeadline)
            case failAllAndClose(RedisClientError, [Responder])
        }

        private(set) var state = State.active(CircularBuffer(initialCapacity: 64))
        let endpoint: String
        let commandTimeout: TimeAmount

        init(endpoint: String, commandTimeout: TimeAmount) {
            self.endpoint = endpoint
            self.commandTimeout = commandTimeout
        }

        var failure: RedisClientError? {
            if case .failed(let error) = state { error } else { nil }
        }

        var pendingCount: Int {
            if case .active(let pending) = state { pending.count } else { 0 }
        }

        /// Commands written at `now`, in order.
        mutating func sent(_ commands: [(responder: Responder, expectedReplies: Int)], now: NIODeadline) -> SendAction {
            guard case .active(var pending) = state else { return .fail(failure!) }
            let deadline = now + commandTimeout
            // Out of the enum while it changes, so the buffer is not copied.
            state = Self.placeholder
            for command in commands {
                pending.append(
                    Pending(responder: command.responder, expectedReplies: command.expectedReplies, sentAt: now, deadline: deadline)
                )
            }
            let checkAt = pending.first!.deadline
            state = .active(pending)
            return .write(checkAt: checkAt)
        }

        mutating func received(_ reply: RedisReply) -> ReplyAction {
            guard case .active(var pending) = state else { return .nothing }
            guard !pending.isEmpty else {
                // A reply nobody asked for means the stream is out of step; replies can no longer be matched.
                return .failAllAndClose(close(RedisClientError(.protocolError, "unexpected reply from \(endpoint): \(reply)")), [])
            }
            state = Self.placeholder
            defer { state = .active(pending) }
            if case .error(let error) = reply {
                let answered = pending.removeFirst()
                return .fail(answered.responder, error, sentAt: answered.sentAt)
            }
            pending[pending.startIndex].expectedReplies -= 1
            guard pending[pending.startIndex].expectedReplies <= 0 else { return .nothing }
            let answered = pending.removeFirst()
            return .succeed(answered.responder, reply, sentAt: answered.sentAt)
        }

        /// The connection closed or failed: every pending command fails with `error` (the first failure stays).
        mutating func closed(_ error: RedisClientError) -> [Responder] {
            let responders = takePending()
            if failure == nil { state = .failed(error) }
            return responders
        }

        /// The scheduled check for late replies, at `now`.
        mutating func timeoutCheck(now: NIODeadline) -> TimeoutAction {
            guard case .active(let pending) = state, let oldest = pending.first else { return .nothing }
            guard oldest.deadline <= now else { return .checkAgain(at: oldest.deadline) }
            let seconds = Double(commandTimeout.nanoseconds) / 1e9
            let error = RedisClientError(.commandTimeout, "no reply from \(endpoint) within \(seconds) s")
            let responders = takePending()
            state = .failed(error)
            return .failAllAndClose(error, responders)
        }

        private mutating func close(_ error: RedisClientError) -> RedisClientError {
            state = .failed(error)
            return error
        }

        private mutating func takePending() -> [Responder] {
            guard case .active(let pending) = state else { return [] }
            return pending.map(\.responder)
        }

        /// Stands in while the buffer is out of the enum.
        private static var placeholder: State { .failed(RedisChannelHandler.placeholderError) }
    }

    /// Made once, not per reply (a generic type cannot hold a stored static).
    fileprivate static let placeholderError = RedisClientError(.connectionClosed, "")
}
