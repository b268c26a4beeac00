import RedisClient
import TestSupport
import Testing

@Suite struct AuthAndURLTests {
    @Test func passwordFromURLWorksAndWrongOneIsClear() async throws {
        let redis = try await RedisServer(arguments: ["--requirepass", "s3cret"])
        let good = RedisClient(configuration: try RedisConfiguration(url: "redis://:s3cret@127.0.0.1:\(redis.port)/2"))
        try await good.connect()
        _ = try await good.command("SET", "k", "in-db-2")
        #expect(try await good.command("GET", "k").string == "in-db-2")
        await good.shutdown()
        #expect(try await redis.command("GET", "k") == .null, "SELECT 2 was not applied")

        let bad = RedisClient(configuration: try RedisConfiguration(url: "redis://:wrong@127.0.0.1:\(redis.port)"))
        let error = await #expect(throws: RedisClientError.self) { try await bad.connect() }
        #expect(error?.kind == .connectFailed)
        #expect(error?.detail.contains("authentication") == true)
        #expect(error?.detail.contains("wrong") == false, "the password leaked into the error")

        let none = RedisClient(configuration: try RedisConfiguration(url: "redis://127.0.0.1:\(redis.port)"))
        let noAuth = await #expect(throws: RedisClientError.self) { try await none.connect() }
        #expect(noAuth?.detail.contains("NOAUTH") == true)
    }

    @Test func urlParsing() throws {
        let full = try RedisConfiguration(url: "redis://user:p%40ss@redis.example:6380/3")
        #expect(full.host == "redis.example")
        #expect(full.port == 6380)
        #expect(full.username == "user")
        #expect(full.password == "p@ss")
        #expect(full.database == 3)
        #expect(full.redactedURL == "redis://user:***@redis.example:6380/3")
        let plain = try RedisConfiguration(url: "redis://localhost")
        #expect(plain.port == 6379 && plain.database == 0 && plain.password == nil)
        #expect(throws: RedisClientError.self) { try RedisConfiguration(url: "http://localhost") }
        #expect(throws: RedisClientError.self) { try RedisConfiguration(url: "redis://host:99999") }
        #expect(throws: RedisClientError.self) { try RedisConfiguration(url: "redis://host/x") }
    }

    @Test func sentinelURLParsing() throws {
        let sentinel = try RedisConfiguration(url: "redis-sentinel://:secret@10.0.0.1:26380,sentinel-b,10.0.0.3:26381/2#chat")
        #expect(sentinel.sentinel?.masterName == "chat")
        #expect(
            sentinel.sentinel?.sentinels == [
                RedisEndpoint(host: "10.0.0.1", port: 26380), RedisEndpoint(host: "sentinel-b", port: 26379),
                RedisEndpoint(host: "10.0.0.3", port: 26381),
            ]
        )
        #expect(sentinel.password == "secret" && sentinel.database == 2)
        #expect(sentinel.redactedURL == "redis-sentinel://:***@10.0.0.1:26380,sentinel-b:26379,10.0.0.3:26381/2#chat")
        #expect(try RedisConfiguration(url: "redis://localhost").sentinel == nil)
        for refused in [
            "redis-sentinel://host:26379/0", "redis-sentinel://host:26379/0#", "redis-sentinel://host,,other/0#chat",
            "redis-sentinel://host:0/0#chat",
        ] {
            #expect(throws: RedisClientError.self, "\(refused)") { try RedisConfiguration(url: refused) }
        }
        let cluster = try RedisConfiguration(url: "redis-cluster://:secret@a:7000,b,10.0.0.3:7002")
        #expect(
            cluster.clusterSeeds == [
                RedisEndpoint(host: "a", port: 7000), RedisEndpoint(host: "b", port: 6379), RedisEndpoint(host: "10.0.0.3", port: 7002),
            ]
        )
        #expect(cluster.password == "secret" && cluster.sentinel == nil)
        #expect(cluster.redactedURL == "redis-cluster://:***@a:7000,b:6379,10.0.0.3:7002")
        #expect(try RedisConfiguration(url: "redis://localhost").clusterSeeds == nil)
        for refused in ["redis-cluster://a:7000/1", "redis-cluster://a,,b", "redis-cluster://a:70000"] {
            #expect(throws: RedisClientError.self, "\(refused)") { try RedisConfiguration(url: refused) }
        }
    }
}
