import Foundation
import LoadGenerator
import TestSupport
import Testing

/// `chatrelay bench`'s engine against two real nodes: its counts must match what the relay did.
@Suite(.takesTurns) struct LoadGeneratorTests {
    @Test func rateModeDeliversEverythingAcrossNodes() async throws {
        let cluster = try await TestCluster.start(nodes: 2)
        defer { Task { await cluster.stop() } }
        var options = ChatLoadOptions(urls: [0, 1].map { "ws://127.0.0.1:\(cluster.port($0))" })
        options.pairs = 5
        options.rate = 20
        options.duration = 2
        options.warmup = 0.5
        options.adminToken = TestCluster.adminToken
        let report = try await ChatLoad.run(options)
        #expect(report.connectFailures == 0)
        // 10 senders at 20 msg/s for the 1.5 measured seconds: about 300 messages.
        #expect(report.sent > 150, "\(report.summary)")
        #expect(report.acked == report.sent)
        #expect(report.delivered == report.acked)
        #expect(report.lost == 0 && report.duplicated == 0 && report.reordered == 0)
        #expect(report.latency.count == report.delivered && report.latency.p50 > 0)
        // The relay stored what the bench counted (warm-up included), one stream per pair.
        let streams = try await cluster.redis.command("KEYS", "chat:history:*")
        #expect(streams.array?.count == 5)
    }

    @Test func windowModeKeepsItsWindowAndReportsAcks() async throws {
        let cluster = try await TestCluster.start(nodes: 2)
        defer { Task { await cluster.stop() } }
        var options = ChatLoadOptions(urls: [0, 1].map { "ws://127.0.0.1:\(cluster.port($0))" })
        options.pairs = 3
        options.rate = 0
        options.window = 4
        options.both = false
        options.duration = 1.5
        options.warmup = 0.5
        options.adminToken = TestCluster.adminToken
        let report = try await ChatLoad.run(options)
        #expect(report.sent > 0 && report.delivered == report.sent, "\(report.summary)")
        #expect(report.lost == 0 && report.duplicated == 0)
        #expect(report.ackLatency.count == report.acked)
        #expect(report.json.contains(#""lost":0"#))
    }

    @Test func idleModeHoldsSocketsAndReadsTheNodesMemory() async throws {
        // Two heartbeat periods within the hold; 3 s each, so that a loaded machine's stall of a second is no missed pong.
        let cluster = try await TestCluster.start(nodes: 1) { $0.heartbeat = 3 }
        defer { Task { await cluster.stop() } }
        var options = IdleLoadOptions(urls: ["ws://127.0.0.1:\(cluster.port(0))"])
        options.connections = 30
        options.duration = 7
        options.serverPID = getpid()
        let report = try await IdleLoad.run(options)
        #expect(report.opened == 30 && report.failed == 0)
        // Idle clients answer the heartbeat, so the node keeps them.
        #expect(report.stillOpen == 30)
        #expect(report.rssBeforeKiB != nil)
        let cpu = try #require(report.idleCPU)
        #expect(cpu.userCores >= 0 && cpu.systemCores >= 0 && cpu.cores == cpu.userCores + cpu.systemCores)
        // This process is the node and the clients, busy for the whole window: it cannot have used no CPU at all.
        #expect(cpu.cores > 0)
        #expect(report.json.contains("\"idle_system_cores\":") && report.summary.contains("kernel"))
    }
}
