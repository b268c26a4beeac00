import ChatClient
import Foundation
import Testing

/// Retention by length on any deployment started with `--history-max-len 20`: the store trims (whole stream nodes of
/// Redis's default 100 entries), reads return the newest, and a sync from a trimmed cursor names the friendship.
enum RetentionScenario {
    /// `length` reads a stream's `XLEN`, as an outside program would.
    static func check(_ cluster: TestCluster, length: (String) async throws -> Int) async throws {
        let (alice, _, friendship) = try await cluster.makeFriends("rita", "sam")
        let a = try await cluster.connectOpen(alice, node: 0)
        var ids: [String] = []
        for index in 0..<130 { ids.append(try #require(await a.sendUntilAcked(friendship: friendship, content: "m\(index)", cid: "r\(index)"))) }
        // The first node of 100 went once the stream passed 120; at least the newest 20 stay.
        let kept = try await length("chat:history:{\(friendship)}")
        #expect((20...30).contains(kept), "\(kept)")
        let page = try await cluster.http("GET", "/api/friendships/\(friendship)/messages?limit=20", node: 1)
        #expect((page.json["messages"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == Array(ids.suffix(20)))
        a.send(json: ["op": "sync", "cursors": [friendship: ids[0]]])
        let synced = await a.next(where: { $0["op"] as? String == "synced" }, timeout: .seconds(20))
        #expect(synced?["truncated"] as? [String] == [friendship])
    }
}
