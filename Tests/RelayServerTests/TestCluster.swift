import ChatClient
import Foundation
import Logging
import NIOCore
import Prometheus
import RedisClient
import RelayCore
import RelayServer
import TestSupport

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real Redis and several relay nodes in this process, each on its own loopback port.
final class TestCluster: @unchecked Sendable {
    static let jwtSecret = "test-secret-that-is-long-enough-for-hs256-and-for-hs384"
    static let adminToken = "admin-token-of-at-least-32-bytes-for-jwt"

    let redis: RedisServer
    let configuration: RelayConfiguration
    private(set) var nodes: [RelayNode] = []
    /// Each node's own `/metrics` registry.
    private(set) var metrics: [PrometheusCollectorRegistry] = []
    private var tasks: [Task<Void, any Error>] = []

    /// True when ``start(nodes:auth:redis:redisArguments:configure:)`` made the Redis, so ``stop()`` stops it too.
    private let ownsRedis: Bool

    private init(redis: RedisServer, ownsRedis: Bool, configuration: RelayConfiguration) {
        self.redis = redis
        self.ownsRedis = ownsRedis
        self.configuration = configuration
    }

    /// `redis`: a server the test made (a master with replicas, say); else one is started with `redisArguments`.
    static func start(
        nodes count: Int = 2,
        auth: AuthMode = .none,
        redis given: RedisServer? = nil,
        redisArguments: [String] = [],
        configure: (inout RelayConfiguration) -> Void = { _ in }
    ) async throws -> TestCluster {
        let redis: RedisServer
        if let given { redis = given } else { redis = try await RedisServer(arguments: redisArguments) }
        var configuration = RelayConfiguration()
        configuration.redisURL = redis.url
        configuration.auth = auth
        configuration.jwtSecret = jwtSecret
        configuration.adminToken = adminToken
        configuration.rate = 0
        // A 2-core machine running every suite at once can stall a few seconds; that is not an outage.
        configuration.redisCommandTimeout = 10
        configuration.redisConnectTimeout = 10
        configure(&configuration)
        let cluster = TestCluster(redis: redis, ownsRedis: given == nil, configuration: configuration)
        for index in 0..<count { try await cluster.addNode(name: "node\(index)") }
        return cluster
    }

    @discardableResult
    func addNode(name: String) async throws -> RelayNode {
        var configuration = self.configuration
        configuration.nodeID = name
        var logger = Logger(label: "test.\(name)")
        logger.logLevel = .error
        let registry = PrometheusCollectorRegistry()
        let relay = try await Relay(
            configuration: configuration,
            logger: logger,
            metricsFactory: PrometheusMetricsFactory(registry: registry),
            keySetFetcher: KeySetFetcher.fetch(from:)
        )
        try await relay.start()
        let node = RelayNode(relay: relay, host: "127.0.0.1", port: 0, metrics: registry, logger: logger)
        metrics.append(registry)
        let listening = AsyncStream.makeStream(of: Int.self)
        tasks.append(Task { try await node.run(onListening: { listening.continuation.yield($0) }) })
        for await _ in listening.stream { break }
        nodes.append(node)
        return node
    }

    func stop() async {
        for node in nodes { await node.shutdown() }
        for task in tasks { _ = await task.result }
        if ownsRedis { redis.stop() }
    }

    func port(_ node: Int) -> Int { nodes[node].boundPort ?? 0 }

