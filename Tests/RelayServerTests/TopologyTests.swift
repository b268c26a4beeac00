import ChatClient
import Foundation
import RelayCore
import TestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// docker/compose.yaml's topology as processes on loopback (`scripts/topology.sh`): Redis with AOF, three nodes and
/// nginx with the very `docker/nginx.conf`. Clients go through nginx only: messages cross nodes, a node stopped with
/// SIGTERM sends its clients back through nginx to the others, and they sync with nothing lost.
@Suite(.takesTurns) struct TopologyTests {
    struct Topology {
        var directory: URL
        var balancer: Int
        var nodes: [(name: String, port: Int, pid: Int32, adminPort: Int)]

        /// A secret `make-secrets.sh` made for this topology.
        func secret(_ name: String) throws -> String {
            try String(contentsOf: directory.appendingPathComponent("secrets/\(name)"), encoding: .utf8)
        }
    }

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/topology.sh").path

    /// Runs `topology.sh` to its end and returns what it printed. Spawned and waited for directly: Foundation's
    /// `Process` never saw this script's exit (it leaves daemons behind) and spun in `waitUntilExit`.
    private static func script(_ arguments: [String]) async throws -> String {
        let outputFile = FileManager.default.temporaryDirectory.appendingPathComponent("topology-\(UUID().uuidString).out").path
        defer { try? FileManager.default.removeItem(atPath: outputFile) }
        let status = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var actions = posix_spawn_file_actions_t()
                posix_spawn_file_actions_init(&actions)
                defer { posix_spawn_file_actions_destroy(&actions) }
                posix_spawn_file_actions_addopen(&actions, 1, outputFile, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                let argv = (["/bin/bash", script] + arguments).map { strdup($0) } + [nil]
                defer { for pointer in argv { free(pointer) } }
                var pid = pid_t()
                guard posix_spawn(&pid, "/bin/bash", &actions, nil, argv, environ) == 0 else { return continuation.resume(returning: Int32(-1)) }
                var status: Int32 = 0
                while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
                continuation.resume(returning: status)
            }
        }
        guard status == 0 else { throw ChatClientError("topology.sh \(arguments.first ?? "") failed (wait status \(status))") }
        return (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? ""
    }

