/// One HTTP connection's life until it upgrades or closes, as the node bounds it: a whole request head within the
/// request timeout of the connection's opening or of its previous answer, at most ``maximumHeadBytes`` of it, the body
/// within the same time again, and nothing more once the node drains. A value type: every event returns what to do,
/// and ``RequestHeadGuard`` does it.
///
/// The head is found in the raw bytes (up to the blank line that ends it) rather than through the HTTP decoder, so
/// that its size counts the request line too and a head that never ends is refused after 16 KiB, not after the
/// decoder's own, larger limits.
public struct RequestHeadMachine: Sendable {
    public static let maximumHeadBytes = 16 * 1024

    public enum Phase: Sendable, Equatable {
        /// Waiting for a request head; `received` bytes of it came so far.
        case awaitingHead(received: Int)
        /// The head came; the body (if any) is on its way.
        case receivingBody
        /// The whole request came; the node is answering it.
        case answering
        /// Answered with a refusal, or closed: nothing more is read.
        case closed
    }

    /// Why a connection is refused, each with its HTTP status.
    public enum Refusal: Sendable, Equatable {
        case requestTimeout
        case headTooLarge
        case notHTTP
        case overCapacity

        public var status: Int {
            switch self {
            case .requestTimeout: 408
            case .headTooLarge: 431
            case .notHTTP: 400
            case .overCapacity: 503
            }
        }
    }

    public enum BytesAction: Sendable, Equatable {
        /// Pass them on to the HTTP decoder.
        case forward
        /// Pass them on; the head is complete, and the body now has the request timeout of its own.
        case forwardHeadComplete
        /// Refuse the connection: answer, then close.
        case refuse(Refusal)
        /// Drop them: the connection is closing.
        case discard
    }

    public enum DeadlineAction: Sendable, Equatable {
        case refuse(Refusal)
        case close
        case nothing
    }

    public enum AnswerAction: Sendable, Equatable {
        /// Wait for the next request head, with a fresh deadline.
        case awaitNextHead
        /// The node is draining: close now that the answer is out.
        case close
    }

    public enum DrainAction: Sendable, Equatable {
        case close
        /// A request is under way: close after its answer.
        case closeAfterAnswer
        case nothing
    }

    public private(set) var phase: Phase = .awaitingHead(received: 0)
    private var draining = false
    /// How many bytes of the blank line ending a head (`\r\n\r\n`) the bytes seen so far end with.
    private var terminatorMatched = 0

    public init() {}

    /// True while a deadline must run: from the opening or an answer until the whole request came.
    public var isTimed: Bool {
        switch phase {
        case .awaitingHead, .receivingBody: true
        case .answering, .closed: false
        }
    }

    public mutating func bytesArrived(_ bytes: some Sequence<UInt8>) -> BytesAction {
        switch phase {
        case .closed:
            return .discard
        case .receivingBody, .answering:
            return .forward
        case .awaitingHead(var received):
            for byte in bytes {
                received += 1
                terminatorMatched = Self.advance(terminatorMatched, with: byte)
                if terminatorMatched == 4 {
                    terminatorMatched = 0
                    phase = .receivingBody
                    return .forwardHeadComplete
                }
                if received > Self.maximumHeadBytes {
                    phase = .closed
                    return .refuse(.headTooLarge)
                }
            }
            phase = .awaitingHead(received: received)
            return .forward
        }
    }

    /// The HTTP decoder saw the request's end. It is the judge of where a request ends: a head that ended in bare
    /// line feeds, which the scan does not see, is whole once the decoder says so.
    public mutating func requestReceived() {
        switch phase {
        case .awaitingHead, .receivingBody: phase = .answering
        case .answering, .closed: break
        }
    }

    /// The answer's last part was written.
    public mutating func answered() -> AnswerAction {
        guard phase != .closed else { return .close }
        if draining {
            phase = .closed
            return .close
        }
        phase = .awaitingHead(received: 0)
        terminatorMatched = 0
        return .awaitNextHead
    }

    /// The request timeout passed since the opening, the last answer, or the head.
    public mutating func deadlinePassed() -> DeadlineAction {
        switch phase {
        case .awaitingHead(let received):
            phase = .closed
            return received > 0 ? .refuse(.requestTimeout) : .close
        case .receivingBody:
            phase = .closed
            return .refuse(.requestTimeout)
        case .answering, .closed:
            return .nothing
        }
    }

    /// The HTTP decoder refused what came: 431 when its own header limits were passed, else 400.
    public mutating func malformed(headerOverflow: Bool) -> DeadlineAction {
        guard phase != .closed else { return .nothing }
        phase = .closed
        return .refuse(headerOverflow ? .headTooLarge : .notHTTP)
    }

    /// The node drains: a connection between requests goes at once, one in a request after its answer.
    public mutating func drain() -> DrainAction {
        draining = true
        switch phase {
        case .awaitingHead:
            phase = .closed
            return .close
        case .receivingBody, .answering:
            return .closeAfterAnswer
        case .closed:
            return .nothing
        }
    }

    /// Refused before anything was read (the node is full): nothing of the connection is read.
    public mutating func refusedAtOnce() {
        phase = .closed
    }

    /// The `\r\n\r\n` matcher: how much of it the bytes end with after `byte`.
    private static func advance(_ matched: Int, with byte: UInt8) -> Int {
        let expected: UInt8 = matched % 2 == 0 ? 13 : 10
        if byte == expected { return matched + 1 }
        return byte == 13 ? 1 : 0
    }
}
