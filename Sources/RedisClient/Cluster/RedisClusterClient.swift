import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Commands to a Redis Cluster: each goes to the primary that serves its key's slot, over one pipelined connection
/// per primary (a ``RedisClient`` each).
///
/// The slot map comes from `CLUSTER SHARDS`, asked of several nodes (``refresh()``). A `MOVED` patches the map for
/// its slot, is followed at once, and asks for one full refresh (coalesced: callers share a refresh in flight). An
/// `ASK` is followed once with `ASKING`, the map untouched. `TRYAGAIN`, `CLUSTERDOWN`, `LOADING` and `MASTERDOWN` are
/// retried with backoff. A command goes out again only after an answer that proves it did not run (those errors);
/// after a lost connection its fate is unknown and the caller decides (the relay's sends carry a cid for that).
///
/// A service: ``run()`` keeps every node's connection and refreshes the map every ``refreshInterval``.
public final class RedisClusterClient: Sendable {
    private struct State {
        var topology: ClusterTopology?
        var refreshing: Task<ClusterTopology, any Error>?
    }

    /// The seed nodes and every connection's settings (its host and port are replaced per node).
    public let seeds: [RedisEndpoint]
    private let template: RedisConfiguration
    private let logger: Logger
    private let metrics: RedisMetricsSettings
    private let role: String
    let clusterMetrics: ClusterMetrics
    private let state = Mutex(State())
    private let nodes = ClusterNodeConnections<RedisClient>()
    public static let refreshInterval: Duration = .seconds(30)
    /// Redirects followed for one command before it fails.
    public static let maximumRedirects = 5
    /// Retries of `TRYAGAIN`, `CLUSTERDOWN`, `LOADING` and `MASTERDOWN`, 50 ms doubling.
    public static let maximumBusyRetries = 6
    private static let busyCodes: Set<String> = ["TRYAGAIN", "CLUSTERDOWN", "LOADING", "MASTERDOWN"]

    public init(
        seeds: [RedisEndpoint],
        configuration: RedisConfiguration,
        logger: Logger = Logger(label: "redis-cluster"),
        metrics: RedisMetricsSettings = RedisMetricsSettings(),
        role: String = "cluster"
    ) {
        self.seeds = seeds
        self.role = role
        clusterMetrics = ClusterMetrics(metrics)
        template = configuration
        self.logger = logger
        self.metrics = metrics
    }

    /// The map as last read.
    public var topology: ClusterTopology? { state.withLock { $0.topology } }

    /// Every primary of the map has a connected client: every slot can be written now.
    public var isReady: Bool {
        guard let topology else { return false }
        return topology.shards.allSatisfy { nodes.existing($0.primary)?.state == .connected }
    }

    /// Reads the map for the first time and connects to every primary; throws when no seed answers.
    public func connect() async throws {
        let topology = try await refresh()
        for shard in topology.shards { _ = try await client(for: shard.primary) }
    }

    /// Closes every node's connection (for a client that is not run as a service).
    public func shutdown() async {
        await nodes.shutdown()
    }

    /// Runs the call on its slot's primary through ``route(_:_:)``; returns the reply and the node's client.
    private func evaluateRouted(_ call: RedisScriptCall) async throws -> (reply: RedisReply, node: RedisClient) {
        try await route(RoutingKey.slot(of: call.command)) { client, asking in
            guard asking else {
                let promise = MultiThreadedEventLoopGroup.singleton.any().makePromise(of: RedisReply.self)
                client.evaluate(call) { result, _ in promise.completeWith(result) }
                return (try await promise.futureResult.get(), client)
            }
            // ASKING covers the next command only: the whole script goes with it, not a SCRIPT LOAD and an EVALSHA.
            _ = client.send(["ASKING"])
            var eval = call.command
            eval[0] = "EVAL"
            eval[1] = .string(call.script.source)
            return (try await client.command(eval), client)
        }
    }

