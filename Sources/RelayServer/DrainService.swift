import ConnectionGuard
import RelayCore
import ServiceLifecycle

/// Waits for graceful shutdown, then closes every socket with 1001 and every HTTP connection between requests, and
/// waits up to the drain time for them to go; whatever is left then (a request trickling in) is closed, so that the
/// node exits within its drain time whatever its clients do. Last in the node's group, so it is the first to hear of
/// the shutdown, and the Redis services stop after it.
struct DrainService: Service {
    let sockets: Sockets
    let connections: OpenConnections
    let drainTime: Duration

    func run() async throws {
        try? await gracefulShutdown()
        let deadline = ContinuousClock.now + drainTime
        connections.drain()
        await sockets.drain(grace: drainTime)
        while connections.httpCount > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        connections.closeRemaining()
    }
}
