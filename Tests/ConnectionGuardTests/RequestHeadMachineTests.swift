import ConnectionGuard
import Testing

@Suite struct RequestHeadMachineTests {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func aHeadIsCompleteAtItsBlankLineEvenSplitAcrossReads() {
        var machine = RequestHeadMachine()
        #expect(machine.bytesArrived(bytes("GET / HTTP/1.1\r\nHost: x\r")) == .forward)
        #expect(machine.bytesArrived(bytes("\n\r")) == .forward)
        #expect(machine.isTimed)
        #expect(machine.bytesArrived(bytes("\nbody")) == .forwardHeadComplete)
        #expect(machine.phase == .receivingBody)
        // The body is not scanned.
        #expect(machine.bytesArrived(bytes(String(repeating: "b", count: 40_000))) == .forward)
        machine.requestReceived()
        #expect(!machine.isTimed)
        #expect(machine.answered() == .awaitNextHead)
        #expect(machine.phase == .awaitingHead(received: 0))
    }

    @Test func aHeadOver16KiBIsRefused431() {
        var machine = RequestHeadMachine()
        let line = "X-Padding: " + String(repeating: "p", count: 1000) + "\r\n"
        var action = machine.bytesArrived(bytes("GET / HTTP/1.1\r\n"))
        while action == .forward { action = machine.bytesArrived(bytes(line)) }
        #expect(action == .refuse(.headTooLarge))
        #expect(machine.bytesArrived(bytes("more")) == .discard)
    }

    @Test func exactly16KiBWithItsBlankLineIsAllowed() {
        var machine = RequestHeadMachine()
        let head = "GET / HTTP/1.1\r\nX: "
        let padding = String(repeating: "a", count: RequestHeadMachine.maximumHeadBytes - head.utf8.count - 4)
        #expect(machine.bytesArrived(bytes(head + padding + "\r\n\r\n")) == .forwardHeadComplete)
    }

    @Test func theDeadlineAnswers408OnlyWhenPartOfARequestCame() {
        var silent = RequestHeadMachine()
        #expect(silent.deadlinePassed() == .close)
        var partial = RequestHeadMachine()
        _ = partial.bytesArrived(bytes("GET / HT"))
        #expect(partial.deadlinePassed() == .refuse(.requestTimeout))
        var slowBody = RequestHeadMachine()
        _ = slowBody.bytesArrived(bytes("POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\nab"))
        #expect(slowBody.deadlinePassed() == .refuse(.requestTimeout))
        var answering = RequestHeadMachine()
        _ = answering.bytesArrived(bytes("GET / HTTP/1.1\r\n\r\n"))
        answering.requestReceived()
        #expect(answering.deadlinePassed() == .nothing)
    }

    @Test func anIdleKeepAliveConnectionIsClosedWithoutAnswer() {
        var machine = RequestHeadMachine()
        _ = machine.bytesArrived(bytes("GET / HTTP/1.1\r\n\r\n"))
        machine.requestReceived()
        #expect(machine.answered() == .awaitNextHead)
        #expect(machine.deadlinePassed() == .close)
    }

    @Test func theDecodersRefusalsAre400Or431() {
        var notHTTP = RequestHeadMachine()
        #expect(notHTTP.malformed(headerOverflow: false) == .refuse(.notHTTP))
        #expect(notHTTP.malformed(headerOverflow: false) == .nothing)
        var overflow = RequestHeadMachine()
        #expect(overflow.malformed(headerOverflow: true) == .refuse(.headTooLarge))
    }

    @Test func theDrainClosesBetweenRequestsAndAfterTheAnswerOtherwise() {
        var idle = RequestHeadMachine()
        #expect(idle.drain() == .close)
        var busy = RequestHeadMachine()
        _ = busy.bytesArrived(bytes("GET / HTTP/1.1\r\n\r\n"))
        #expect(busy.drain() == .closeAfterAnswer)
        busy.requestReceived()
        #expect(busy.answered() == .close)
    }

    @Test func theDecoderDecidesWhereAHeadOfBareLineFeedsEnds() {
        var machine = RequestHeadMachine()
        #expect(machine.bytesArrived(bytes("GET / HTTP/1.1\nHost: x\n\n")) == .forward)
        machine.requestReceived()
        #expect(!machine.isTimed)
    }
}