    private static func up() async throws -> Topology {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chatrelay-topology-\(UUID().uuidString)")
        let output = try await script(["up", directory.path, chatrelayBinary])
        var topology = Topology(directory: directory, balancer: 0, nodes: [])
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.first == "balancer" { topology.balancer = Int(fields[1])! }
            if fields.first == "node" { topology.nodes.append((String(fields[1]), Int(fields[2])!, Int32(fields[3])!, Int(fields[4])!)) }
        }
        return topology
    }

    /// A node's open sockets, from `/metrics` on its admin port.
    private func openSockets(_ port: Int) async -> Double {
        guard let (data, _) = try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/metrics")!) else { return -1 }
        let line = String(decoding: data, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("chatrelay_open_sockets{") }
        return line.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) } ?? -1
    }

    @Test func clientsThroughNginxSurviveANodeStoppedWithSIGTERM() async throws {
        let topology = try await Self.up()
        defer {
            // Synchronously, so that nothing outlives the test; `down` fails when a process it started is still there.
            let down = system("/bin/bash '\(Self.script)' down '\(topology.directory.path)' >/dev/null 2>&1")
            #expect(down == 0, "topology.sh down left a process running")
            try? FileManager.default.removeItem(at: topology.directory)
        }
        #expect(topology.nodes.count == 3 && topology.balancer > 0)
        let balancer = "http://127.0.0.1:\(topology.balancer)"
        // The admin API is on the nodes' admin ports, which nginx does not proxy; through nginx it is not found.
        let adminToken = try topology.secret("admin_token")
        let admin = AdminClient(baseURL: "http://127.0.0.1:\(topology.nodes[0].adminPort)", token: adminToken)
        let alice = try await admin.createUser(name: "alice")
        let bob = try await admin.createUser(name: "bob")
        let friendship = try await admin.createFriendship(alice, bob)
        let throughBalancer = AdminClient(baseURL: balancer, token: adminToken)
        #expect(try await throughBalancer.call("POST", "/api/users", body: ["name": "mallory"]).status == 404)
        #expect(try await throughBalancer.call("GET", "/metrics").status == 404)
        let tokens = try await TokenAuthority(secret: try topology.secret("jwt_secret"))
        func connect(_ user: String) async throws -> ChatConnection {
            let token = try await tokens.issue(userID: user, ttl: 600)
            return try await ChatConnection.connect(url: "ws://127.0.0.1:\(topology.balancer)/ws/\(user)?token=\(token)")
        }

        // Four sockets of each user through nginx's round robin: every node gets some.
        var alices: [ChatConnection] = []
        var bobs: [ChatConnection] = []
        for _ in 0..<4 {
            alices.append(try await connect(alice))
            bobs.append(try await connect(bob))
        }
        var perNode: [Double] = []
        for node in topology.nodes { perNode.append(await openSockets(node.adminPort)) }
        #expect(perNode.allSatisfy { $0 >= 1 }, "sockets per node: \(perNode)")

        // Both ways, across nodes: every socket of the other user gets each message.
        alices[0].send(to: friendship, content: "hi bob", cid: "a1")
        bobs[0].send(to: friendship, content: "hi alice", cid: "b1")
        var lastIDs: [String] = []
        for socket in bobs {
            let hi = await socket.next { $0["content"] as? String == "hi bob" }
            #expect(hi != nil)
            lastIDs.append(hi?["id"] as? String ?? "0-0")
        }
        for socket in alices { #expect(await socket.next { $0["content"] as? String == "hi alice" } != nil) }

        // A node is stopped as an orchestrator would; alice keeps sending meanwhile, as a client of the contract
        // does: each send until its ack, again with the same cid (on a new socket through nginx if need be).
        let stopped = topology.nodes[1]
        kill(stopped.pid, SIGTERM)
        var sent: [String] = []
        var sender = alices[0]
        for index in 0..<20 {
            let content = "during \(index)"
            var acked = false
            for _ in 0..<5 where !acked {
                if sender.isClosed { sender = try await connect(alice) }
                sender.send(to: friendship, content: content, cid: "d\(index)")
                acked = await sender.next(where: { $0["op"] as? String == "ack" && $0["cid"] as? String == "d\(index)" }, timeout: .seconds(2)) != nil
            }
            #expect(acked, "\(content) never acked")
            sent.append(content)
            try await Task.sleep(for: .milliseconds(30))
        }
        // Bob's sockets that the drain closed (1001) reconnect through nginx and sync from the last id they had.
        var received: [[String]] = []
        var reconnected = 0
        try await Task.sleep(for: .milliseconds(500))
        for (index, socket) in bobs.enumerated() {
            var (seen, last) = await socket.drained(after: lastIDs[index])
            if socket.isClosed {
                reconnected += 1
                #expect(socket.closeCode == 1001, "closed with \(socket.closeCode.map(String.init) ?? "nothing")")
                let again = try await connect(bob)
                again.send(json: ["op": "sync", "cursors": [friendship: last]])
                bobs[index] = again
                while let frame = await again.nextJSON(timeout: .seconds(10)), frame["op"] as? String != "synced" {
                    if let content = frame["content"] as? String, let id = frame["id"] as? String {
                        seen.append(content)
                        last = id
                    }
                }
                try await Task.sleep(for: .milliseconds(300))
                seen += await again.drained(after: last).contents
            }
            received.append(seen.filter { $0.hasPrefix("during ") })
        }
        #expect(reconnected >= 1, "none of bob's sockets was on the stopped node")
        for (index, contents) in received.enumerated() {
            #expect(contents == sent, "bob's socket \(index) got \(contents.count) of \(sent.count), in order once each")
        }
        #expect(await openSockets(stopped.adminPort) == -1, "the stopped node still answers")

        // History through nginx, with a member's token.
        let member = AdminClient(baseURL: balancer, token: try await tokens.issue(userID: alice, ttl: 600))
        let (status, json) = try await member.call("GET", "/api/friendships/\(friendship)/messages?limit=100")
        #expect(status == 200)
        #expect((json["messages"] as? [[String: Any]])?.count == 22)
    }
}

extension ChatConnection {
    /// The delivered messages waiting in the inbox (taking them), and the last id among them or `last`.
    fileprivate func drained(after last: String) async -> (contents: [String], last: String) {
        var contents: [String] = []
        var last = last
        while let frame = await nextJSON(timeout: .milliseconds(100)) {
            guard frame["op"] == nil, let content = frame["content"] as? String, let id = frame["id"] as? String else { continue }
            contents.append(content)
            last = id
        }
        return (contents, last)
    }
}
