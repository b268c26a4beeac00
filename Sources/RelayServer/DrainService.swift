import Hummingbird
import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Prometheus
import RelayCore
import ServiceLifecycle
import UnixSignals

/// Waits for graceful shutdown, then closes every socket with 1001 and the Redis connections.
struct DrainService: Service {
    let relay: Relay

    func run() async throws {
        try? await gracefulShutdown()
        await relay.shutdown()
    }
}
