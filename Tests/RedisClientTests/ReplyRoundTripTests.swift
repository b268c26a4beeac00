import NIOCore
import RedisClient
import TestSupport
import Testing

@Suite struct ReplyRoundTripTests {
    @Test func everyReplyTypeRoundTrips() async throws {
        let redis = try await RedisServer()
        let client = RedisClient(configuration: redis.configuration)
        try await client.connect()
        defer { Task { await client.shutdown() } }

        #expect(try await client.command("PING") == .simpleString("PONG"))
        #expect(try await client.command("INCRBY", "n", 41) == .integer(41))
        #expect(try await client.command("GET", "missing") == .null)
        _ = try await client.command("SET", "s", "héllo")
        #expect(try await client.command("GET", "s").string == "héllo")

        // NUL bytes and invalid UTF-8 survive as bytes.
        let binary = ByteBuffer(bytes: [0x00, 0xFF, 0xFE, 0x41, 0x00, 0xC3])
        _ = try await client.command("SET", "b", .bytes(binary))
        #expect(try await client.command("GET", "b") == .bulkString(binary))
        #expect(try await client.command("STRLEN", "b") == .integer(6))

        // Nested arrays, with an integer, a null and an error inside.
        let nested = try await client.command(
            "EVAL",
            "return {1, {'a', {2, false}}, redis.error_reply('MYERR nested')}",
            0
        )
        #expect(
            nested
                == .array([
                    .integer(1),
                    .array([.bulkString(ByteBuffer(string: "a")), .array([.integer(2), .null])]),
                    .error(RedisServerError(message: "MYERR nested")),
                ])
        )
        #expect(try await client.command("LRANGE", "nolist", 0, -1) == .array([]))
        #expect(try await client.command("GET", "") == .null)
        _ = try await client.command("SET", "empty", "")
        #expect(try await client.command("GET", "empty") == .bulkString(ByteBuffer()))
    }

    @Test func errorReplyIsTypedAndConnectionKeepsWorking() async throws {
        let redis = try await RedisServer()
        let client = RedisClient(configuration: redis.configuration)
        try await client.connect()
        defer { Task { await client.shutdown() } }

        _ = try await client.command("SET", "k", "v")
        let error = await #expect(throws: RedisServerError.self) { try await client.command("INCR", "k") }
        #expect(error?.code == "ERR")
        #expect(error?.message.contains("not an integer") == true)
        let unknown = await #expect(throws: RedisServerError.self) { try await client.command("NOSUCHCOMMAND") }
        #expect(unknown?.message.contains("unknown command") == true)
        #expect(try await client.command("GET", "k").string == "v")
    }
}
