import ChatClient
import ChatProtocol
import NIOConcurrencyHelpers

/// One member of a pair sending to the other: numbers its messages, and keeps what came back of them.
final class Sender: Sendable {
    private struct State {
        var nextSeq = 1
        /// Sent and not yet answered: seq → send time.
        var unanswered: [Int: UInt64] = [:]
        /// Acked and measured, and which of them arrived.
        var acked: Set<Int> = []
        var delivered: Set<Int> = []
        var lastDelivered = 0
        var slots: AsyncStream<Void>.Continuation?
    }

    let index: Int
    let pair: Int
    /// Member (0 or 1) of the pair that sends; the other one receives.
    let from: Int
    let friendship: String
    private let state = NIOLockedValueBox(State())

    init(index: Int, pair: Int, from: Int, friendship: String) {
        self.index = index
        self.pair = pair
        self.from = from
        self.friendship = friendship
    }

    /// Nothing unanswered, and every acked message delivered.
    var isSettled: Bool { state.withLockedValue { $0.unanswered.isEmpty && $0.acked.isSubset(of: $0.delivered) } }

    /// Acked messages (measured) that never arrived.
    var lost: Int { state.withLockedValue { $0.acked.subtracting($0.delivered).count } }

    /// Where a sender's messages go and what they look like.
    struct Outlet: Sendable {
        var connection: ChatConnection
        var size: Int
        var runID: String
        var clock: RunClock
        var tally: Tally
    }

    func sendAtRate(_ rate: Double, until end: UInt64, to outlet: Outlet) async {
        let (connection, clock) = (outlet.connection, outlet.clock)
        let interval = UInt64(1e9 / rate)
        // Spread the senders over the first interval instead of sending all at once.
        var next = clock.now + UInt64.random(in: 0..<max(1, interval))
        while true {
            let now = clock.now
            if next > now { try? await Task.sleep(nanoseconds: next - now) }
            let time = clock.now
            if time >= end || connection.isClosed { return }
            send(at: time, to: outlet)
            next += interval
            // More than a second behind (the machine stalled): start again from now rather than burst.
            if time > next + 1_000_000_000 { next = time }
        }
    }

    func sendWithWindow(_ window: Int, until end: UInt64, to outlet: Outlet) async {
        let (connection, clock) = (outlet.connection, outlet.clock)
        let (slots, continuation) = AsyncStream.makeStream(of: Void.self)
        state.withLockedValue { $0.slots = continuation }
        for _ in 0..<max(1, window) { continuation.yield() }
        let stopper = Task {
            let now = clock.now
            if end > now { try? await Task.sleep(nanoseconds: end - now) }
            continuation.finish()
        }
        for await _ in slots {
            let time = clock.now
            if time >= end || connection.isClosed { break }
            send(at: time, to: outlet)
        }
        stopper.cancel()
        continuation.finish()
    }

    private func send(at time: UInt64, to outlet: Outlet) {
        let (size, runID) = (outlet.size, outlet.runID)
        let seq = state.withLockedValue { state -> Int in
            defer { state.nextSeq += 1 }
            state.unanswered[state.nextSeq] = time
            return state.nextSeq
        }
        var content = "\(runID) \(index) \(seq) \(time) "
        if content.utf8.count < size { content += String(repeating: "x", count: size - content.utf8.count) }
        outlet.connection.send(ClientRequestText.send(friendship: friendship, content: content, cid: "\(index)-\(seq)"))
        outlet.tally.sent(at: time)
    }

    /// The ack (or error) of message `seq` came back.
    func answered(seq: Int, accepted: Bool, now: UInt64, tally: Tally) {
        let (sentAt, slots) = state.withLockedValue { state -> (UInt64?, AsyncStream<Void>.Continuation?) in
            let sentAt = state.unanswered.removeValue(forKey: seq)
            if accepted, let sentAt, tally.isMeasured(sentAt) { state.acked.insert(seq) }
            return (sentAt, state.slots)
        }
        slots?.yield()
        guard let sentAt else { return }
        tally.answered(sentAt: sentAt, now: now, accepted: accepted)
    }

    /// Message `seq` reached the other member.
    func delivered(seq: Int, sentAt: UInt64, now: UInt64, tally: Tally) {
        let (duplicate, reordered) = state.withLockedValue { state -> (Bool, Bool) in
            guard state.delivered.insert(seq).inserted else { return (true, false) }
            defer { state.lastDelivered = max(state.lastDelivered, seq) }
            return (false, seq < state.lastDelivered)
        }
        tally.delivered(sentAt: sentAt, now: now, duplicate: duplicate, reordered: reordered)
    }
}
