import ChatClient
import Foundation
import NIOConcurrencyHelpers
import RedisClient
import TestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One chat user in the chaos run: sends with cids, retries what was not acknowledged, reconnects to another node
/// and syncs from the last id it saw whenever its socket closes. Deduplicates by id, as clients must.
final class ChaosClient: @unchecked Sendable {
    let user: String
    let friendship: String
    private let ports: [Int]
    private let state = NIOLockedValueBox(State())
    private var connection: ChatConnection?
    private var nodeIndex: Int

    struct State {
        var acked: [String: String] = [:]  // cid -> id
        var pending: Set<String> = []
        var seen: Set<String> = []
        var last = "0-0"
        var synced = false
    }

    init(user: String, friendship: String, ports: [Int], node: Int) {
        self.user = user
        self.friendship = friendship
        self.ports = ports
        nodeIndex = node
    }

    var acked: [String: String] { state.withLockedValue { $0.acked } }
    var seen: Set<String> { state.withLockedValue { $0.seen } }
    var pendingCount: Int { state.withLockedValue { $0.pending.count } }

    private func handle(_ text: String) {
        guard let frame = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else { return }
        state.withLockedValue { state in
            switch frame["op"] as? String {
            case "ack"?:
                if let cid = frame["cid"] as? String, let id = frame["id"] as? String {
                    state.acked[cid] = id
                    state.pending.remove(cid)
                }
            case "synced"?:
                state.synced = true
            case nil:
                if let id = frame["id"] as? String, frame["friend"] as? String == friendship {
                    state.seen.insert(id)
                    if streamID(state.last, isBefore: id) { state.last = id }
                }
            default:
                break
            }
        }
    }

