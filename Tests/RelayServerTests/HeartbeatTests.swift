import ChatClient
import TestSupport
import Testing

@Suite(.takesTurns) struct HeartbeatTests {
    @Test func silentClientIsCutAndHealthyOneStays() async throws {
        let cluster = try await TestCluster.start(nodes: 1) { $0.heartbeat = 1 }
        defer { Task { await cluster.stop() } }
        let (alice, bob, friendship) = try await cluster.makeFriends("alice", "bob")
        let healthy = try await cluster.connect(alice, node: 0)
        // Held open, never answering a ping: the node must cut it, not the client close it.
        let silent = try await cluster.connect(bob, node: 0, readFrames: false)
        defer { withExtendedLifetime(silent) {} }
        let opened = ContinuousClock.now
        let sockets = cluster.nodes[0].relay.sockets
        // The node registers a socket once its subscription is confirmed, just after the upgrade.
        while sockets.count < 2 && ContinuousClock.now - opened < .seconds(1) {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(sockets.count == 2)

        // The silent client never answers its first ping; at the next tick the node cuts it and forgets it.
        while sockets.count > 1 && ContinuousClock.now - opened < .seconds(6) {
            try await Task.sleep(for: .milliseconds(20))
        }
        let cutAfter = ContinuousClock.now - opened
        #expect(sockets.count == 1, "the silent socket is still held")
        #expect(cutAfter < .seconds(4.5), "cut after \(cutAfter)")
        // One shared ticker: the first ping comes within the first period, the cut one period after it.
        #expect(cutAfter > .seconds(0.9), "cut too early, after \(cutAfter)")

        // The healthy one answered every ping and still works.
        try await Task.sleep(for: .seconds(1))
        #expect(!healthy.isClosed)
        #expect(sockets.count == 1)
        healthy.send(json: ["op": "ping"])
        #expect(await healthy.next(where: { $0["op"] as? String == "pong" }, timeout: .seconds(15)) != nil)
        _ = friendship
    }
}
