import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Asks Sentinels which server is the master, as the Sentinel client protocol says: one Sentinel at a time, the one
/// that answered last first; `SENTINEL get-master-addr-by-name`; a Sentinel that does not know the master or does
/// not answer is skipped. Keeps its connection to the Sentinel that answered, for the next question.
final class SentinelResolver: Sendable {
    private struct State {
        var order: [RedisEndpoint]
        var connection: RedisConnection?
    }

    let settings: RedisSentinelSettings
    private let connectTimeout: TimeAmount
    private let logger: Logger
    private let metrics: RedisMetrics
    private let state: NIOLockedValueBox<State>

    init(settings: RedisSentinelSettings, connectTimeout: TimeAmount, logger: Logger, metrics: RedisMetrics) {
        self.settings = settings
        // The protocol's advice: a few hundred milliseconds per Sentinel, so that a dead one costs little.
        self.connectTimeout = min(connectTimeout, .milliseconds(500))
        self.logger = logger
        self.metrics = metrics
        state = NIOLockedValueBox(State(order: settings.sentinels))
    }

    /// The master's address as the first Sentinel that knows it says.
    func masterAddress(on eventLoop: any EventLoop) async throws -> RedisEndpoint {
        let (order, kept) = state.withLockedValue { ($0.order, $0.connection) }
        if let kept, let address = try? await ask(kept) { return address }
        var failures: [String] = []
        for sentinel in order {
            do {
                let connection = try await connect(sentinel, on: eventLoop)
                guard let address = try await ask(connection) else {
                    await connection.close()
                    failures.append("\(sentinel) does not know \(settings.masterName)")
                    continue
                }
                let replaced = state.withLockedValue { state -> RedisConnection? in
                    state.order.removeAll { $0 == sentinel }
                    state.order.insert(sentinel, at: 0)
                    defer { state.connection = connection }
                    return state.connection
                }
                await replaced?.close()
                return address
            } catch {
                failures.append("\(sentinel): \(error)")
            }
        }
        throw RedisClientError(.connectFailed, "no Sentinel named the master \(settings.masterName): " + failures.joined(separator: "; "))
    }

    func close() async {
        await state.withLockedValue { state -> RedisConnection? in
            defer { state.connection = nil }
            return state.connection
        }?.close()
    }

    private func connect(_ sentinel: RedisEndpoint, on eventLoop: any EventLoop) async throws -> RedisConnection {
        var configuration = RedisConfiguration(host: sentinel.host, port: sentinel.port)
        configuration.connectTimeout = connectTimeout
        configuration.commandTimeout = .seconds(1)
        return try await RedisConnection.connect(
            configuration: configuration,
            eventLoop: eventLoop,
            logger: logger,
            metrics: metrics,
            onPush: nil
        )
    }

    /// Nil when this Sentinel does not know the master.
    private func ask(_ connection: RedisConnection) async throws -> RedisEndpoint? {
        let reply = try await connection.command("SENTINEL", "get-master-addr-by-name", .string(settings.masterName))
        guard let parts = reply.array, parts.count == 2, let host = parts[0].string, let port = parts[1].string.flatMap({ Int($0) })
        else { return nil }
        return RedisEndpoint(host: host, port: port)
    }
}
