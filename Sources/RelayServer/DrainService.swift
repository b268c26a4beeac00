import Hummingbird
import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Prometheus
import RelayCore
import ServiceLifecycle
import UnixSignals

/// Waits for graceful shutdown, then closes every socket with 1001 and waits for them to go. Last in the node's
/// group, so it is the first to hear of the shutdown, and the Redis services stop after it.
struct DrainService: Service {
    let sockets: Sockets

    func run() async throws {
        try? await gracefulShutdown()
        await sockets.drain()
    }
}
