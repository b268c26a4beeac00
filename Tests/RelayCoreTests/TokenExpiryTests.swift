import NIOCore
import RelayCore
import Testing

@Suite struct TokenExpiryTests {
    final class FakeSocket: RelaySocket, @unchecked Sendable {
        let userID = "alice"
        func send(_ text: String) {}
        func send(frame bytes: ByteBuffer) {}
        func close(_ reason: SocketEnd) {}
        func ping() {}
        func terminate() {}
        func waitForCapacity() async {}
    }

    @Test func aSocketEndsAtItsTokensExpiryUnlessExtended() {
        let monitor = HeartbeatMonitor(now: { 1000 })
        let (a, b, c, untimed) = (FakeSocket(), FakeSocket(), FakeSocket(), FakeSocket())
        monitor.watch(a, expiresAt: 1005)
        monitor.watch(b, expiresAt: 1005)
        monitor.watch(c, expiresAt: 1003)
        monitor.watch(untimed)
        #expect(monitor.expireTokens(through: 1002).isEmpty)
        #expect(monitor.expireTokens(through: 1003).map(ObjectIdentifier.init) == [ObjectIdentifier(c)])
        #expect(monitor.extendToken(of: b, until: 1010))
        #expect(monitor.expireTokens(through: 1005).map(ObjectIdentifier.init) == [ObjectIdentifier(a)])
        #expect(monitor.expireTokens(through: 1009).isEmpty)
        #expect(monitor.expireTokens(through: 1010).map(ObjectIdentifier.init) == [ObjectIdentifier(b)])
        // An expired socket is returned once; one without a token never expires and cannot be extended.
        #expect(monitor.expireTokens(through: 5000).isEmpty)
        #expect(!monitor.extendToken(of: untimed, until: 2000))
        #expect(!monitor.extendToken(of: a, until: 2000))
        // Expiry does not stop the heartbeat: every socket is still watched until the session forgets it.
        #expect(monitor.count == 4)
    }

    @Test func aForgottenSocketIsNotExpiredAndAPastDeadlineEndsAtTheNextTurn() {
        let monitor = HeartbeatMonitor(now: { 1000 })
        let (a, b) = (FakeSocket(), FakeSocket())
        monitor.watch(a, expiresAt: 1001)
        monitor.forget(a)
        monitor.watch(b, expiresAt: 990)
        #expect(monitor.expireTokens(through: 1000).map(ObjectIdentifier.init) == [ObjectIdentifier(b)])
        #expect(monitor.expireTokens(through: 1001).isEmpty)
    }

    @Test func theKeySetScheduleKeepsToTheContractsIntervals() {
        var schedule = KeySetSchedule()
        let start = ContinuousClock.now
        #expect(schedule.nextFetch == nil)
        schedule.fetched(succeeded: true, at: start)
        #expect(schedule.nextFetch == start + .seconds(600))
        schedule.fetched(succeeded: false, at: start)
        #expect(schedule.nextFetch == start + .seconds(60))
        let answers = [start, start + .seconds(59), start + .seconds(60)].map { schedule.unknownKid(at: $0) }
        #expect(answers == [true, false, true])
    }
}
