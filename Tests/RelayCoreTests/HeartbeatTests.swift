import NIOConcurrencyHelpers
import NIOCore
import Testing

@testable import RelayCore

/// A socket that only records what the relay asked of it.
final class RecordingSocket: RelaySocket {
    let userID: String
    private let log = NIOLockedValueBox<[String]>([])

    init(_ userID: String) {
        self.userID = userID
    }

    var calls: [String] { log.withLockedValue { $0 } }
    func send(_ text: String) { log.withLockedValue { $0.append("send") } }
    func send(frame bytes: ByteBuffer) { log.withLockedValue { $0.append("send") } }
    func close(_ reason: SocketEnd) { log.withLockedValue { $0.append("close \(reason)") } }
    func ping() { log.withLockedValue { $0.append("ping") } }
    func terminate() { log.withLockedValue { $0.append("terminate") } }
    func waitForCapacity() async {}
}

@Suite struct HeartbeatStateTests {
    @Test func pingsThenTerminatesWithoutAPong() {
        var heartbeat = Heartbeat()
        #expect(heartbeat.tick() == .sendPing)
        #expect(heartbeat.tick() == .terminate)
    }

    @Test func aPongBeforeTheNextTickKeepsItAlive() {
        var heartbeat = Heartbeat()
        for _ in 0..<100 {
            #expect(heartbeat.tick() == .sendPing)
            heartbeat.pongReceived()
        }
        #expect(heartbeat.tick() == .sendPing)
        #expect(heartbeat.tick() == .terminate)
    }

    @Test func anEarlyOrDuplicatePongDoesNotSaveALaterMissedOne() {
        var heartbeat = Heartbeat()
        heartbeat.pongReceived()
        heartbeat.pongReceived()
        #expect(heartbeat.tick() == .sendPing)
        #expect(heartbeat.tick() == .terminate)
    }
}

@Suite struct HeartbeatMonitorTests {
    @Test func silentSocketsAreTerminatedAndForgottenHealthyOnesStay() {
        let monitor = HeartbeatMonitor()
        let healthy = RecordingSocket("healthy")
        let silent = RecordingSocket("silent")
        monitor.watch(healthy)
        monitor.watch(silent)

        monitor.tick()
        #expect(healthy.calls == ["ping"])
        #expect(silent.calls == ["ping"])
        monitor.pongReceived(from: healthy)

        monitor.tick()
        #expect(healthy.calls == ["ping", "ping"])
        #expect(silent.calls == ["ping", "terminate"])
        #expect(monitor.count == 1)

        // Forgotten: no more pings for it.
        monitor.pongReceived(from: healthy)
        monitor.tick()
        #expect(silent.calls == ["ping", "terminate"])
        #expect(healthy.calls == ["ping", "ping", "ping"])
    }

    /// The wheel pings one slot's share at a time, and every socket once per turn.
    @Test func pingsAreSpreadOverThePeriod() {
        let monitor = HeartbeatMonitor()
        let sockets = (0..<(2 * HeartbeatMonitor.slotCount)).map { RecordingSocket("s\($0)") }
        for socket in sockets { monitor.watch(socket) }
        monitor.step()
        #expect(sockets.filter { $0.calls == ["ping"] }.count == 2)
        for _ in 1..<HeartbeatMonitor.slotCount { monitor.step() }
        #expect(sockets.allSatisfy { $0.calls == ["ping"] })
    }

    /// The ticker yields every ``HeartbeatMonitor/pingsPerTurn`` pings, and still pings the rest of a crowded slot.
    @Test func theTickerPingsEverySocketOfASlotLargerThanOneRun() async throws {
        let monitor = HeartbeatMonitor(period: 0.2)
        let perSlot = 2 * HeartbeatMonitor.pingsPerTurn + 1
        let sockets = (0..<(perSlot * HeartbeatMonitor.slotCount)).map { RecordingSocket("s\($0)") }
        for socket in sockets { monitor.watch(socket) }
        let running = Task { try await monitor.run() }
        defer { running.cancel() }
        let started = ContinuousClock.now
        while sockets.contains(where: { $0.calls.isEmpty }), ContinuousClock.now - started < .seconds(30) {
            try await Task.sleep(for: .milliseconds(20))
        }
        // Never answered, so each is cut a turn after its ping; one cut without a ping was skipped.
        #expect(sockets.allSatisfy { $0.calls.first == "ping" }, "\(sockets.filter { $0.calls.first != "ping" }.count) never pinged")
    }

    /// A socket forgotten and watched again (or a new one at its address) is listed twice in its slot, yet ticks
    /// once per turn: it is not terminated for a pong it had no time to send.
    @Test func aSocketWatchedAgainTicksOncePerTurn() {
        let monitor = HeartbeatMonitor()
        let socket = RecordingSocket("again")
        monitor.watch(socket)
        monitor.forget(socket)
        for _ in 1..<HeartbeatMonitor.slotCount { monitor.watch(RecordingSocket("filler")) }
        monitor.watch(socket)
        monitor.tick()
        #expect(socket.calls == ["ping"])
        monitor.pongReceived(from: socket)
        monitor.tick()
        #expect(socket.calls == ["ping", "ping"])
    }

    @Test func forgottenSocketsAreLeftAlone() {
        let monitor = HeartbeatMonitor()
        let socket = RecordingSocket("gone")
        monitor.watch(socket)
        monitor.forget(socket)
        monitor.tick()
        monitor.tick()
        #expect(socket.calls.isEmpty)
        #expect(monitor.count == 0)
    }
}
