import Foundation
import Hummingbird
import NIOConcurrencyHelpers
import TestSupport

/// An identity provider's JWKS endpoint on loopback, a real HTTP server: the tests rotate its keys, take it down
/// (500) and count its fetches.
final class KeySetServer: Sendable {
    private struct State {
        var body: [UInt8] = []
        var failing = false
        var fetches = 0
    }

    private let state: NIOLockedValueBox<State>
    private let task: Task<Void, any Error>
    let port: Int

    var url: String { "http://127.0.0.1:\(port)/.well-known/jwks.json" }

    private init(task: Task<Void, any Error>, port: Int, state: NIOLockedValueBox<State>) {
        self.task = task
        self.port = port
        self.state = state
    }

    static func start(serving signers: [TestSigner]) async throws -> KeySetServer {
        let state = NIOLockedValueBox(State(body: TestSigner.keySet(signers)))
        let router = Router()
        router.get(".well-known/jwks.json") { _, _ -> Response in
            let (body, failing) = state.withLockedValue { state in
                state.fetches += 1
                return (state.body, state.failing)
            }
            if failing { return Response(status: .internalServerError) }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: .init(bytes: body)))
        }
        let listening = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { listening.continuation.yield($0.localAddress?.port ?? 0) }
        )
        let task = Task { try await app.runService() }
        var port = 0
        for await bound in listening.stream {
            port = bound
            break
        }
        return KeySetServer(task: task, port: port, state: state)
    }

    /// The provider rotated: from now on it serves these keys.
    func serve(_ signers: [TestSigner]) {
        state.withLockedValue {
            $0.body = TestSigner.keySet(signers)
            $0.failing = false
        }
    }

    func fail() { state.withLockedValue { $0.failing = true } }

    var fetches: Int { state.withLockedValue { $0.fetches } }

    func stop() async {
        task.cancel()
        _ = await task.result
    }
}
