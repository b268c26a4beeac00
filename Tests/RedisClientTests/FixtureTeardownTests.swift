import Foundation
import TestSupport
import Testing

/// The Redis fixtures leave nothing behind: once stopped, no process they started runs and no directory they made
/// remains.
@Suite struct FixtureTeardownTests {
    @Test func aStoppedRedisServerLeavesNoProcessAndNoDirectory() async throws {
        let server = try await RedisServer()
        let pid = try #require(server.pid)
        #expect(ChildProcesses.isAlive(pid))
        #expect(FileManager.default.fileExists(atPath: server.directory.path))
        server.stop()
        #expect(!ChildProcesses.isAlive(pid))
        #expect(!FileManager.default.fileExists(atPath: server.directory.path))
    }

    @Test func aStoppedClusterAndSentinelLeaveNoProcessAndNoDirectory() async throws {
        let cluster = try await RedisClusterServers(primaries: 3, replicasPerPrimary: 0)
        let sentinel = try await SentinelServer(watching: cluster.servers[0].port)
        let pids = cluster.servers.compactMap(\.pid) + [sentinel.pid]
        let directories = cluster.servers.map(\.directory.path) + [sentinel.directory.path]
        #expect(pids.count == 4 && pids.allSatisfy(ChildProcesses.isAlive))
        cluster.stop()
        sentinel.stop()
        #expect(pids.filter(ChildProcesses.isAlive).isEmpty)
        #expect(directories.filter { FileManager.default.fileExists(atPath: $0) }.isEmpty)
    }
}
