import NIOCore
import NIOWebSocket

/// The inbound half of one RFC 6455 connection as a value: bytes in, events out, no I/O.
///
/// It reads the client's frames (``ClientFrame``), reassembles fragmented messages, checks that text is UTF-8,
/// answers control frames by event, and owns the close rules (``PeerClose``). After a close or a failure it reads
/// nothing more. The channel handler that owns it carries the events out (``WebSocketClosing`` for the ends).
public struct WebSocketReader {
    public enum Event {
        /// A whole data message, in one frame or reassembled; `bytes` are valid only during the call.
        case message(FrameOpcode, UnsafeRawBufferPointer)
        /// A ping: answer with a pong that carries `payload`.
        case ping(ByteBuffer)
        case pong
        /// The peer sent a close frame: answer with a close carrying `answer` (``PeerClose``), then end the connection.
        case peerClosed(answer: UInt16)
        /// The peer broke the protocol: fail the connection with `code` (``WebSocketClosing/fail(_:context:)``).
        case failed(WebSocketErrorCode)
    }

    /// The first fragment's opcode and the payload so far, while a fragmented message comes in; nil (no memory)
    /// otherwise.
    @usableFromInline
    var fragments: (opcode: FrameOpcode, data: ByteBuffer)?
    /// The start of a frame whose end has not been read yet; nil (no memory) between frames.
    @usableFromInline
    var unread: ByteBuffer?
    /// A close came or the connection failed: whatever else arrives is dropped.
    public internal(set) var isFinished = false

    public init() {}

    /// Reads every whole frame in `incoming` (after what an earlier read left unfinished), calling `event` for each
    /// thing the owner must act on, in order. A message (whole, or reassembled from fragments) over
    /// `maximumMessageBytes` fails the connection with 1009. `allocator` makes the buffer that keeps a partial frame.
    ///
    /// The limit comes with each read rather than living in the reader: an idle socket keeps its reader, and the
    /// owner has the limit anyway.
    @inlinable
    public mutating func read(
        _ incoming: ByteBuffer,
        maximumMessageBytes: Int,
        allocator: ByteBufferAllocator,
        _ event: (Event) -> Void
    ) {
        guard !isFinished else { return }
        var bytes = incoming
        let isOwnBuffer = unread != nil
        if var unread {
            self.unread = nil
            unread.writeBuffer(&bytes)
            bytes = unread
        }
        while !isFinished {
            switch ClientFrame.read(from: &bytes, maximumPayload: maximumMessageBytes) {
            case .frame(let frame):
                received(frame, maximumMessageBytes: maximumMessageBytes, event)
            case .incomplete:
                guard bytes.readableBytes > 0 else { return }
                if isOwnBuffer {
                    // Already the reader's own: keep growing it, instead of copying the partial frame on every read.
                    bytes.discardReadBytes()
                    unread = bytes
                } else {
                    // Copied out: the read buffer goes back to the channel for its next read.
                    var rest = allocator.buffer(capacity: bytes.readableBytes)
                    rest.writeBuffer(&bytes)
                    unread = rest
                }
                return
            case .failure(let code):
                fail(code, event)
            }
        }
    }

    @usableFromInline
    mutating func received(_ frame: ClientFrame, maximumMessageBytes: Int, _ event: (Event) -> Void) {
        switch frame.opcode {
        case .text, .binary:
            guard fragments == nil else { return fail(.protocolError, event) }
            if frame.fin {
                frame.withUnmaskedBytes { deliver(frame.opcode, $0, event) }
            } else {
                fragments = (frame.opcode, frame.unmaskedPayload)
            }
        case .continuation:
            // Taken out of `fragments` so that appending does not copy the buffer.
            guard var (opcode, data) = fragments else { return fail(.protocolError, event) }
            fragments = nil
            guard data.readableBytes + frame.maskedPayload.readableBytes <= maximumMessageBytes else {
                return fail(.messageTooLarge, event)
            }
            var more = frame.unmaskedPayload
            data.writeBuffer(&more)
            if frame.fin {
                data.withUnsafeReadableBytes { deliver(opcode, $0, event) }
            } else {
                fragments = (opcode, data)
            }
        case .ping:
            event(.ping(frame.unmaskedPayload))
        case .pong:
            event(.pong)
        case .close:
            finish()
            event(.peerClosed(answer: PeerClose.answer(to: frame.unmaskedPayload)))
        }
    }

    @usableFromInline
    mutating func deliver(_ opcode: FrameOpcode, _ bytes: UnsafeRawBufferPointer, _ event: (Event) -> Void) {
        // RFC 6455 §8.1: a text message that is not UTF-8 fails the connection.
        guard opcode != .text || UTF8Check.isValid(bytes) else { return fail(.dataInconsistentWithMessage, event) }
        event(.message(opcode, bytes))
    }

    @usableFromInline
    mutating func fail(_ code: WebSocketErrorCode, _ event: (Event) -> Void) {
        finish()
        event(.failed(code))
    }

    @usableFromInline
    mutating func finish() {
        isFinished = true
        fragments = nil
        unread = nil
    }
}
