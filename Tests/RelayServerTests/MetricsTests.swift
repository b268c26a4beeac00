import ChatClient
import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `/metrics` lists every series from start-up, at zero, labelled with the node, and counts what a scripted scenario
/// did: the numbers, not just the names.
@Suite struct MetricsTests {
    private func samples(_ cluster: TestCluster, node: Int) async throws -> [String: Double] {
        try await cluster.metricSamples(node: node)
    }

    static let everySeries = [
        #"chatrelay_open_sockets{node="node0"}"#,
        #"chatrelay_users{node="node0"}"#,
        #"chatrelay_socket_opens_total{node="node0"}"#,
        #"chatrelay_socket_closes_total{node="node0",reason="client"}"#,
        #"chatrelay_socket_closes_total{node="node0",reason="heartbeat"}"#,
        #"chatrelay_socket_closes_total{node="node0",reason="drain"}"#,
        #"chatrelay_socket_closes_total{node="node0",reason="slow_consumer"}"#,
        #"chatrelay_socket_closes_total{node="node0",reason="protocol_error"}"#,
        #"chatrelay_messages_received_total{node="node0"}"#,
        #"chatrelay_messages_stored_total{node="node0"}"#,
        #"chatrelay_duplicate_sends_total{node="node0"}"#,
        #"chatrelay_messages_delivered_total{node="node0"}"#,
        #"chatrelay_errors_sent_total{node="node0",code="bad_json"}"#,
        #"chatrelay_errors_sent_total{node="node0",code="rate_limited"}"#,
        #"chatrelay_store_duration_seconds_count{node="node0"}"#,
        #"chatrelay_delivery_lag_seconds_count{node="node0"}"#,
        #"chatrelay_sync_requests_total{node="node0"}"#,
        #"chatrelay_history_requests_total{node="node0"}"#,
        #"chatrelay_gap_fills_total{node="node0"}"#,
        #"chatrelay_gap_fill_messages_total{node="node0"}"#,
        #"chatrelay_heartbeat_pings_total{node="node0"}"#,
        #"chatrelay_heartbeat_terminations_total{node="node0"}"#,
        #"chatrelay_outbound_bytes_total{node="node0"}"#,
        #"chatrelay_presence_announcements_total{node="node0",online="true"}"#,
        #"chatrelay_presence_announcements_total{node="node0",online="false"}"#,
        #"chatrelay_nodes_swept_total{node="node0"}"#,
        #"chatrelay_typing_relayed_total{node="node0"}"#,
        #"chatrelay_read_marks_moved_total{node="node0"}"#,
        #"chatrelay_subscription_probes_missed_total{node="node0"}"#,
        #"chatrelay_socket_closes_total{node="node0",reason="token_expired"}"#,
        #"chatrelay_socket_closes_total{node="node0",reason="disconnected"}"#,
        #"chatrelay_socket_closes_total{node="node0",reason="erased"}"#,
        #"chatrelay_jwks_fetches_total{node="node0",result="ok"}"#,
        #"chatrelay_jwks_keys{node="node0"}"#,
        #"chatrelay_redis_used_memory_bytes{node="node0",server="redis"}"#,
        #"chatrelay_redis_maxmemory_bytes{node="node0",server="redis"}"#,
        #"redis_commands_total{node="node0",role="commands"}"#,
        #"redis_command_failures_total{node="node0",role="commands"}"#,
        #"redis_command_duration_seconds_count{node="node0",role="commands"}"#,
        #"redis_reconnects_total{node="node0",role="subscriber"}"#,
        #"redis_pushes_total{node="node0",role="subscriber"}"#,
        #"redis_subscriptions{node="node0",role="subscriber"}"#,
    ]

