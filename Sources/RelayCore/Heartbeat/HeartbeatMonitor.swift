import Synchronization

/// The heartbeats of every socket on this node, on one shared timer wheel instead of a timer per socket.
///
/// Sockets are spread round-robin over the wheel's slots, and the wheel turns once per period, one slot at a time:
/// each socket is still pinged once per period, but the node pings a slot's share at a time instead of every socket
/// at once. With 10,000 sockets a single tick was 0.3 s of event-loop time every period, which every chat message
/// on the node waited behind.
///
/// State never leaves the node. `tick()` (a whole turn) is public so tests drive it without waiting for clocks.
public final class HeartbeatMonitor: Sendable {
    private struct Entry {
        let socket: any RelaySocket
        var heartbeat = Heartbeat()
        let slot: Int
        /// The turn in which it last ticked: a socket listed twice in its slot (a new socket at the address of a
        /// forgotten one) still ticks once per turn.
        var turn = -1
    }

    private struct Wheel {
        var entries: [ObjectIdentifier: Entry] = [:]
        /// The sockets of each slot; a forgotten socket stays listed until its slot next comes round.
        var slots: [[ObjectIdentifier]]
        /// The slot the next step handles, and how many turns the wheel has made.
        var hand = 0
        var turn = 0
        /// The slot the next watched socket joins.
        var nextSlot = 0
    }

    /// Slots per turn: 100 ms apart with the default 10 s heartbeat.
    public static let slotCount = 100

    private let wheel = Mutex(Wheel(slots: Array(repeating: [], count: HeartbeatMonitor.slotCount)))
    private let ticker = Mutex<Task<Void, Never>?>(nil)

    public init() {}

    public var count: Int { wheel.withLock { $0.entries.count } }

    public func watch(_ socket: any RelaySocket) {
        wheel.withLock { wheel in
            let slot = wheel.nextSlot
            wheel.nextSlot = (slot + 1) % Self.slotCount
            wheel.entries[ObjectIdentifier(socket)] = Entry(socket: socket, slot: slot)
            wheel.slots[slot].append(ObjectIdentifier(socket))
        }
    }

    public func forget(_ socket: any RelaySocket) {
        _ = wheel.withLock { $0.entries.removeValue(forKey: ObjectIdentifier(socket)) }
    }

    public func pongReceived(from socket: any RelaySocket) {
        wheel.withLock { $0.entries[ObjectIdentifier(socket)]?.heartbeat.pongReceived() }
    }

    /// One whole period has passed: every socket is pinged, or terminated and forgotten if it missed the last ping.
    public func tick() {
        for _ in 0..<Self.slotCount { step() }
    }

    /// One slot's share of a period: pings its sockets, terminates and forgets those that missed the last ping.
    func step() {
        var toPing: [any RelaySocket] = []
        var toTerminate: [any RelaySocket] = []
        wheel.withLock { wheel in
            let slot = wheel.hand
            let turn = wheel.turn
            wheel.hand = (slot + 1) % Self.slotCount
            if wheel.hand == 0 { wheel.turn += 1 }
            var kept: [ObjectIdentifier] = []
            kept.reserveCapacity(wheel.slots[slot].count)
            for key in wheel.slots[slot] {
                guard let index = wheel.entries.index(forKey: key), wheel.entries.values[index].slot == slot,
                    wheel.entries.values[index].turn != turn
                else { continue }
                wheel.entries.values[index].turn = turn
                switch wheel.entries.values[index].heartbeat.tick() {
                case .sendPing:
                    toPing.append(wheel.entries.values[index].socket)
                    kept.append(key)
                case .terminate:
                    toTerminate.append(wheel.entries.remove(at: index).value.socket)
                }
            }
            wheel.slots[slot] = kept
        }
        // Outside the lock: sockets may call back into the monitor.
        for socket in toPing { socket.ping() }
        for socket in toTerminate { socket.terminate() }
    }

    /// Turns the wheel once every `period` seconds until ``stop()``; steps keep to the clock instead of drifting by
    /// each step's own duration.
    public func start(period: Double) {
        let interval = Duration.nanoseconds(Int64(period * 1e9) / Int64(Self.slotCount))
        let task = Task { [weak self] in
            let clock = ContinuousClock()
            var deadline = clock.now
            while !Task.isCancelled {
                deadline += interval
                try? await Task.sleep(until: deadline, clock: clock)
                guard !Task.isCancelled, let self else { return }
                self.step()
            }
        }
        ticker.withLock { $0 = task }
    }

    public func stop() {
        ticker.withLock { $0?.cancel() }
    }
}
