import RedisClient
import TestSupport
import Testing

@Suite struct ScriptTests {
    @Test func scriptSurvivesScriptFlush() async throws {
        let redis = try await RedisServer()
        let client = RedisClient(configuration: redis.configuration)
        try await client.connect()
        defer { Task { await client.shutdown() } }

        let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
        #expect(try await client.run(script, keys: ["n"], arguments: [2]) == .integer(2))
        #expect(try await client.run(script, keys: ["n"], arguments: [3]) == .integer(5))
        _ = try await client.command("SCRIPT", "FLUSH")
        #expect(try await client.run(script, keys: ["n"], arguments: [4]) == .integer(9))
        // And it is cached again, so the next call goes through EVALSHA.
        let sha = try await client.command("SCRIPT", "LOAD", .string(script.source)).string ?? ""
        #expect(try await client.command("SCRIPT", "EXISTS", .string(sha)) == .array([.integer(1)]))
    }

    @Test func scriptErrorIsTyped() async throws {
        let redis = try await RedisServer()
        let client = RedisClient(configuration: redis.configuration)
        try await client.connect()
        defer { Task { await client.shutdown() } }

        let script = RedisScript("return redis.error_reply('CUSTOM went wrong')")
        let error = await #expect(throws: RedisServerError.self) { try await client.run(script) }
        #expect(error?.code == "CUSTOM")
    }
}