    /// Connects to the next node that answers and syncs from the last id seen.
    func ensureConnected(deadline: ContinuousClock.Instant) async {
        if let connection, !connection.isClosed { return }
        while ContinuousClock.now < deadline {
            let port = ports[nodeIndex % ports.count]
            nodeIndex += 1
            if let fresh = try? await ChatConnection.connect(url: "ws://127.0.0.1:\(port)/ws/\(user)", onFrame: { [weak self] in self?.handle($0) }) {
                connection = fresh
                let last = state.withLockedValue { $0.last }
                fresh.send(json: ["op": "sync", "cursors": [friendship: last]])
                return
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    func send(_ index: Int) {
        let cid = "\(user)-\(index)"
        state.withLockedValue { _ = $0.pending.insert(cid) }
        connection?.send(json: ["friend": friendship, "content": "m\(index)", "cid": cid])
    }

    /// Sends again everything not acknowledged yet: the cid makes it safe.
    func resendPending() {
        for cid in state.withLockedValue({ $0.pending }) {
            let index = cid.split(separator: "-").last.map(String.init) ?? "0"
            connection?.send(json: ["friend": friendship, "content": "m\(index)", "cid": cid])
        }
    }

    /// A full sync from the start, to count what this user has seen at the end.
    func finalSync(deadline: ContinuousClock.Instant) async -> Bool {
        await ensureConnected(deadline: deadline)
        state.withLockedValue { $0.synced = false }
        connection?.send(json: ["op": "sync", "cursors": [friendship: "0-0"]])
        while ContinuousClock.now < deadline {
            if state.withLockedValue({ $0.synced }) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    func close() async { await connection?.close() }
}

@Suite(.takesTurns) struct ChaosTests {
    @Test(.timeLimit(.minutes(10)))
    func killANodeAndRestartRedisNothingLostNothingDuplicated() async throws {
        let redis = try await RedisServer(arguments: ["--appendonly", "yes", "--appendfsync", "always"])
        try await run(
            redisURL: redis.url,
            events: [
                (1 / 3, { $0.signal(1, SIGKILL) }),
                (
                    2 / 3,
                    { _ in
                        redis.kill()
                        try await Task.sleep(for: .milliseconds(300))
                        try await redis.start()
                    }
                ),
            ]
        ) { key in
            try await redis.command("XRANGE", .string(key), "-", "+")
        }
    }

    /// The same on a 3-primary cluster with `--min-replicas 1`: a relay node dies, then a primary is killed with
    /// `kill -9`; its replica takes over and the old primary, restarted, becomes its replica.
    @Test(.timeLimit(.minutes(10)))
    func onAClusterKillANodeAndAPrimaryNothingLostNothingDuplicated() async throws {
        let redis = try await RedisClusterServers(arguments: ["--appendonly", "yes", "--appendfsync", "always"])
        let reader = RedisClusterClient(seeds: redis.endpoints, configuration: RedisConfiguration())
        try await reader.connect()
        defer { Task { await reader.shutdown() } }
        let victim = try #require(reader.topology?.shards.first?.primary)
        var rejoining: Task<Void, any Error>?
        let killPrimary: (Nodes) async throws -> Void = { _ in
            let server = redis.server(at: victim)!
            server.kill()
            rejoining = Task {
                while (try? await reader.refresh())?.shards.contains(where: { $0.primary == victim }) ?? true {
                    try await Task.sleep(for: .milliseconds(200))
                }
                try await server.start()
            }
        }
        try await run(
            redisURL: "redis-cluster://" + redis.seeds,
            extraFlags: ["--min-replicas", "1"],
            events: [(1 / 3, { $0.signal(1, SIGKILL) }), (2 / 3, killPrimary)]
        ) { key in
            try await reader.command(["XRANGE", .string(key), "-", "+"])
        }
        try await rejoining?.value
    }

    /// Relay node processes on reserved ports, started when asked.
    final class Nodes: @unchecked Sendable {
        let ports: [Int]
        let flags: [String]
        private(set) var processes: [Int: RelayProcess] = [:]
        /// The signal each node was sent on purpose.
        private(set) var signalled: [Int: Int32] = [:]

        init(count: Int, flags: [String]) throws {
            ports = try (0..<count).map { _ in try FreePort.next() }
            self.flags = flags
        }

        func start(_ index: Int) async throws {
            processes[index] = try RelayProcess(arguments: flags, port: ports[index])
            #expect(try await processes[index]!.becomesReady())
        }

        func signal(_ index: Int, _ signal: Int32) {
            signalled[index] = signal
            if let process = processes[index]?.process, process.isRunning { kill(process.processIdentifier, signal) }
        }

        /// Nodes nobody stopped are still running (a crash would otherwise go unseen: clients reconnect elsewhere),
        /// and drained ones exited 0.
        func expectHealthyEnd() async {
            for (index, node) in processes.sorted(by: { $0.key < $1.key }) {
                switch signalled[index] {
                case nil: #expect(node.process.isRunning, "node \(index) died: \(node.standardError)")
                case SIGTERM: #expect(await node.exitStatus(within: 10) == 0, "node \(index) did not drain: \(node.standardError)")
                default: break
                }
            }
        }

        func killAll() {
            for index in processes.keys { signal(index, SIGKILL) }
        }
    }

    /// Nodes added and drained under load, 2 → 4 → 2: two nodes join a quarter of the way, the first two are drained
    /// (SIGTERM) half-way, and their clients reconnect to the new ones.
    @Test(.timeLimit(.minutes(10)))
    func nodesAddedAndDrainedUnderLoadNothingLostNothingDuplicated() async throws {
        let redis = try await RedisServer()
        try await run(
            redisURL: redis.url,
            nodeCount: 4,
            started: 2,
            events: [
                (
                    1 / 4,
                    { nodes in
                        try await nodes.start(2)
                        try await nodes.start(3)
                    }
                ),
                (
                    1 / 2,
                    { nodes in
                        nodes.signal(0, SIGTERM)
                        nodes.signal(1, SIGTERM)
                    }
                ),
            ]
        ) { key in
            try await redis.command("XRANGE", .string(key), "-", "+")
        }
    }

    /// Pairs of clients chat through relay node processes (`nodeCount` ports, the first `started` running); at each
    /// fraction of the messages `events` names, its step runs. Every send is retried until acked; at the end every
    /// acked message reached its receiver and no cid was stored twice.
    private func run(
        redisURL: String,
        extraFlags: [String] = [],
        nodeCount: Int = 3,
        started: Int = 3,
        events: [(at: Double, step: (Nodes) async throws -> Void)],
        history: (String) async throws -> RedisReply
    ) async throws {
        let flags = ["--redis", redisURL, "--auth", "none", "--admin-token", "adm", "--rate", "0", "--heartbeat", "2"] + extraFlags
        let nodes = try Nodes(count: nodeCount, flags: flags)
        defer { nodes.killAll() }
        for index in 0..<started { try await nodes.start(index) }
        let ports = nodes.ports

        // The suite runs a short version; CHATRELAY_CHAOS_PAIRS and CHATRELAY_CHAOS_MESSAGES make it the full run.
        let environment = ProcessInfo.processInfo.environment
        let pairs = environment["CHATRELAY_CHAOS_PAIRS"].flatMap(Int.init) ?? 30
        let messages = environment["CHATRELAY_CHAOS_MESSAGES"].flatMap(Int.init) ?? 30
        var clients: [ChaosClient] = []
        for pair in 0..<pairs {
            let a = try await post(ports[0], "/api/users", ["name": "a\(pair)", "id": "a\(pair)"])
            let b = try await post(ports[0], "/api/users", ["name": "b\(pair)", "id": "b\(pair)"])
            let f = try await post(ports[0], "/api/friendships", ["user1": a, "user2": b])
            clients.append(ChaosClient(user: a, friendship: f, ports: ports, node: pair))
            clients.append(ChaosClient(user: b, friendship: f, ports: ports, node: pair + 1))
        }
        let deadline = ContinuousClock.now + .seconds(60 + Double(pairs * messages) / 20)
        for client in clients { await client.ensureConnected(deadline: deadline) }

        // Everyone sends; the events happen on the way.
        for index in 0..<messages {
            for event in events where index == Int(event.at * Double(messages)) { try await event.step(nodes) }
            for client in clients {
                await client.ensureConnected(deadline: deadline)
                client.send(index)
            }
            try await Task.sleep(for: .milliseconds(30))
        }
        // Retry until everything is acknowledged (the cid makes retries safe).
        while clients.contains(where: { $0.pendingCount > 0 }) && ContinuousClock.now < deadline {
            for client in clients where client.pendingCount > 0 {
                await client.ensureConnected(deadline: deadline)
                client.resendPending()
            }
            try await Task.sleep(for: .milliseconds(300))
        }
        for client in clients { #expect(await client.finalSync(deadline: deadline), "\(client.user) never synced") }

        var sent = 0
        var acked = 0
        var lost = 0
        var delivered = 0
        var duplicated = 0
        for pair in 0..<pairs {
            let (a, b) = (clients[2 * pair], clients[2 * pair + 1])
            for (sender, receiver) in [(a, b), (b, a)] {
                sent += messages
                acked += sender.acked.count
                lost += sender.acked.values.filter { !receiver.seen.contains($0) }.count
                delivered += sender.acked.values.filter { receiver.seen.contains($0) }.count
            }
            // No message stored twice: every cid once in the stream.
            let history = try await history("chat:history:{\(a.friendship)}")
            let cids = (history.array ?? []).compactMap { entry -> String? in
                guard let fields = entry.array?.last?.array else { return nil }
                let index = fields.firstIndex { $0.string == "cid" }
                return index.flatMap { fields[$0 + 1].string }
            }
            duplicated += cids.count - Set(cids).count
        }
        print("chaos run: sent \(sent), acked \(acked), delivered \(delivered), lost \(lost), duplicated \(duplicated)")
        #expect(acked == sent)
        #expect(lost == 0)
        #expect(duplicated == 0)
        await nodes.expectHealthyEnd()
        for client in clients { await client.close() }
    }

    private func isReady(_ port: Int) async -> Bool {
        for _ in 0..<200 {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/readyz")!)
            request.timeoutInterval = 1
            if ((try? await URLSession.shared.data(for: request))?.1 as? HTTPURLResponse)?.statusCode == 200 { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    private func post(_ port: Int, _ path: String, _ body: [String: String]) async throws -> String {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = "POST"
        request.httpBody = try JSONSerialization.data(withJSONObject: body)
        let (data, _) = try await URLSession.shared.data(for: request)
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        return try #require(object?["id"] as? String)
    }
}
