import NIOCore
import Testing
import WebSocketWire

@testable import RelayServer

/// A socket's outbound side without a socket: flushes scheduled once per batch, the slow-consumer bound, the
/// node's close, and the end of the connection.
@Suite struct SocketOutboxTests {
    private func frame(_ text: String) -> ServerFrame { ServerFrame(.text, payload: ByteBuffer(string: text)) }

    @Test func oneFlushIsScheduledPerBatch() {
        var outbox = SocketOutbox(maximumQueuedFrames: 10)
        #expect(outbox.enqueue(frame("a")) == .scheduleFlush)
        #expect(outbox.enqueue(frame("b")) == .nothing)
        var batch = outbox.takeForFlush()
        #expect(batch.count == 2)
        #expect(outbox.queuedCount == 0)
        #expect(outbox.recycle(&batch) == false)
        #expect(batch.isEmpty)
        // The next batch schedules its own flush; the one after it goes into the first batch's array.
        #expect(outbox.enqueue(frame("c")) == .scheduleFlush)
        var second = outbox.takeForFlush()
        _ = outbox.recycle(&second)
        #expect(outbox.enqueue(frame("d")) == .scheduleFlush)
        #expect(outbox.takeForFlush().capacity >= 2)
    }

    @Test func pastTheBoundTheSocketIsDroppedOnce() {
        var outbox = SocketOutbox(maximumQueuedFrames: 2)
        #expect(outbox.enqueue(frame("a")) == .scheduleFlush)
        #expect(outbox.enqueue(frame("b")) == .nothing)
        #expect(outbox.enqueue(frame("c")) == .dropSlowConsumer)
        #expect(outbox.dropSlowConsumer() == true)
        #expect(outbox.dropSlowConsumer() == false)
        #expect(outbox.isFinished && outbox.queuedCount == 0)
        #expect(outbox.enqueue(frame("d")) == .nothing)
        // A dropped socket gets no second close frame.
        #expect(outbox.close() == nil)
    }

    @Test func theNodesCloseSendsWhatIsQueuedThenNothingMore() {
        var outbox = SocketOutbox(maximumQueuedFrames: 10)
        _ = outbox.enqueue(frame("a"))
        _ = outbox.enqueue(frame("b"))
        #expect(outbox.close()?.count == 2)
        #expect(outbox.closeSent)
        #expect(outbox.close() == nil)
        #expect(outbox.enqueue(frame("late")) == .nothing)
        #expect(outbox.dropSlowConsumer() == false)
    }

    @Test func anEndedConnectionQueuesNothingAndKeepsNoStorage() {
        var outbox = SocketOutbox(maximumQueuedFrames: 10)
        _ = outbox.enqueue(frame("a"))
        var batch = outbox.takeForFlush()
        outbox.connectionEnded()
        #expect(outbox.recycle(&batch) == false)
        #expect(outbox.enqueue(frame("b")) == .nothing)
        #expect(outbox.close() == nil)
        #expect(!outbox.closeSent)
    }
}
