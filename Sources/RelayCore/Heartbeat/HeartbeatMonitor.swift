import NIOConcurrencyHelpers

/// The heartbeats of every socket on this node, driven by one shared ticker instead of a timer per socket.
///
/// State never leaves the node. `tick()` is public so tests drive it without waiting for clocks.
public final class HeartbeatMonitor: Sendable {
    private struct Entry {
        let socket: any RelaySocket
        var heartbeat = Heartbeat()
    }

    private let entries = NIOLockedValueBox<[ObjectIdentifier: Entry]>([:])
    private let ticker = NIOLockedValueBox<Task<Void, Never>?>(nil)

    public init() {}

    public var count: Int { entries.withLockedValue { $0.count } }

    public func watch(_ socket: any RelaySocket) {
        entries.withLockedValue { $0[ObjectIdentifier(socket)] = Entry(socket: socket) }
    }

    public func forget(_ socket: any RelaySocket) {
        _ = entries.withLockedValue { $0.removeValue(forKey: ObjectIdentifier(socket)) }
    }

    public func pongReceived(from socket: any RelaySocket) {
        entries.withLockedValue { $0[ObjectIdentifier(socket)]?.heartbeat.pongReceived() }
    }

    /// One period has passed: pings every socket, terminates and forgets those that missed the last ping.
    public func tick() {
        var toPing: [any RelaySocket] = []
        var toTerminate: [any RelaySocket] = []
        entries.withLockedValue { entries in
            for key in Array(entries.keys) {
                switch entries[key]!.heartbeat.tick() {
                case .sendPing: toPing.append(entries[key]!.socket)
                case .terminate: toTerminate.append(entries.removeValue(forKey: key)!.socket)
                }
            }
        }
        // Outside the lock: sockets may call back into the monitor.
        for socket in toPing { socket.ping() }
        for socket in toTerminate { socket.terminate() }
    }

    /// Ticks every `period` seconds until ``stop()``.
    public func start(period: Double) {
        let task = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(period * 1e9))
                guard !Task.isCancelled, let self else { return }
                self.tick()
            }
        }
        ticker.withLockedValue { $0 = task }
    }

    public func stop() {
        ticker.withLockedValue { $0?.cancel() }
    }
}
