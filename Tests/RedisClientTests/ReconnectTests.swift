import NIOCore
import RedisClient
import TestSupport
import Testing

@Suite struct ReconnectTests {
    @Test func commandsAndSubscriptionsRecoverAfterRedisRestarts() async throws {
        let redis = try await RedisServer()
        var configuration = redis.configuration
        // Far beyond the test's span: the in-flight command below must fail because the connection closed.
        configuration.commandTimeout = .seconds(60)
        let client = RedisClient(configuration: configuration)
        try await client.connect()
        let inbox = Inbox()
        let subscriber = RedisSubscriber(configuration: configuration, onMessage: inbox.append)
        try await subscriber.connect()
        try await subscriber.subscribe(["events"])
        // Running, both reconnect by themselves; cancelled, they shut down.
        let running = [Task { try await client.run() }, Task { try await subscriber.run() }]
        defer { for task in running { task.cancel() } }

        // A command that blocks on the server is in flight when Redis dies: the close fails it, it does not hang
        // until its timeout (a wall-clock bound here would only measure how loaded the machine is).
        let inFlight = client.send(["BLPOP", "never", "0"])
        try await Task.sleep(for: .milliseconds(100))
        redis.kill()
        let lost = await #expect(throws: RedisClientError.self) { try await inFlight.get() }
        #expect(lost?.kind == .connectionClosed)

        // While it is down, commands fail at once with a typed error.
        try await Task.sleep(for: .milliseconds(50))
        let down = await #expect(throws: RedisClientError.self) { try await client.command("PING") }
        #expect(down?.kind == .notConnected || down?.kind == .connectionClosed)
        #expect(client.state == .reconnecting)

        try await redis.start()
        try await waitUntil { client.state == .connected && subscriber.state == .connected }
        #expect(try await client.command("PING") == .simpleString("PONG"))
        // The subscription was restored without the caller doing anything.
        #expect(try await client.command("PUBLISH", "events", "back") == .integer(1))
        try await inbox.wait { !$0.isEmpty }
        #expect(inbox.payloads(on: "events") == ["back"])
    }

    @Test func commandTimeoutFailsThePendingCommand() async throws {
        let redis = try await RedisServer()
        var configuration = redis.configuration
        configuration.commandTimeout = .milliseconds(300)
        let client = RedisClient(configuration: configuration)
        try await client.connect()
        let running = Task { try await client.run() }
        defer { running.cancel() }
        let error = await #expect(throws: RedisClientError.self) { try await client.command("BLPOP", "never", "0") }
        #expect(error?.kind == .commandTimeout)
        // The timed-out connection is closed and replaced; commands work again without the caller's help.
        var answer: RedisReply?
        for _ in 0..<100 where answer == nil {
            answer = try? await client.command("PING")
            if answer == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(answer == .simpleString("PONG"))
    }

    /// Without `run()` the connection is not kept: the client is shut down by cancelling its run.
    @Test func cancellingRunShutsTheClientDown() async throws {
        let redis = try await RedisServer()
        let client = RedisClient(configuration: redis.configuration)
        let running = Task { try await client.run() }
        try await waitUntil { client.state == .connected }
        #expect(try await client.command("PING") == .simpleString("PONG"))
        running.cancel()
        try await running.value
        #expect(client.state == .shutdown)
        let error = await #expect(throws: RedisClientError.self) { try await client.command("PING") }
        #expect(error?.kind == .shutdown)
    }

    @Test func connectFailsClearlyWhenNothingListens() async throws {
        let port = try FreePort.next()
        let client = RedisClient(configuration: try RedisConfiguration(url: "redis://127.0.0.1:\(port)/0"))
        let error = await #expect(throws: RedisClientError.self) { try await client.connect() }
        #expect(error?.kind == .connectFailed)
        #expect(error?.detail.contains("127.0.0.1:\(port)") == true)
    }
}

func waitUntil(seconds: Double = 10, _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("condition not met within \(seconds) s")
            return
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}