    /// Waits until `condition` holds, up to `seconds`; false if it never did.
    func eventually(seconds: Double = 10, _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    /// Opens a WebSocket as `user` on node `node` (auth none: the id in the path; jwt: a token is added).
    func connect(_ user: String, node: Int, readFrames: Bool = true) async throws -> ChatConnection {
        let token = configuration.auth == .jwt ? try await token(for: user) : nil
        return try await ChatConnection.connect(url: "ws://127.0.0.1:\(port(node))/ws/\(user)", token: token, readFrames: readFrames)
    }

    /// ``connect(_:node:readFrames:)``, then a ping answered: the socket is open, its user's channel subscribed, so
    /// it receives what is published from now on (presence, typing and read frames are not caught up later).
    func connectOpen(_ user: String, node: Int) async throws -> ChatConnection {
        let connection = try await connect(user, node: node)
        connection.send(json: ["op": "ping"])
        guard await connection.next(where: { $0["op"] as? String == "pong" }, timeout: .seconds(20)) != nil else {
            throw TestSupportError("\(user)'s socket on node \(node) did not open")
        }
        return connection
    }

    /// The samples of node `node`'s `/metrics` page, by series (name and labels as written).
    func metricSamples(node: Int) async throws -> [String: Double] {
        let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port(node))/metrics")!)
        var samples: [String: Double] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    /// The user's own token under `--auth jwt`; an empty bearer (none) under `--auth none`.
    func userToken(_ user: String) async throws -> String {
        configuration.auth == .jwt ? try await token(for: user) : ""
    }

    func token(for user: String, ttl: TimeInterval = 3600) async throws -> String {
        try await TokenAuthority(secret: Self.jwtSecret).issue(userID: user, ttl: ttl)
    }

    /// Creates two users and their friendship through the API; returns (user1, user2, friendship).
    func makeFriends(_ name1: String = "jeffery", _ name2: String = "testuser") async throws -> (String, String, String) {
        let first = try await http("POST", "/api/users", body: ["name": name1])
        let second = try await http("POST", "/api/users", body: ["name": name2])
        guard let id1 = first.json["id"] as? String, let id2 = second.json["id"] as? String else {
            throw TestSupportError("could not create users: \(first) \(second)")
        }
        let friendship = try await http("POST", "/api/friendships", body: ["user1": id1, "user2": id2])
        guard let fid = friendship.json["id"] as? String else { throw TestSupportError("no friendship: \(friendship)") }
        return (id1, id2, fid)
    }

    struct HTTPResult: CustomStringConvertible {
        var status: Int
        var json: [String: Any]
        var description: String { "\(status) \(json)" }
    }

    /// One HTTP request to node `node`; the admin token goes along unless `token` says otherwise ("" for none).
    func http(
        _ method: String,
        _ path: String,
        node: Int = 0,
        body: Any? = nil,
        rawBody: String? = nil,
        token: String? = nil,
        headers: [String: String] = [:]
    ) async throws
        -> HTTPResult
    {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port(node))\(path)")!)
        request.httpMethod = method
        let bearer = token ?? Self.adminToken
        if !bearer.isEmpty { request.setValue("Bearer \(bearer)", forHTTPHeaderField: "Authorization") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let body { request.httpBody = try JSONSerialization.data(withJSONObject: body) }
        if let rawBody { request.httpBody = Data(rawBody.utf8) }
        if request.httpBody != nil { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return HTTPResult(status: status, json: json)
    }

    /// The HTTP status a WebSocket upgrade request to `path` gets (101 when it is accepted); `headers` go along. On a
    /// raw connection: an HTTP client waits on after a 101 for an answer that never comes.
    func upgradeStatus(_ path: String, node: Int = 0, headers: [String: String] = [:]) async throws -> Int {
        let connection = try await RawConnection.open(port: port(node))
        let extra = headers.map { "\($0.key): \($0.value)\r\n" }.joined()
        await connection.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port(node))\r\n\(HostileConnectionTests.upgrade)\(extra)\r\n")
        return await connection.readAnswer().status ?? 0
    }

    /// A GET's body as it came, and its status; the admin token goes along.
    func rawHTTP(_ path: String, node: Int = 0) async throws -> (Data, Int) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port(node))\(path)")!)
        request.setValue("Bearer \(Self.adminToken)", forHTTPHeaderField: "Authorization")
        let (data, response) = try await URLSession.shared.data(for: request)
        return (data, (response as? HTTPURLResponse)?.statusCode ?? 0)
    }

    /// An entry written straight into the friendship's stream, as a store would write it, with nothing published.
    func storeDirectly(_ content: String, id: String = "*", from: String, to: String, in friendship: String) async throws {
        _ = try await redis.command(
            "XADD",
            .string("\(configuration.prefix):history:{\(friendship)}"),
            .string(id),
            "from",
            .string(from),
            "to",
            .string(to),
            "type",
            "text",
            "content",
            .string(content)
        )
    }

    /// `XRANGE chat:history:{fid} - +` as (id, fields) pairs.
    func history(_ friendship: String) async throws -> [(id: String, fields: [String: String])] {
        let reply = try await redis.command("XRANGE", .string("\(configuration.prefix):history:{\(friendship)}"), "-", "+")
        return (reply.array ?? []).compactMap { entry in
            guard let pair = entry.array, let id = pair[0].string, let values = pair[1].array else { return nil }
            var fields: [String: String] = [:]
            for index in stride(from: 0, to: values.count - 1, by: 2) {
                fields[values[index].string ?? ""] = values[index + 1].string ?? ""
            }
            return (id, fields)
        }
    }
}

extension ChatConnection {
    /// Reads frames until one matches, skipping others; nil on timeout.
    func next(where predicate: ([String: Any]) -> Bool, timeout: Duration = .seconds(5)) async -> [String: Any]? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard let frame = await nextJSON(timeout: deadline - ContinuousClock.now) else { return nil }
            if predicate(frame) { return frame }
        }
        return nil
    }

    /// Sends `content` until it is acked (same cid every time, as a client retries); the ack's id, or nil after 60
    /// tries.
    func sendUntilAcked(friendship: String, content: String, cid: String) async -> String? {
        for _ in 0..<60 {
            send(to: friendship, content: content, cid: cid)
            guard let answer = await next(where: { $0["cid"] as? String == cid }, timeout: .seconds(3)) else { continue }
            if answer["op"] as? String == "ack" { return answer["id"] as? String }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return nil
    }

    /// Reads `count` delivered messages (frames with an `id` and no `op`).
    func messages(_ count: Int, timeout: Duration = .seconds(10)) async -> [[String: Any]] {
        var result: [[String: Any]] = []
        let deadline = ContinuousClock.now + timeout
        while result.count < count, ContinuousClock.now < deadline {
            guard let frame = await nextJSON(timeout: deadline - ContinuousClock.now) else { break }
            if frame["op"] == nil, frame["id"] != nil { result.append(frame) }
        }
        return result
    }
}

/// Compares stream ids numerically (`ms-seq`).
func streamID(_ a: String, isBefore b: String) -> Bool {
    func parts(_ id: String) -> (Int, Int) {
        let split = id.split(separator: "-")
        return (Int(split.first ?? "") ?? 0, Int(split.last ?? "") ?? 0)
    }
    return parts(a) < parts(b)
}
