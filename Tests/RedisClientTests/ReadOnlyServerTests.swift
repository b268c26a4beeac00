import NIOCore
import NIOPosix
import RedisClient
import TestSupport
import Testing

/// A connection made through Sentinels leaves a server that answers `READONLY`: it was demoted, and the reconnect
/// asks the Sentinels for the master again.
@Suite struct ReadOnlyServerTests {
    @Test func aSentinelConnectionClosesOnReadOnlyAndAPlainOneStays() async throws {
        let master = try await RedisServer()
        let replica = try await RedisServer(arguments: ["--replicaof", "127.0.0.1", "\(master.port)"])
        var throughSentinels = replica.configuration
        throughSentinels.sentinel = RedisSentinelSettings(sentinels: [RedisEndpoint(host: "127.0.0.1", port: 1)], masterName: "chat")
        for (configuration, closes) in [(throughSentinels, true), (replica.configuration, false)] {
            let connection = try await RedisConnection.connect(configuration: configuration, eventLoop: MultiThreadedEventLoopGroup.singleton.any())
            await #expect {
                try await connection.command("SET", "k", "v")
            } throws: { error in
                (error as? RedisServerError)?.code == "READONLY"
            }
            let deadline = ContinuousClock.now + .seconds(5)
            while connection.channel.isActive, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            #expect(connection.channel.isActive == !closes, "closes: \(closes)")
            await connection.close()
        }
    }
}
