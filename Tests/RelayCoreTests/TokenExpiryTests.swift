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
        let monitor = TokenExpiryMonitor(now: { 1000 })
        let (a, b, c) = (FakeSocket(), FakeSocket(), FakeSocket())
        monitor.watch(a, until: 1005)
        monitor.watch(b, until: 1005)
        monitor.watch(c, until: 1003)
        #expect(monitor.expire(through: 1002).isEmpty)
        #expect(monitor.expire(through: 1003).map(ObjectIdentifier.init) == [ObjectIdentifier(c)])
        #expect(monitor.extend(b, until: 1010))
        #expect(monitor.expire(through: 1005).map(ObjectIdentifier.init) == [ObjectIdentifier(a)])
        #expect(monitor.expire(through: 1009).isEmpty)
        #expect(monitor.expire(through: 1010).map(ObjectIdentifier.init) == [ObjectIdentifier(b)])
        #expect(monitor.count == 0)
        // An ended socket cannot be extended, and is not expired.
        #expect(!monitor.extend(a, until: 2000))
    }

    @Test func aForgottenSocketIsNotExpiredAndAPastDeadlineEndsAtTheNextTurn() {
        let monitor = TokenExpiryMonitor(now: { 1000 })
        let (a, b) = (FakeSocket(), FakeSocket())
        monitor.watch(a, until: 1001)
        monitor.forget(a)
        monitor.watch(b, until: 990)
        #expect(monitor.expire(through: 1000).map(ObjectIdentifier.init) == [ObjectIdentifier(b)])
        #expect(monitor.expire(through: 1001).isEmpty)
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
