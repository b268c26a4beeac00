import NIOCore
import RedisClient
import Testing

@Suite struct ReplyDecoderTests {
    private func decode(_ chunks: [String]) throws -> [RedisReply] {
        let decoder = try RedisReplyDecoder()
        var replies: [RedisReply] = []
        for chunk in chunks {
            try decoder.feed(ByteBuffer(string: chunk))
            while let reply = try decoder.next() { replies.append(reply) }
        }
        return replies
    }

    @Test func repliesSplitAcrossReadsAreReassembled() throws {
        let replies = try decode(["+O", "K\r\n:4", "2\r\n$5\r\nhel", "lo\r\n*2\r\n$-1\r\n*1\r\n-ERR x\r", "\n"])
        #expect(
            replies == [
                .simpleString("OK"), .integer(42), .bulkString(ByteBuffer(string: "hello")),
                .array([.null, .array([.error(RedisServerError(message: "ERR x"))])]),
            ]
        )
    }

    /// Replies larger than the reader's arena block (``ReplyArena``), split across reads, then small ones after
    /// them: every node and string comes out whole, and nothing of a reply leaks into the next.
    @Test func largeRepliesOverManyReadsComeOutWhole() throws {
        let big = String(repeating: "x", count: 100_000)
        let members = (0..<3_000).map { "member-\($0)" }
        var text = "$\(big.utf8.count)\r\n\(big)\r\n*\(members.count)\r\n"
        for member in members { text += "$\(member.utf8.count)\r\n\(member)\r\n" }
        text += ":7\r\n*2\r\n$1\r\na\r\n$-1\r\n"
        let bytes = Array(text.utf8)
        let chunks = stride(from: 0, to: bytes.count, by: 1_337).map { String(decoding: bytes[$0..<min($0 + 1_337, bytes.count)], as: UTF8.self) }
        let replies = try decode(chunks)
        #expect(replies.count == 4)
        #expect(replies.first == .bulkString(ByteBuffer(string: big)))
        #expect(replies.dropFirst().first == .array(members.map { .bulkString(ByteBuffer(string: $0)) }))
        #expect(Array(replies.dropFirst(2)) == [.integer(7), .array([.bulkString(ByteBuffer(string: "a")), .null])])
    }

    @Test func truncatedInputWaitsForMore() throws {
        #expect(try decode(["$10\r\nabc"]).isEmpty)
        #expect(try decode(["*3\r\n:1\r\n"]).isEmpty)
    }

    @Test func garbageIsAnErrorNotACrash() {
        for garbage in ["?what\r\n", "$abc\r\n", "*x\r\n", "\u{0}\u{1}\u{2}\r\n", "!!!!\r\n"] {
            #expect(throws: RedisClientError.self, "accepted \(garbage.debugDescription)") { try decode([garbage]) }
        }
    }

    @Test func randomBytesNeverCrash() throws {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("+-:$*\r\n0123456789abc-".utf8)
        for _ in 0..<2_000 {
            let length = Int.random(in: 1...64, using: &generator)
            let bytes = (0..<length).map { _ in
                Bool.random(using: &generator) ? alphabet.randomElement(using: &generator)! : UInt8.random(in: 0...255, using: &generator)
            }
            let decoder = try RedisReplyDecoder()
            do {
                try decoder.feed(ByteBuffer(bytes: bytes))
                while let _ = try decoder.next() {}
            } catch {
                #expect(error.kind == .protocolError)
            }
        }
    }

    @Test func encoderWritesRESPArrays() {
        var buffer = ByteBuffer()
        RedisCommandEncoder.encode(["SET", "k", .bytes(ByteBuffer(bytes: [0, 1])), 12], into: &buffer)
        #expect(String(buffer: buffer) == "*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n\u{0}\u{1}\r\n$2\r\n12\r\n")
    }
}

@Suite struct CommandEncoderTests {
    @Test func edgeValues() {
        var buffer = ByteBuffer()
        RedisCommandEncoder.encode(["ECHO", "", .integer(-1_234_567), .integer(0), .integer(Int.min), "é"], into: &buffer)
        #expect(
            String(buffer: buffer)
                == "*6\r\n$4\r\nECHO\r\n$0\r\n\r\n$8\r\n-1234567\r\n$1\r\n0\r\n$20\r\n-9223372036854775808\r\n$2\r\né\r\n"
        )
        var many = ByteBuffer()
        RedisCommandEncoder.encode(Array(repeating: "x", count: 12), into: &many)
        #expect(String(buffer: many).hasPrefix("*12\r\n$1\r\nx\r\n"))
        #expect(many.readableBytes == 5 + 12 * 7)
    }
}
