import NIOCore
import Testing

@testable import RedisClient

/// The reply matching of one connection without a connection: replies answer commands first in, first out; a
/// subscribe waits for one confirmation per channel; error replies fail only their command; an unexpected reply, a
/// late one or a closed connection fail everything, and commands sent after that fail at once.
@Suite struct ChannelStateMachineTests {
    typealias Machine = RedisChannelHandler.StateMachine<String>

    private let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
    private func machine() -> Machine { Machine(endpoint: "redis://test", commandTimeout: .seconds(1)) }

    private func answered(_ action: Machine.ReplyAction) -> String? {
        switch action {
        case .succeed(let responder, _, _): responder
        case .fail(let responder, _, _): "failed " + responder
        case .nothing: nil
        case .failAllAndClose: "close"
        }
    }

    @Test func repliesAnswerCommandsInOrder() {
        var machine = machine()
        guard case .write(let checkAt) = machine.sent([("a", 1), ("b", 1)], now: start) else {
            Issue.record("not written")
            return
        }
        #expect(checkAt == start + .seconds(1))
        _ = machine.sent([("c", 1)], now: start + .milliseconds(10))
        #expect(answered(machine.received(.simpleString("OK"))) == "a")
        #expect(answered(machine.received(.error(RedisServerError(message: "ERR no")))) == "failed b")
        #expect(answered(machine.received(.integer(1))) == "c")
        #expect(machine.pendingCount == 0)
    }

    @Test func aSubscribeWaitsForEveryConfirmation() {
        var machine = machine()
        _ = machine.sent([("subscribe", 3), ("ping", 1)], now: start)
        #expect(answered(machine.received(.array([]))) == nil)
        #expect(answered(machine.received(.array([]))) == nil)
        #expect(answered(machine.received(.array([]))) == "subscribe")
        #expect(answered(machine.received(.simpleString("PONG"))) == "ping")
    }

    @Test func anUnexpectedReplyFailsTheConnection() {
        var machine = machine()
        guard case .failAllAndClose(let error, let responders) = machine.received(.integer(1)) else {
            Issue.record("not failed")
            return
        }
        #expect(error.kind == .protocolError && responders.isEmpty)
        guard case .fail(let later) = machine.sent([("x", 1)], now: start) else {
            Issue.record("written after failure")
            return
        }
        #expect(later.kind == .protocolError)
    }

    @Test func aLateReplyFailsEverythingPending() {
        var machine = machine()
        _ = machine.sent([("a", 1)], now: start)
        _ = machine.sent([("b", 1)], now: start + .milliseconds(500))
        #expect(answered(machine.received(.integer(1))) == "a")
        // The check at the first deadline finds "b" not yet late: check again at its own.
        guard case .checkAgain(let next) = machine.timeoutCheck(now: start + .seconds(1)) else {
            Issue.record("no recheck")
            return
        }
        #expect(next == start + .milliseconds(1500))
        guard case .failAllAndClose(let error, let responders) = machine.timeoutCheck(now: next) else {
            Issue.record("not timed out")
            return
        }
        #expect(error.kind == .commandTimeout && responders == ["b"])
        #expect(machine.failure?.kind == .commandTimeout)
    }

    @Test func aClosedConnectionFailsEverythingOnceAndKeepsTheFirstError() {
        var machine = machine()
        _ = machine.sent([("a", 1), ("b", 2)], now: start)
        #expect(machine.closed(RedisClientError(.connectionClosed, "closed")) == ["a", "b"])
        #expect(machine.closed(RedisClientError(.protocolError, "later")).isEmpty)
        #expect(machine.failure?.kind == .connectionClosed)
        #expect(answered(machine.received(.integer(1))) == nil)
        #expect(machine.timeoutCheck(now: start + .seconds(5)).isNothing)
    }
}

extension RedisChannelHandler.StateMachine.TimeoutAction {
    var isNothing: Bool {
        if case .nothing = self { true } else { false }
    }
}
