import Logging
import NIOConcurrencyHelpers
import RedisClient

/// Proves that the node's subscriptions deliver, not only that their connections are open: every few seconds it
/// publishes a token to a probe channel of its own on each subscriber connection (on a cluster, one channel in a
/// slot of each primary) and expects it back. A token that does not come back within the timeout marks the node not
/// ready and drops that connection, which is made again, its channels subscribed again and its sockets caught up
/// from the streams. A connection can be open and deliver nothing: a half-open TCP connection, or a server that
/// stopped serving the channel's slot without saying so.
final class SubscriptionProbe: Sendable {
    private struct State {
        /// The token each probe channel waits for.
        var awaited: [String: UInt64] = [:]
        /// Probe channels whose last token did not come back.
        var failed: Set<String> = []
        /// Probe channels subscribed.
        var subscribed: Set<String> = []
        var nextToken: UInt64 = 0
    }

    /// How often the probes go out.
    private let interval: Duration
    private let state = NIOLockedValueBox(State())
    private let keys: RedisKeys
    private let instance: String
    private let publisher: Publisher
    /// The primaries of the cluster's map (nil on one server): one probe channel each.
    private let primaries: @Sendable () -> [RedisEndpoint]?
    private let slotOwner: @Sendable (HashSlot) -> RedisEndpoint?
    private let timeout: Duration
    private let logger: Logger
    private let metrics: RelayMetrics

    init(
        keys: RedisKeys,
        instance: String,
        publisher: Publisher,
        cluster: RedisClusterClient?,
        timeout: Duration,
        interval: Duration = .seconds(5),
        logger: Logger,
        metrics: RelayMetrics
    ) {
        self.interval = interval
        self.keys = keys
        self.instance = instance
        self.publisher = publisher
        primaries = { cluster.map { $0.topology?.shards.map(\.primary) ?? [] } }
        slotOwner = { cluster?.topology?.primary(for: $0) }
        self.timeout = timeout
        self.logger = logger
        self.metrics = metrics
    }

    /// Every probe's last token came back.
    var isHealthy: Bool { state.withLockedValue { $0.failed.isEmpty } }

    func isProbe(_ channel: String) -> Bool { channel.hasPrefix(keys.probePrefix) }

    /// A message on a channel no socket listens to: a probe's token, perhaps.
    func received(_ payload: String, on channel: String) {
        state.withLockedValue { state in
            guard let token = UInt64(payload), state.awaited[channel] == token else { return }
            state.awaited[channel] = nil
            state.failed.remove(channel)
        }
    }

    /// The probe channels now: one on a single server; one per primary on a cluster, its name chosen so that its slot
    /// is that primary's.
    private func channels() -> [String] {
        guard let primaries = primaries() else { return [keys.probe(instance)] }
        return primaries.compactMap { primary in
            (0..<10_000).lazy.map { self.keys.probe("\(self.instance)-\($0)") }.first { self.slotOwner(HashSlot(key: $0)) == primary }
        }
    }

    /// Probes until graceful shutdown (the caller's task is cancelled).
    func run(subscriber: any DeliverySubscriber) async {
        while !Task.isCancelled {
            await probe(subscriber: subscriber)
            try? await Task.sleep(for: interval)
        }
    }

    private func probe(subscriber: any DeliverySubscriber) async {
        let channels = channels()
        let wanted = Set(channels)
        let (new, gone) = state.withLockedValue { state in
            defer { state.subscribed = wanted }
            return (wanted.subtracting(state.subscribed), state.subscribed.subtracting(wanted))
        }
        for channel in gone { subscriber.unsubscribe(channel) }
        for channel in new { _ = try? await subscriber.subscribe(channel).get() }
        var sent: [(String, UInt64)] = []
        for channel in channels {
            let token = state.withLockedValue { state in
                state.nextToken += 1
                state.awaited[channel] = state.nextToken
                return state.nextToken
            }
            publisher.publish(.string(String(token)), to: channel)
            sent.append((channel, token))
        }
        try? await Task.sleep(for: timeout)
        for (channel, token) in sent {
            let missed = state.withLockedValue { state -> Bool in
                guard state.awaited[channel] == token else { return false }
                state.awaited[channel] = nil
                state.failed.insert(channel)
                return true
            }
            guard missed else { continue }
            metrics.probesMissed.increment()
            logger.warning("a subscription probe did not come back; reconnecting its subscriber", metadata: ["channel": "\(channel)"])
            subscriber.reconnect(carrying: channel)
        }
        state.withLockedValue { $0.failed.formIntersection(wanted) }
    }
}
