import Foundation
import RedisClient

/// A real Redis Cluster on loopback for one test: `redis-server --cluster-enabled yes` × (primaries × (1 + replicas)),
/// joined with `redis-cli --cluster create`, ready when every node agrees that every slot is served.
public final class RedisClusterServers: @unchecked Sendable {
    public let servers: [RedisServer]

    /// The nodes' addresses, `127.0.0.1:PORT,...`, as a `redis-cluster://` URL lists its seeds.
    public var seeds: String { servers.map { "127.0.0.1:\($0.port)" }.joined(separator: ",") }

    public var endpoints: [RedisEndpoint] { servers.map { RedisEndpoint(host: "127.0.0.1", port: $0.port) } }

    /// `arguments` go to every node (persistence, say).
    public init(primaries: Int = 3, replicasPerPrimary: Int = 1, arguments: [String] = []) async throws {
        var servers: [RedisServer] = []
        for _ in 0..<(primaries * (1 + replicasPerPrimary)) {
            // The bus port is named too: by default it is the port plus 10,000, inside the kernel's ephemeral range,
            // where a parallel test's outgoing connection may hold it.
            servers.append(
                try await RedisServer(
                    arguments: [
                        "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "3000",
                        "--cluster-require-full-coverage", "no", "--cluster-port", "\(try FreePort.next())",
                    ] + arguments
                )
            )
        }
        self.servers = servers
        let created = try await ProgramRun.run(
            "/usr/bin/redis-cli",
            ["--cluster", "create"] + servers.map { "127.0.0.1:\($0.port)" } + ["--cluster-replicas", "\(replicasPerPrimary)", "--cluster-yes"]
        )
        guard created.status == 0 else { throw TestSupportError("redis-cli --cluster create failed: \(created.said)") }
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if try await isSettled(primaries: primaries, replicas: replicasPerPrimary) { return }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        throw TestSupportError("the cluster did not settle within 60 s")
    }

    /// Every node says `cluster_state:ok` and sees every slot served by `primaries` shards, each with its replicas
    /// online.
    private func isSettled(primaries: Int, replicas: Int) async throws -> Bool {
        for server in servers {
            guard try await server.command("CLUSTER", "INFO").string?.contains("cluster_state:ok") == true,
                let topology = try? ClusterTopology(shardsReply: try await server.command("CLUSTER", "SHARDS")),
                topology.coversEverySlot, topology.shards.count == primaries, topology.shards.allSatisfy({ $0.replicas.count == replicas })
            else { return false }
        }
        return true
    }

    /// Stops every node and removes its directory.
    public func stop() {
        for server in servers { server.stop() }
    }

    /// The server listening on `endpoint`'s port.
    public func server(at endpoint: RedisEndpoint) -> RedisServer? {
        servers.first { $0.port == endpoint.port }
    }
}