    /// The connected client of the primary serving `slot` (any primary for nil), if the map names one: the hot path
    /// sends there without suspending.
    private func readyClient(for slot: HashSlot?) -> RedisClient? {
        guard let owner = state.withLock({ Self.owner(of: slot, in: $0.topology) }), let client = nodes.existing(owner), client.state == .connected
        else { return nil }
        return client
    }

    private func route<Result>(_ slot: HashSlot?, _ body: (RedisClient, _ asking: Bool) async throws -> Result) async throws -> Result {
        var redirects = 0
        var busyRetries = 0
        var asked: RedisEndpoint?
        while true {
            let endpoint: RedisEndpoint
            if let asked {
                endpoint = asked
            } else if let owner = state.withLock({ Self.owner(of: slot, in: $0.topology) }) {
                endpoint = owner
            } else {
                guard let owner = Self.owner(of: slot, in: try await refresh()) else {
                    throw RedisClientError(.notConnected, "no primary of the cluster serves slot \(slot.map(\.description) ?? "any")")
                }
                endpoint = owner
            }
            do {
                let client = try await client(for: endpoint)
                return try await body(client, asked != nil)
            } catch let error as RedisServerError {
                if let redirect = ClusterRedirect(error) {
                    redirects += 1
                    guard redirects <= Self.maximumRedirects else { throw error }
                    switch redirect {
                    case .moved(let movedSlot, let target):
                        clusterMetrics.moved.increment()
                        state.withLock { $0.topology?.move(movedSlot, to: target) }
                        asked = nil
                        refreshSoon()
                    case .ask(_, let target):
                        clusterMetrics.asked.increment()
                        asked = target
                    }
                    continue
                }
                guard Self.busyCodes.contains(error.code), busyRetries < Self.maximumBusyRetries else { throw error }
                try await Task.sleep(for: .milliseconds(50 << busyRetries))
                busyRetries += 1
                asked = nil
            } catch let error as RedisClientError where error.kind == .notConnected || error.kind == .connectFailed {
                // The node is gone, or not yet reconnected: the map may be stale. The command never went out.
                refreshSoon()
                guard busyRetries < Self.maximumBusyRetries else { throw error }
                try await Task.sleep(for: .milliseconds(50 << busyRetries))
                busyRetries += 1
                asked = nil
            }
        }
    }

    private static func owner(of slot: HashSlot?, in topology: ClusterTopology?) -> RedisEndpoint? {
        guard let slot else { return topology?.shards.first?.primary }
        return topology?.primary(for: slot)
    }

    /// Whether a failed command may go again through ``route(_:_:)``: a redirect, a cluster busy with a change, or a
    /// node not connected (the command never went out).
    private static func needsRouting(_ error: any Error) -> Bool {
        switch error {
        case let error as RedisServerError: ClusterRedirect(error) != nil || busyCodes.contains(error.code)
        case let error as RedisClientError: error.kind == .notConnected || error.kind == .connectFailed
        default: false
        }
    }

    /// The client of the node at `endpoint`, connected the first time it is asked for.
    private func client(for endpoint: RedisEndpoint) async throws -> RedisClient {
        try await nodes.connection(for: endpoint) {
            RedisClient(configuration: template.at(endpoint), logger: logger, metrics: metrics, role: role)
        }
    }

    /// The primaries of the slot map, for what concerns a server rather than a key (`INFO`, `SCAN`).
    public var primaries: [RedisEndpoint] { topology?.shards.map(\.primary) ?? [] }

    /// Sends a command to one node, whatever its slots.
    public func command(on node: RedisEndpoint, _ arguments: [RedisArgument]) async throws -> RedisReply {
        try await client(for: node).command(arguments)
    }

