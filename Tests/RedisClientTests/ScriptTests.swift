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

@Suite struct ScriptOrderTests {
    @Test func sha1MatchesRedis() async throws {
        let redis = try await RedisServer()
        for source in ["return 1", "", String(repeating: "-- long script\n", count: 100) + "return 'ü'"] {
            let theirs = try await redis.command("SCRIPT", "LOAD", .string(source)).string
            #expect(RedisScript(source).sha == theirs)
        }
    }

    @Test func callsStayInOrderOnFirstUseAndAfterARestart() async throws {
        let redis = try await RedisServer()
        let client = RedisClient(configuration: redis.configuration)
        try await client.connect()
        // Running, the client reconnects by itself.
        let running = Task { try await client.run() }
        defer { running.cancel() }
        let append = RedisScript("return redis.call('RPUSH', KEYS[1], ARGV[1])")
        // First use: the script is loaded in line, every call keeps its place.
        let futures = (0..<200).map { client.evaluate(append, keys: ["order"], arguments: [.integer($0)]) }
        for future in futures { _ = try await future.get() }
        let stored = try await client.command("LRANGE", "order", 0, -1).array?.compactMap(\.string)
        #expect(stored == (0..<200).map(String.init))

        // A restarted Redis has no scripts; the reconnected client loads them before the first EVALSHA.
        redis.kill()
        try await redis.start()
        try await waitUntil { client.state == .connected }
        let again = (0..<100).map { client.evaluate(append, keys: ["after"], arguments: [.integer($0)]) }
        for future in again { _ = try await future.get() }
        #expect(try await client.command("LRANGE", "after", 0, -1).array?.compactMap(\.string) == (0..<100).map(String.init))
    }
}
