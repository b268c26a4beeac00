import ChatProtocol
import Logging
import RedisClient
import Synchronization

/// Carries out one socket's ``DeliveryMachine``: sends the frames it makes due, runs the stream reads (fills) it
/// asks for, and closes the socket when it gives up on it. The rules (what is held, what goes, in which order) are
/// the machine's.
final class SocketFeed: Sendable {
    /// How a gap fill waits for Redis to come back: soon at first, every 2 s at most.
    static let fillBackoff = Backoff(initial: .milliseconds(100), maximum: .seconds(2))

    let socket: any RelaySocket
    /// Shared by every feed of the node (one reference per socket instead of a store and a logger each).
    private let context: FeedContext
    private var store: MessageStore { context.store }
    private var logger: Logger { context.logger }
    /// A `Mutex` lives inside this object; a `NIOLockedValueBox` would be one more allocation per socket.
    private let machine: Mutex<DeliveryMachine>

    init(socket: any RelaySocket, openedAfter: StreamID, context: FeedContext) {
        self.socket = socket
        self.context = context
        machine = Mutex(DeliveryMachine(openedAfter: openedAfter))
    }

    func close() {
        machine.withLock { $0.close() }
    }

    /// The node's subscriber lost its connection: every live frame waits for the next ``catchUp(friendships:)``.
    func holdUntilCatchUp() {
        machine.withLock { $0.subscriberLost() }
    }

    func deliver(_ frame: PublishedMessage) {
        run { $0.published(frame) }
    }

    /// The socket is sending to `friendship`: until the store replies, a frame of its user's might be its own.
    func willStore(friendship: String) {
        machine.withLock { $0.willStore(friendship: friendship) }
    }

    /// The store replied: with the entry's id, or nil when it failed.
    func didStore(_ id: StreamID?, friendship: String) {
        run { $0.stored(id, friendship: friendship) }
    }

    /// A `sync` request was read: until ``endSync(replayedThrough:)``, frames of `scope`'s friendships wait.
    func beginSync(_ scope: SyncScope) {
        machine.withLock { $0.syncBegan(scope) }
    }

    /// The sync's replay is over (or failed), having sent each friendship's entries up to `replayedThrough`.
    func endSync(replayedThrough replayed: [String: StreamID]) {
        run { $0.syncEnded(replayedThrough: replayed) }
    }

    /// Reads the streams of `friendships` (and of every friendship the socket has had frames of) from where this
    /// socket is: after it opened (before it reads any of its client's frames), and after the node's subscriber came
    /// back. Returns when the reads are done.
    func catchUp(friendships: [String]) async {
        let starts = machine.withLock { $0.catchUpBegan(friendships: friendships) }
        await withTaskGroup(of: Void.self) { group in
            for friendship in starts { group.addTask { await self.fill(friendship) } }
        }
    }

    /// Reads every entry after the socket's position until the machine is content, retrying while Redis is away.
    private func fill(_ friendship: String) async {
        var backoff = Self.fillBackoff
        context.metrics.gapFills.increment()
        while true {
            guard let from = machine.withLock({ $0.readPosition(of: friendship) }) else { return }
            do {
                try await store.all(friendship: friendship, after: from.description, pageSize: 500) { page in
                    await socket.waitForCapacity()
                    for message in page {
                        guard let frame = PublishedMessage(message, owner: socket.userID) else { continue }
                        run { $0.read(frame) }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                // Redis is away; the held frames wait, and the fill tries again from where it got to.
                logger.debug("gap fill failed; retrying", metadata: ["friendship": "\(friendship)", "error": "\(error)"])
                try? await Task.sleep(for: backoff.nextDelay())
                continue
            }
            backoff = Self.fillBackoff
            switch machine.withLock({ $0.fillEnded(friendship) }) {
            case .readAgain: continue
            case .done(let action): perform(action)
            }
            return
        }
    }

    /// Delivered messages, those a fill brought, and how long after their store each went out.
    private func count(_ batch: [PublishedMessage]) {
        let metrics = context.metrics
        metrics.messagesDelivered.increment(by: batch.count)
        let now = WallClock.milliseconds
        var filled = 0
        for message in batch {
            if message.fromFill { filled += 1 }
            metrics.deliveryLag.recordMilliseconds(now > message.id.milliseconds ? Int64(now - message.id.milliseconds) : 0)
        }
        if filled > 0 { metrics.gapFillMessages.increment(by: filled) }
    }

    private func run(_ event: (inout DeliveryMachine) -> DeliveryMachine.Action) {
        var batch: [PublishedMessage] = []
        let action = machine.withLock { machine in
            let action = event(&machine)
            // The first batch comes with the event: two locks for a frame that goes straight out.
            if action == .send { machine.takeOutgoing(&batch) }
            return action
        }
        perform(action, firstBatch: &batch)
    }

    private func perform(_ action: DeliveryMachine.Action) {
        var batch: [PublishedMessage] = []
        if action == .send { machine.withLock { $0.takeOutgoing(&batch) } }
        perform(action, firstBatch: &batch)
    }

    /// Sends batches until the machine has none left (outside the lock: frames made due meanwhile by other callers
    /// come in the next batch, in the machine's order).
    private func perform(_ action: DeliveryMachine.Action, firstBatch batch: inout [PublishedMessage]) {
        switch action {
        case .nothing:
            return
        case .closeSlowConsumer:
            socket.close(.slowConsumer)
        case .fill(let friendship):
            Task { await fill(friendship) }
        case .awaitGap(let friendship):
            Task {
                try? await Task.sleep(for: context.gapGrace)
                run { $0.gapGraceEnded(friendship) }
            }
        case .send:
            while !batch.isEmpty {
                for frame in batch { socket.send(frame: frame.bytes) }
                count(batch)
                machine.withLock { $0.takeOutgoing(&batch) }
            }
        }
    }
}