    @Test func everySeriesIsListedFromStartUpAndCountsAScenario() async throws {
        // A heartbeat short enough to ping within the test, long enough that a loaded machine answers in time.
        let cluster = try await TestCluster.start(nodes: 2) { $0.heartbeat = 3 }
        defer { Task { await cluster.stop() } }
        let fresh = try await samples(cluster, node: 0)
        for series in Self.everySeries {
            #expect(fresh[series] != nil, "\(series) missing at start-up")
        }
        #expect(fresh[#"chatrelay_messages_stored_total{node="node0"}"#] == 0)

        let (alice, bob, friendship) = try await cluster.makeFriends("alice", "bob")
        let a = try await cluster.connect(alice, node: 0)
        let b = try await cluster.connect(bob, node: 1)
        for index in 1...3 { a.send(to: friendship, content: "m\(index)", cid: "c\(index)") }
        let received = await b.messages(3)
        #expect(received.count == 3)
        for _ in 1...3 { #expect(await a.next { $0["op"] as? String == "ack" } != nil) }
        b.send(json: ["op": "read", "friend": friendship, "id": received.last?["id"] as? String ?? ""])
        #expect(await a.next { $0["op"] as? String == "read" } != nil)
        a.send(json: ["op": "typing", "friend": friendship])
        #expect(await b.next { $0["op"] as? String == "typing" } != nil)
        a.send("{not json")
        #expect(await a.next { $0["code"] as? String == "bad_json" } != nil)
        a.send(binary: [1, 2, 3])
        #expect(await a.next { $0["code"] as? String == "bad_json" } != nil)
        a.send(json: ["op": "history", "friend": friendship])
        #expect(await a.next { $0["op"] as? String == "history" } != nil)
        a.send(json: ["op": "sync", "cursors": [friendship: "0-0"]])
        #expect(await a.next { $0["op"] as? String == "synced" } != nil)
        let pinged = try await cluster.eventually {
            (try await samples(cluster, node: 0)[#"chatrelay_heartbeat_pings_total{node="node0"}"#] ?? 0) >= 1
        }
        #expect(pinged)
        await a.close()

        let sender = try await samples(cluster, node: 0)
        let ok = try await cluster.eventually { try await samples(cluster, node: 0)[#"chatrelay_open_sockets{node="node0"}"#] == 0 }
        #expect(ok)
        let after = try await samples(cluster, node: 0)
        #expect(after[#"chatrelay_socket_opens_total{node="node0"}"#] == 1)
        #expect(after[#"chatrelay_socket_closes_total{node="node0",reason="client"}"#] == 1)
        #expect(after[#"chatrelay_users{node="node0"}"#] == 0)
        #expect(sender[#"chatrelay_typing_relayed_total{node="node0"}"#] == 1)
        // Alice came online and went offline through node 0.
        let announced = try await cluster.eventually {
            try await samples(cluster, node: 0)[#"chatrelay_presence_announcements_total{node="node0",online="false"}"#] == 1
        }
        #expect(announced)
        #expect(after[#"chatrelay_presence_announcements_total{node="node0",online="true"}"#] == 1)
        #expect(sender[#"chatrelay_messages_received_total{node="node0"}"#] == 3)
        #expect(sender[#"chatrelay_messages_stored_total{node="node0"}"#] == 3)
        #expect(sender[#"chatrelay_store_duration_seconds_count{node="node0"}"#] == 3)
        // The malformed text and the binary frame.
        #expect(sender[#"chatrelay_errors_sent_total{node="node0",code="bad_json"}"#] == 2)
        #expect(sender[#"chatrelay_history_requests_total{node="node0"}"#] == 1)
        #expect(sender[#"chatrelay_sync_requests_total{node="node0"}"#] == 1)
        #expect((sender[#"chatrelay_heartbeat_pings_total{node="node0"}"#] ?? 0) >= 1)
        #expect((sender[#"chatrelay_outbound_bytes_total{node="node0"}"#] ?? 0) > 0)
        #expect((sender[#"redis_commands_total{node="node0",role="commands"}"#] ?? 0) >= 3)
        // The opening fill of alice's one friendship.
        #expect(sender[#"chatrelay_gap_fills_total{node="node0"}"#] == 1)

        let receiver = try await samples(cluster, node: 1)
        #expect(receiver[#"chatrelay_messages_delivered_total{node="node1"}"#] == 3)
        #expect(receiver[#"chatrelay_delivery_lag_seconds_count{node="node1"}"#] == 3)
        #expect(receiver[#"chatrelay_users{node="node1"}"#] == 1)
        #expect(receiver[#"chatrelay_read_marks_moved_total{node="node1"}"#] == 1)
        #expect(receiver[#"chatrelay_open_sockets{node="node1"}"#] == 1)
        #expect((receiver[#"redis_pushes_total{node="node1",role="subscriber"}"#] ?? 0) >= 3)
        // Bob's channel, the broadcast channel and the node's probe channel.
        #expect(receiver[#"redis_subscriptions{node="node1",role="subscriber"}"#] == 3)
    }

    /// The shipped dashboard and alert rules name only series a node exports.
    @Test func theDashboardAndAlertsNameRealSeries() throws {
        let exported = Set(Self.everySeries.map { String($0.prefix { $0 != "{" }) }.map(Self.baseName))
        let monitoring = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/monitoring")
        for file in ["grafana-dashboard.json", "alerts.yaml"] {
            let text = try String(contentsOf: monitoring.appendingPathComponent(file), encoding: .utf8)
            let names = text.matches(of: try Regex(#"\b(?:chatrelay|redis)_[a-z_]+"#)).map { String(text[$0.range]) }
            #expect(!names.isEmpty, "\(file) names no series")
            for name in names { #expect(exported.contains(Self.baseName(name)), "\(file) names \(name), which no node exports") }
        }
    }

    /// A histogram's series without its `_bucket`, `_count` or `_sum`.
    private static func baseName(_ name: String) -> String {
        for suffix in ["_bucket", "_count", "_sum"] where name.hasSuffix(suffix) { return String(name.dropLast(suffix.count)) }
        return name
    }
}