    /// Reads the map again, sharing a read already in flight.
    @discardableResult
    public func refresh() async throws -> ClusterTopology {
        let task = state.withLock { state -> Task<ClusterTopology, any Error> in
            if let running = state.refreshing { return running }
            let known = state.topology.map { $0.shards.map(\.primary) } ?? []
            let task = Task { try await self.discover(asking: known + self.seeds) }
            state.refreshing = task
            return task
        }
        defer { state.withLock { if $0.refreshing == task { $0.refreshing = nil } } }
        let topology = try await task.value
        let changed = state.withLock { state -> Bool in
            defer { state.topology = topology }
            return state.topology != topology
        }
        if changed {
            clusterMetrics.mapChanges.increment()
            logger.info("cluster slot map read", metadata: ["primaries": "\(topology.shards.map(\.primary))"])
            // A promoted replica is a primary now: connect before the first command needs it (and for readiness).
            Task { for shard in topology.shards { _ = try? await client(for: shard.primary) } }
        }
        return topology
    }

    private func refreshSoon() {
        Task { _ = try? await self.refresh() }
    }

    /// Asks the nodes in turn until two agree on a map that serves every slot (or only one answers at all).
    private func discover(asking candidates: [RedisEndpoint]) async throws -> ClusterTopology {
        var seen: [ClusterTopology] = []
        var failures: [String] = []
        var asked = Set<RedisEndpoint>()
        for endpoint in candidates where asked.insert(endpoint).inserted {
            do {
                var configuration = template.at(endpoint)
                configuration.clientName = nil
                let connection = try await RedisConnection.connect(
                    configuration: configuration,
                    eventLoop: MultiThreadedEventLoopGroup.singleton.any()
                )
                defer { Task { await connection.close() } }
                let topology = try ClusterTopology(shardsReply: try await connection.command("CLUSTER", "SHARDS"))
                guard topology.coversEverySlot else {
                    failures.append("\(endpoint): not every slot is served")
                    continue
                }
                if seen.contains(topology) { return topology }
                seen.append(topology)
            } catch {
                failures.append("\(endpoint): \(error)")
            }
        }
        if let only = seen.first { return only }
        throw RedisClientError(.connectFailed, "no cluster node gave a slot map: " + failures.joined(separator: "; "))
    }
}

extension RedisClusterClient: RedisCommands {
    /// Sends the command to the primary of its first key's slot (``RoutingKey``), straight away while the map names a
    /// connected node; redirects, a busy cluster and a missing connection go through the retrying route.
    public func send(_ arguments: [RedisArgument], then callback: @escaping RedisReplyCallback) {
        let slot = RoutingKey.slot(of: arguments)
        let slowly: @Sendable () -> Void = {
            Task {
                do {
                    callback(
                        .success(
                            try await self.route(slot) { client, asking in
                                if asking { _ = client.send(["ASKING"]) }
                                return try await client.command(arguments)
                            }
                        )
                    )
                } catch {
                    callback(.failure(error))
                }
            }
        }
        guard let client = readyClient(for: slot) else { return slowly() }
        client.send(arguments) { result in
            if case .failure(let error) = result, Self.needsRouting(error) { return slowly() }
            callback(result)
        }
    }

    public func evaluate(
        _ call: consuming RedisScriptCall,
        then callback: @escaping @Sendable (Result<RedisReply, any Error>, RedisClient?) -> Void
    ) {
        let call = call
        let slot = RoutingKey.slot(of: call.command)
        let slowly: @Sendable () -> Void = {
            Task {
                do {
                    let (reply, client) = try await self.evaluateRouted(call)
                    callback(.success(reply), client)
                } catch {
                    callback(.failure(error), nil)
                }
            }
        }
        guard let client = readyClient(for: slot) else { return slowly() }
        client.evaluate(call) { result, node in
            if case .failure(let error) = result, Self.needsRouting(error) { return slowly() }
            callback(result, node)
        }
    }
}

extension RedisClusterClient: Service {
    /// Keeps every node's connection and refreshes the map every ``refreshInterval``, until graceful shutdown.
    public func run() async throws {
        await nodes.run {
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.refreshInterval)
                _ = try? await self.refresh()
            }
        }
    }
}
