import NIOCore
import NIOWebSocket
import Testing
import WebSocketWire

/// The reader's events for frame sequences a client may send, without a socket.
struct WebSocketReaderTests {
    /// What the reader asked its owner to do, in a form that compares.
    enum Seen: Equatable {
        case text(String)
        case binary([UInt8])
        case ping([UInt8])
        case pong
        case peerClosed(UInt16)
        case failed(UInt16)
    }

    /// A masked client frame, encoded by hand.
    static func frame(_ opcode: UInt8, _ payload: [UInt8], fin: Bool = true) -> [UInt8] {
        let key: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
        var bytes: [UInt8] = [(fin ? 0x80 : 0) | opcode]
        if payload.count < 126 {
            bytes.append(0x80 | UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            bytes += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        } else {
            bytes.append(0x80 | 127)
            bytes += (0..<8).reversed().map { UInt8(truncatingIfNeeded: payload.count >> ($0 * 8)) }
        }
        bytes += key
        bytes += payload.enumerated().map { $0.element ^ key[$0.offset % 4] }
        return bytes
    }

    static func text(_ string: String, fin: Bool = true) -> [UInt8] { frame(0x1, Array(string.utf8), fin: fin) }
    static func continuation(_ bytes: [UInt8], fin: Bool = true) -> [UInt8] { frame(0x0, bytes, fin: fin) }
    static func close(_ code: UInt16?, _ reason: [UInt8] = []) -> [UInt8] {
        frame(0x8, (code.map { [UInt8($0 >> 8), UInt8($0 & 0xFF)] } ?? []) + reason)
    }

    /// Feeds `bytes` in reads of `chunk` bytes (all at once when nil) and returns the events.
    static func events(_ bytes: [UInt8], chunk: Int? = nil, maximumMessageBytes: Int = 1024) -> [Seen] {
        var reader = WebSocketReader()
        var seen: [Seen] = []
        let size = chunk ?? max(bytes.count, 1)
        for start in stride(from: 0, to: bytes.count, by: size) {
            let part = ByteBuffer(bytes: bytes[start..<min(start + size, bytes.count)])
            reader.read(part, maximumMessageBytes: maximumMessageBytes, allocator: ByteBufferAllocator()) { event in
                switch event {
                case .message(.text, let bytes): seen.append(.text(String(decoding: bytes, as: UTF8.self)))
                case .message(_, let bytes): seen.append(.binary(Array(bytes)))
                case .ping(let payload): seen.append(.ping(Array(payload.readableBytesView)))
                case .pong: seen.append(.pong)
                case .peerClosed(let answer): seen.append(.peerClosed(answer))
                case .failed(let code): seen.append(.failed(UInt16(webSocketErrorCode: code)))
                }
            }
        }
        return seen
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var bytes: [UInt8]
        var expected: [Seen]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "a text message", bytes: text("hello"), expected: [.text("hello")]),
        Case(name: "a binary message", bytes: frame(0x2, [0, 1, 255]), expected: [.binary([0, 1, 255])]),
        Case(
            name: "fragments with a ping between them (5.6)",
            bytes: text("hel", fin: false) + frame(0x9, [7]) + continuation(Array("lo".utf8)),
            expected: [.ping([7]), .text("hello")]
        ),
        Case(
            name: "UTF-8 split across fragments (6.2.x)",
            bytes: frame(0x1, [0x68, 0xC3], fin: false) + continuation([0xA9]),
            expected: [.text("hé")]
        ),
        Case(name: "text that is not UTF-8 (6.x)", bytes: frame(0x1, [0x68, 0xC3, 0x28]), expected: [.failed(1007)]),
        Case(name: "a continuation with nothing to continue (5.9)", bytes: continuation([1]), expected: [.failed(1002)]),
        Case(
            name: "a new message inside a fragmented one (5.18)",
            bytes: text("a", fin: false) + text("b"),
            expected: [.failed(1002)]
        ),
        Case(name: "a fragmented ping (5.1)", bytes: frame(0x9, [1], fin: false), expected: [.failed(1002)]),
        Case(name: "a reserved opcode (4.1.1)", bytes: frame(0x3, []), expected: [.failed(1002)]),
        Case(name: "a pong", bytes: frame(0xA, [1, 2]), expected: [.pong]),
        Case(name: "a close with a valid code", bytes: close(1001), expected: [.peerClosed(1001)]),
        Case(name: "a close of one byte (7.3.2)", bytes: frame(0x8, [0x03]), expected: [.peerClosed(1002)]),
        Case(name: "a close whose reason is not UTF-8 (7.5.1)", bytes: close(1000, [0xFF, 0xFE]), expected: [.peerClosed(1007)]),
        Case(name: "a close with code 1005 (7.9.x)", bytes: close(1005), expected: [.peerClosed(1002)]),
        Case(name: "an empty close (7.3.1)", bytes: close(nil), expected: [.peerClosed(1000)]),
        Case(
            name: "nothing is read after a close (7.1.x)",
            bytes: close(1000) + text("late") + frame(0x9, []),
            expected: [.peerClosed(1000)]
        ),
        Case(name: "nothing is read after a failure", bytes: continuation([1]) + text("late"), expected: [.failed(1002)]),
        Case(name: "a frame over the limit (9.x)", bytes: frame(0x1, Array(repeating: 0x61, count: 1025)), expected: [.failed(1009)]),
        Case(
            name: "fragments adding up to more than the limit",
            bytes: text(String(repeating: "a", count: 600), fin: false) + continuation(Array(repeating: 0x61, count: 600)),
            expected: [.failed(1009)]
        ),
    ]

    @Test(arguments: cases)
    func eventsForAFrameSequence(_ test: Case) {
        #expect(Self.events(test.bytes) == test.expected)
    }

    /// However the bytes are split between reads, the events are the same.
    @Test(arguments: cases, [1, 2, 3, 7])
    func eventsDoNotDependOnHowReadsSplitTheBytes(_ test: Case, chunk: Int) {
        #expect(Self.events(test.bytes, chunk: chunk) == test.expected)
    }
}
