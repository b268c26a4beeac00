import Logging
import Metrics
import RedisClient
import ServiceLifecycle
import Synchronization

/// Redis's memory as the node sees it: used and maximum bytes per server (every primary on a cluster) in `/metrics`,
/// refreshed every 15 s, and a warning at start when a server's `maxmemory-policy` would evict keys (anything but
/// `noeviction`: streams, cid records and presence keys carry expiries, so even the `volatile-*` policies would drop
/// history or presence silently).
///
/// Read with `INFO memory`, which managed Redis services allow where `CONFIG GET` is refused.
public final class RedisMemory: Sendable {
    /// One server's figures.
    public struct Server: Sendable, Equatable {
        /// `host:port`, or `redis` for the node's one server (behind Sentinel: the current master).
        public var name: String
        public var usedBytes: Int
        /// 0 when no `maxmemory` is set.
        public var maximumBytes: Int
        public var policy: String
    }

    private let backend: RedisBackend
    let keys: RedisKeys
    private let logger: Logger
    private let metrics: RelayMetrics
    private let gauges = Mutex<[String: (used: Gauge, maximum: Gauge)]>([:])
    static let interval: Duration = .seconds(15)

    init(backend: RedisBackend, keys: RedisKeys, logger: Logger, metrics: RelayMetrics) {
        self.backend = backend
        self.keys = keys
        self.logger = logger
        self.metrics = metrics
    }

    /// Every server's memory now; a server that did not answer is left out.
    public func servers() async -> [Server] {
        var servers: [Server] = []
        for (name, send) in serverCommands {
            if let info = try? await send(["INFO", "memory"]), let server = Self.server(name, info) { servers.append(server) }
        }
        return servers
    }

    /// Each server by name, with a way to send it a command: every primary of a cluster, else the one server.
    var serverCommands: [(name: String, send: @Sendable ([RedisArgument]) async throws -> RedisReply)] {
        if let cluster = backend.cluster {
            return cluster.primaries.map { primary in (primary.description, { try await cluster.command(on: primary, $0) }) }
        }
        let redis = backend.commands
        return [("redis", { try await redis.command($0) })]
    }

    static func server(_ name: String, _ info: RedisReply) -> Server? {
        guard let text = info.string else { return nil }
        var fields: [Substring: Substring] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon]] = line[line.index(after: colon)...]
        }
        guard let used = fields["used_memory"].flatMap({ Int($0) }) else { return nil }
        return Server(
            name: name,
            usedBytes: used,
            maximumBytes: fields["maxmemory"].flatMap { Int($0) } ?? 0,
            policy: fields["maxmemory_policy"].map(String.init) ?? "unknown"
        )
    }

    /// At start: the first figures for `/metrics`, and a warning for every server whose policy evicts keys.
    public func checkAtStart() async {
        let servers = await servers()
        record(servers)
        for server in servers where server.policy != "noeviction" {
            logger.warning(
                "Redis may evict keys: its maxmemory-policy is not noeviction, so history, cid records or presence can vanish under memory pressure; set maxmemory-policy noeviction",
                metadata: ["redis": "\(server.name)", "policy": "\(server.policy)"]
            )
        }
    }

    private func record(_ servers: [Server]) {
        for server in servers {
            let (used, maximum) = gauges.withLock { gauges in
                if let existing = gauges[server.name] { return existing }
                let made = metrics.redisMemoryGauges(server: server.name)
                gauges[server.name] = made
                return made
            }
            used.record(server.usedBytes)
            maximum.record(server.maximumBytes)
        }
    }
}

extension RedisMemory: Service {
    /// Reads the servers' memory every 15 s until graceful shutdown.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                self.record(await self.servers())
                try? await Task.sleep(for: Self.interval)
            }
        }
    }
}
