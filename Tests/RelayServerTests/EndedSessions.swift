import ChatClient
import Foundation
import Testing

/// The contract's ended sessions, asserted on any deployment of two nodes: a disconnect closes every socket of the
/// user on every node with 4003 and lets them back; a block does the same and refuses their upgrades on every node
/// until it is lifted; nobody else is touched.
enum EndedSessions {
    /// `blockIsStored` answers whether Redis holds alice's block, read as an outside program would.
    static func check(_ cluster: TestCluster, alice: String, bob: String, blockIsStored: () async throws -> Bool) async throws {
        let onBoth = [try await cluster.connectOpen(alice, node: 0), try await cluster.connectOpen(alice, node: 1)]
        let bystander = try await cluster.connectOpen(bob, node: 1)

        #expect(try await cluster.http("POST", "/api/users/\(alice)/disconnect").status == 204)
        // The contract says within 2 s; the bound here leaves room for a loaded CI machine.
        #expect(await cluster.eventually(seconds: 10) { onBoth.allSatisfy(\.isClosed) })
        #expect(onBoth.map(\.closeCode) == [4003, 4003])
        #expect(!bystander.isClosed)
        // A disconnected user may come straight back.
        let back = try await cluster.connectOpen(alice, node: 1)

        #expect(try await cluster.http("PUT", "/api/users/\(alice)/block").status == 204)
        #expect(await cluster.eventually(seconds: 10) { back.isClosed })
        #expect(back.closeCode == 4003)
        #expect(try await blockIsStored())
        for node in 0..<2 {
            await #expect(throws: (any Error).self) { try await cluster.connect(alice, node: node) }
            #expect(try await cluster.http("GET", "/ws/\(alice)", node: node, token: try await cluster.userToken(alice)).status == 403)
        }
        bystander.send(json: ["op": "ping"])
        #expect(await bystander.next(where: { $0["op"] as? String == "pong" }) != nil)

        #expect(try await cluster.http("DELETE", "/api/users/\(alice)/block", node: 1).status == 204)
        #expect(try await !blockIsStored())
        _ = try await cluster.connectOpen(alice, node: 0)
        // Bad ids are refused before anything reaches Redis.
        #expect(try await cluster.http("PUT", "/api/users/no%20spaces/block").status == 400)
    }
}
