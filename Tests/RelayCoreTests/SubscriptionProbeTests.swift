import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RedisClient
import TestSupport
import Testing

@testable import RelayCore

/// The probe on a real Redis: a subscriber whose connection stays open but no longer delivers is found and its
/// connection made again; a healthy one is left alone.
@Suite struct SubscriptionProbeTests {
    /// Forwards to a real subscriber, except that it never really subscribes probe channels: an open connection that
    /// does not deliver them.
    struct DeafToProbes: DeliverySubscriber {
        let subscriber: ServerDeliverySubscriber
        let keys: RedisKeys

        func connect() async throws { try await subscriber.connect() }
        func run() async throws { try await subscriber.run() }
        func subscribe(_ channel: String) -> EventLoopFuture<Void> {
            guard channel.hasPrefix(keys.probePrefix) else { return subscriber.subscribe(channel) }
            return MultiThreadedEventLoopGroup.singleton.any().makeSucceededVoidFuture()
        }
        func unsubscribe(_ channel: String) { subscriber.unsubscribe(channel) }
        var isLive: Bool { subscriber.isLive }
        func reconnect(carrying channel: String) { subscriber.reconnect(carrying: channel) }
    }

    struct Fixture {
        let probe: SubscriptionProbe
        let subscriber: ServerDeliverySubscriber
        let interruptions: NIOLockedValueBox<Int>
        let task: Task<Void, Never>
    }

    static func start(on redis: RedisServer, deaf: Bool) async throws -> Fixture {
        let keys = RedisKeys(prefix: "chat")
        let client = RedisClient(configuration: redis.configuration)
        try await client.connect()
        var logger = Logger(label: "test.probe")
        logger.logLevel = .critical
        let probe = SubscriptionProbe(
            keys: keys,
            instance: "node-1",
            publisher: Publisher(redis: client, cluster: false),
            cluster: nil,
            // Generous: a loaded test machine can hold a loopback publish back for a second or more.
            timeout: .seconds(3),
            interval: .milliseconds(100),
            logger: logger,
            metrics: .discarding
        )
        let interruptions = NIOLockedValueBox(0)
        let subscriber = ServerDeliverySubscriber(
            configuration: redis.configuration,
            logger: logger,
            metrics: RedisMetricsSettings(),
            events: DeliverySubscriberEvents(
                interrupted: { _ in interruptions.withLockedValue { $0 += 1 } },
                resumed: { _ in },
                finished: {},
                message: { message in probe.received(String(buffer: message.payload), on: message.channel) }
            )
        )
        try await subscriber.connect()
        let used: any DeliverySubscriber = deaf ? DeafToProbes(subscriber: subscriber, keys: keys) : subscriber
        let task = Task {
            await withDiscardingTaskGroup { group in
                group.addTask { try? await used.run() }
                group.addTask { await probe.run(subscriber: used) }
            }
        }
        return Fixture(probe: probe, subscriber: subscriber, interruptions: interruptions, task: task)
    }

    @Test func aSubscriberThatStopsDeliveringIsReconnected() async throws {
        let redis = try await RedisServer()
        let fixture = try await Self.start(on: redis, deaf: true)
        defer { fixture.task.cancel() }
        var found = false
        for _ in 0..<200 where !found {
            try await Task.sleep(for: .milliseconds(50))
            found = !fixture.probe.isHealthy && fixture.interruptions.withLockedValue { $0 } > 0
        }
        #expect(found, "the deaf subscriber was not found out and reconnected")
    }

    @Test func aHealthySubscriberStaysReadyAndConnected() async throws {
        let redis = try await RedisServer()
        let fixture = try await Self.start(on: redis, deaf: false)
        defer { fixture.task.cancel() }
        // Two probe rounds and the start of a third (each waits out its timeout).
        for _ in 0..<70 {
            try await Task.sleep(for: .milliseconds(100))
            #expect(fixture.probe.isHealthy)
        }
        #expect(fixture.interruptions.withLockedValue { $0 } == 0)
        #expect(try await redis.command("PUBSUB", "NUMSUB", "chat:probe:{node-1}").array?.last == .integer(1))
    }
}
