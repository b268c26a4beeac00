import NIOCore
import NIOWebSocket
import RelayCore
import Testing
import WebSocketWire

@testable import RelayServer

/// A WebSocket's life without a socket: messages held while it opens or a message continues in a task, reading
/// paused and resumed, flushes once per batch, the slow-consumer bound, this side's close with its code, the peer's
/// close, failures and the end of the connection.
@Suite struct SocketStateMachineTests {
    private func frame(_ text: String) -> ServerFrame { ServerFrame(.text, payload: ByteBuffer(string: text)) }

    private func openMachine(maximumQueuedFrames: Int = 10) -> SocketStateMachine {
        var machine = SocketStateMachine(maximumQueuedFrames: maximumQueuedFrames)
        #expect(machine.opened() == true)
        return machine
    }

    // MARK: Inbound

    @Test func messagesWaitWhileTheSocketOpensThenGoInOrder() {
        var machine = SocketStateMachine(maximumQueuedFrames: 10)
        #expect(machine.messageArrived { "a" } == .queued)
        #expect(machine.messageArrived { "b" } == .queued)
        #expect(machine.nextWaiting() == nil)
        #expect(machine.opened() == true)
        #expect(machine.nextWaiting() == "a")
        // "a" continues in a task: "b" waits for it.
        machine.messageContinuedInTask()
        #expect(machine.nextWaiting() == nil)
        #expect(machine.messageArrived { "c" } == .queued)
        machine.messageFinished()
        #expect(machine.nextWaiting() == "b")
        #expect(machine.nextWaiting() == "c")
        #expect(machine.nextWaiting() == nil)
        // Idle: the next message is handled at once, and never made into a string.
        #expect(
            machine.messageArrived {
                Issue.record("copied")
                return ""
            } == .handleNow
        )
    }

    @Test func readingPausesAtTheThresholdAndResumesAtHalf() {
        var machine = SocketStateMachine(maximumQueuedFrames: 10)
        for index in 1..<SocketStateMachine.readPauseThreshold { #expect(machine.messageArrived { "\(index)" } == .queued) }
        #expect(machine.messageArrived { "last" } == .queuedPauseReading)
        // Paused once, however many more come.
        #expect(machine.messageArrived { "more" } == .queued)
        #expect(machine.shouldResumeReading() == false)
        #expect(machine.opened() == true)
        var handled = 0
        while machine.shouldResumeReading() == false, machine.nextWaiting() != nil { handled += 1 }
        // Reading resumes once fewer than half the threshold wait.
        #expect(handled == SocketStateMachine.readPauseThreshold + 1 - SocketStateMachine.readPauseThreshold / 2 + 1)
        #expect(machine.shouldResumeReading() == false)
    }

    @Test func aConnectionThatEndsWhileOpeningClosesTheSessionAtOnce() {
        var machine = SocketStateMachine(maximumQueuedFrames: 10)
        #expect(machine.messageArrived { "a" } == .queued)
        // No session yet: nothing to close.
        #expect(machine.connectionEnded() == nil)
        #expect(machine.opened() == false)
        #expect(machine.nextWaiting() == nil)
        #expect(machine.messageArrived { "b" } == .ignore)
    }

    @Test func theSessionIsClosedOnceWhenTheConnectionEnds() {
        var machine = openMachine()
        #expect(machine.connectionEnded() == .client)
        #expect(machine.connectionEnded() == nil)
    }

    // MARK: Outbound

    @Test func oneFlushIsScheduledPerBatch() {
        var machine = openMachine()
        #expect(machine.enqueue(frame("a")) == .scheduleFlush)
        #expect(machine.enqueue(frame("b")) == .nothing)
        var batch = machine.takeForFlush()
        #expect(batch.count == 2)
        #expect(machine.queuedCount == 0)
        #expect(machine.recycle(&batch) == false)
        #expect(batch.isEmpty)
        // The next batch schedules its own flush; the one after it goes into the first batch's array.
        #expect(machine.enqueue(frame("c")) == .scheduleFlush)
        var second = machine.takeForFlush()
        _ = machine.recycle(&second)
        #expect(machine.enqueue(frame("d")) == .scheduleFlush)
        #expect(machine.takeForFlush().capacity >= 2)
    }

    @Test func pastTheBoundTheSocketIsClosedAsASlowConsumerOnce() {
        var machine = openMachine(maximumQueuedFrames: 2)
        #expect(machine.enqueue(frame("a")) == .scheduleFlush)
        #expect(machine.enqueue(frame("b")) == .nothing)
        #expect(machine.enqueue(frame("c")) == .closeSlowConsumer)
        let closing = machine.closeRequested(.slowConsumer)
        // The frames it is not reading do not go before the close.
        #expect(closing?.code == .policyViolation && closing?.framesBefore.isEmpty == true)
        #expect(closing?.answerTimeout == SocketStateMachine.slowConsumerCloseTimeout)
        #expect(machine.isFinished && machine.queuedCount == 0)
        #expect(machine.enqueue(frame("d")) == .nothing)
        // One close frame only.
        #expect(machine.closeRequested(.slowConsumer) == nil)
        #expect(machine.closeRequested(.draining) == nil)
    }

    // MARK: Closing

    /// The contract's close codes: 1001 when the node drains, 1008 for a slow consumer, 1011 when the socket could
    /// not open.
    @Test(arguments: [
        (SocketEnd.draining, WebSocketErrorCode.goingAway),
        (.slowConsumer, .policyViolation),
        (.openFailed, .unexpectedServerError),
    ])
    func thisSidesCloseCarriesTheReasonsCode(reason: SocketEnd, code: WebSocketErrorCode) {
        var machine = openMachine()
        #expect(machine.closeRequested(reason)?.code == code)
        #expect(machine.phase == .closing(code))
        #expect(machine.hasSentClose)
    }

    @Test func theNodesCloseSendsWhatIsQueuedThenNothingMore() {
        var machine = openMachine()
        _ = machine.enqueue(frame("a"))
        _ = machine.enqueue(frame("b"))
        let closing = machine.closeRequested(.draining)
        #expect(closing?.framesBefore.count == 2)
        #expect(closing?.answerTimeout == SocketStateMachine.closeTimeout)
        #expect(machine.enqueue(frame("late")) == .nothing)
        // After its close frame this side sends nothing: no pong, no heartbeat ping. A message the client sent before
        // it saw the close is still handled (stored; its ack cannot go out).
        #expect(machine.pingReceived() == false)
        #expect(machine.pingDue() == false)
        #expect(machine.messageArrived { "late" } == .handleNow)
        #expect(machine.connectionEnded() == .drain)
        #expect(machine.messageArrived { "after the end" } == .ignore)
    }

    /// A close while a sync's page waits for room: the waiting sync is let go (it finds the socket finished).
    @Test func aCloseWhileASyncWaitsForRoomLetsItGo() async {
        var machine = openMachine()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            machine.waitForCapacity(continuation)
            _ = machine.closeRequested(.draining)
            #expect(machine.isFinished)
            let waiters = machine.takeCapacityWaiters()
            #expect(waiters.count == 1)
            for waiter in waiters { waiter.resume() }
        }
        #expect(machine.takeCapacityWaiters().isEmpty)
    }

    /// The peer's close: answered with the reader's code while open (RFC 6455 §5.5.1); when it answers this side's
    /// close, the handshake is complete and the channel closes without a second close frame.
    @Test(arguments: [UInt16(1000), 1001, 1002, 1007, 4000])
    func aPeersCloseIsAnsweredWithItsCode(answer: UInt16) {
        var machine = openMachine()
        #expect(machine.peerClosed(answer: answer) == .answer(answer))
        #expect(machine.phase == .ended)
        #expect(machine.peerClosed(answer: answer) == .nothing)
        #expect(machine.closeRequested(.draining) == nil)
    }

    @Test func aPeersCloseAfterOursCompletesTheHandshake() {
        var machine = openMachine()
        _ = machine.closeRequested(.draining)
        #expect(machine.peerClosed(answer: 1001) == .closeChannel)
        #expect(machine.phase == .ended)
    }

    @Test func aProtocolFailureFailsTheConnectionOnce() {
        var machine = openMachine()
        #expect(machine.failed() == true)
        #expect(machine.failed() == false)
        #expect(machine.peerClosed(answer: 1000) == .nothing)
        #expect(machine.enqueue(frame("a")) == .nothing)
        #expect(machine.closeRequested(.draining) == nil)
    }

    @Test func aTerminatedSocketSendsNothingMore() {
        var machine = openMachine()
        machine.terminated()
        #expect(machine.pingDue() == false)
        #expect(machine.enqueue(frame("a")) == .nothing)
        #expect(machine.closeRequested(.draining) == nil)
        #expect(machine.connectionEnded() == .heartbeat)
    }

    @Test func anEndedConnectionQueuesNothingAndKeepsNoStorage() {
        var machine = openMachine()
        _ = machine.enqueue(frame("a"))
        var batch = machine.takeForFlush()
        _ = machine.connectionEnded()
        #expect(machine.recycle(&batch) == false)
        #expect(machine.enqueue(frame("b")) == .nothing)
        #expect(machine.closeRequested(.draining) == nil)
        #expect(!machine.hasSentClose)
    }

    /// Why the socket ended, for `chatrelay_socket_closes_total{reason}`: the first reason stands.
    @Test func theEndReasonIsTheFirstOne() {
        var drained = openMachine()
        _ = drained.closeRequested(.draining)
        _ = drained.peerClosed(answer: 1001)
        #expect(drained.connectionEnded() == .drain)
        var slow = openMachine()
        _ = slow.closeRequested(.slowConsumer)
        #expect(slow.connectionEnded() == .slowConsumer)
        var broken = openMachine()
        _ = broken.failed()
        #expect(broken.connectionEnded() == .protocolError)
        var client = openMachine()
        _ = client.peerClosed(answer: 1000)
        _ = client.closeRequested(.draining)
        #expect(client.connectionEnded() == .client)
    }
}
