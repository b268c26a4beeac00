import ServiceLifecycle
import Synchronization

/// The heartbeats of every socket on this node, on one shared timer wheel instead of a timer per socket.
///
/// Sockets are spread round-robin over the wheel's slots, and the wheel turns once per period, one slot at a time:
/// each socket is still pinged once per period, but the node pings a slot's share at a time instead of every socket
/// at once. With 10,000 sockets a single tick was 0.3 s of event-loop time every period, which every chat message
/// on the node waited behind; a step pings at most ``pingsPerTurn`` sockets before letting the event loops serve
/// others.
///
/// Ten slots, not a hundred: pings cost less in bursts. With 10,000 idle sockets and a 10 s period the node used 0.022
/// to 0.027 cores pinging 100 sockets every 100 ms, 0.018 with 500 every 500 ms and 0.017 with 1,000 every second
/// (`/proc` over 20 to 40 s). Each ping is one `write`, most of whose cost is the kernel's; in a burst the socket
/// structures, in the kernel as in NIO, stay warm, and the client's side wakes once per burst instead of once per ping.
///
/// The same entries carry each socket's token expiry (``HeartbeatMonitor+tokenExpiry.swift``): one entry per socket
/// for both timers, so that expiry adds no per-socket allocation of its own.
///
/// State never leaves the node. A service: ``run()`` turns the wheel until graceful shutdown. `tick()` (a whole turn)
/// is public so tests drive it without waiting for clocks.
public final class HeartbeatMonitor: Sendable {
    struct Entry {
        let socket: any RelaySocket
        var heartbeat = Heartbeat()
        /// Unix seconds of the socket's token's `exp`; 0 for a socket that does not expire. In the padding after
        /// `heartbeat`: it makes the entry no larger.
        var expiresAt: UInt32 = 0
        let slot: Int32
        /// The turn in which it last ticked: a socket listed twice in its slot (a new socket at the address of a
        /// forgotten one) still ticks once per turn.
        var turn: Int32 = -1
    }

    struct Wheel {
        var entries: [ObjectIdentifier: Entry] = [:]
        /// The sockets of each slot; a forgotten socket stays listed until its slot next comes round.
        var slots: [[ObjectIdentifier]]
        /// The slot the next step handles, and how many turns the wheel has made.
        var hand = 0
        var turn: Int32 = 0
        /// The slot the next watched socket joins.
        var nextSlot = 0
        /// Sockets by the second their token expires; a socket refreshed or forgotten stays listed until its second
        /// comes round, and is skipped then.
        var expiries: [UInt32: [ObjectIdentifier]] = [:]
        /// The last second whose expiries were handled.
        var expiredThrough: UInt32
    }

    /// Slots per turn: a second apart with the default 10 s heartbeat.
    public static let slotCount = 10
    /// Pings sent back to back before the ticker yields, so that a slot of a crowded node (10,000 sockets at 100,000)
    /// does not hold an event loop for tens of milliseconds.
    static let pingsPerTurn = 256

    let wheel: Mutex<Wheel>
    /// Seconds per turn of the wheel: every socket is pinged once per period.
    public let period: Double
    private let metrics: RelayMetrics
    /// Unix seconds now, for token expiry.
    let now: @Sendable () -> Int64

    public init(period: Double = 10, metrics: RelayMetrics = .discarding, now: @escaping @Sendable () -> Int64 = HeartbeatMonitor.unixSeconds) {
        self.period = period
        self.metrics = metrics
        self.now = now
        wheel = Mutex(Wheel(slots: Array(repeating: [], count: Self.slotCount), expiredThrough: UInt32(clamping: now() - 1)))
    }

    public var count: Int { wheel.withLock { $0.entries.count } }

    /// Pings the socket every period from now on; with `expiresAt` (Unix seconds), also closes it with 4001 then,
    /// unless ``extendToken(of:until:)`` moves it on first.
    public func watch(_ socket: any RelaySocket, expiresAt: Int64? = nil) {
        wheel.withLock { wheel in
            let slot = wheel.nextSlot
            wheel.nextSlot = (slot + 1) % Self.slotCount
            let key = ObjectIdentifier(socket)
            wheel.entries[key] = Entry(socket: socket, slot: Int32(slot))
            wheel.slots[slot].append(key)
            if let expiresAt { wheel.setExpiry(of: key, to: expiresAt) }
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
        let (toPing, toTerminate) = advance()
        for socket in toPing { socket.ping() }
        for socket in toTerminate { socket.terminate() }
        count(toPing, toTerminate)
    }

    private func count(_ pinged: [any RelaySocket], _ terminated: [any RelaySocket]) {
        metrics.heartbeatPings.increment(by: pinged.count)
        metrics.heartbeatTerminations.increment(by: terminated.count)
    }

    /// ``step()`` for the ticker, yielding between runs of ``pingsPerTurn`` pings.
    private func stepYielding() async {
        let (toPing, toTerminate) = advance()
        for (index, socket) in toPing.enumerated() {
            if index > 0, index % Self.pingsPerTurn == 0 { await Task.yield() }
            socket.ping()
        }
        for socket in toTerminate { socket.terminate() }
        count(toPing, toTerminate)
    }

    /// Moves the hand one slot: the slot's sockets to ping, and those that missed the last ping, now forgotten.
    /// Sockets are called outside the lock, as they may call back into the monitor.
    private func advance() -> (toPing: [any RelaySocket], toTerminate: [any RelaySocket]) {
        wheel.withLock { wheel in
            var toPing: [any RelaySocket] = []
            var toTerminate: [any RelaySocket] = []
            let slot = wheel.hand
            let turn = wheel.turn
            wheel.hand = (slot + 1) % Self.slotCount
            if wheel.hand == 0 { wheel.turn += 1 }
            var kept: [ObjectIdentifier] = []
            kept.reserveCapacity(wheel.slots[slot].count)
            toPing.reserveCapacity(wheel.slots[slot].count)
            for key in wheel.slots[slot] {
                guard let index = wheel.entries.index(forKey: key), wheel.entries.values[index].slot == Int32(slot),
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
            return (toPing, toTerminate)
        }
    }

    /// Turns the wheel once every ``period``, and the expiries once a second, until graceful shutdown or
    /// cancellation; steps keep to the clock instead of drifting by each step's own duration.
    public func run() async throws {
        let interval = Duration.nanoseconds(Int64(period * 1e9) / Int64(Self.slotCount))
        try? await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.turnExpiries() }
                let clock = ContinuousClock()
                var deadline = clock.now
                while !Task.isCancelled {
                    deadline += interval
                    try? await Task.sleep(until: deadline, clock: clock)
                    guard !Task.isCancelled else { break }
                    await self.stepYielding()
                }
                group.cancelAll()
            }
        }
    }
}

extension HeartbeatMonitor: Service {}
