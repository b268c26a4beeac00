import Testing

@testable import RelayServer

/// A socket's inbound messages without a socket: held while it opens or a message continues in a task, in order;
/// reading paused past the threshold and resumed at half of it; nothing after the end.
@Suite struct SocketInboxTests {
    @Test func messagesWaitWhileTheSocketOpensThenGoInOrder() {
        var inbox = SocketInbox()
        #expect(inbox.arrived { "a" } == .queued)
        #expect(inbox.arrived { "b" } == .queued)
        #expect(inbox.nextWaiting() == nil)
        inbox.becameIdle()
        #expect(inbox.nextWaiting() == "a")
        // "a" continues in a task: "b" waits for it.
        inbox.continuedInTask()
        #expect(inbox.nextWaiting() == nil)
        #expect(inbox.arrived { "c" } == .queued)
        inbox.becameIdle()
        #expect(inbox.nextWaiting() == "b")
        #expect(inbox.nextWaiting() == "c")
        #expect(inbox.nextWaiting() == nil)
        // Idle: the next message is handled at once, and never made into a string.
        #expect(
            inbox.arrived {
                Issue.record("copied")
                return ""
            } == .handleNow
        )
    }

    @Test func readingPausesAtTheThresholdAndResumesAtHalf() {
        var inbox = SocketInbox()
        for index in 1..<SocketInbox.readPauseThreshold { #expect(inbox.arrived { "\(index)" } == .queued) }
        #expect(inbox.arrived { "last" } == .queuedPauseReading)
        // Paused once, however many more come.
        #expect(inbox.arrived { "more" } == .queued)
        #expect(inbox.shouldResumeReading() == false)
        inbox.becameIdle()
        var handled = 0
        while inbox.shouldResumeReading() == false, inbox.nextWaiting() != nil { handled += 1 }
        // Reading resumes once fewer than half the threshold wait.
        #expect(handled == SocketInbox.readPauseThreshold + 1 - SocketInbox.readPauseThreshold / 2 + 1)
        #expect(inbox.shouldResumeReading() == false)
    }

    @Test func anEndedSocketDropsWhatWaits() {
        var inbox = SocketInbox()
        #expect(inbox.arrived { "a" } == .queued)
        inbox.end()
        inbox.becameIdle()
        #expect(inbox.isEnded)
        #expect(inbox.nextWaiting() == nil)
    }
}
