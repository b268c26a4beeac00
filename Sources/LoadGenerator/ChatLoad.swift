import ChatClient
import ChatProtocol
import Foundation
import NIOConcurrencyHelpers

/// Runs a chat load against running nodes and reports what reached whom, in what order and how fast.
public enum ChatLoad {
    public static func run(_ options: ChatLoadOptions) async throws -> ChatLoadReport {
        guard !options.urls.isEmpty else { throw ChatClientError("no node URLs") }
        let runID = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let admin = AdminClient(baseURL: options.apiURL ?? httpURL(options.urls[0]), token: options.adminToken)
        let pairs = try await setUp(pairs: options.pairs, runID: runID, admin: admin)
        let clock = RunClock()
        let tally = Tally(warmupEnd: clock.nanoseconds(afterSeconds: options.warmup))

        // Sender k is member 0 or 1 of pair k / 2; its messages go to the other member.
        var senders: [Sender] = []
        for (index, pair) in pairs.enumerated() {
            senders.append(Sender(index: senders.count, pair: index, from: 0, friendship: pair.friendship))
            if options.both { senders.append(Sender(index: senders.count, pair: index, from: 1, friendship: pair.friendship)) }
        }
        let connections = await connect(pairs, options: options, senders: senders, tally: tally, clock: clock, runID: runID)

        let end = clock.nanoseconds(afterSeconds: options.duration)
        await withTaskGroup(of: Void.self) { group in
            for sender in senders {
                guard let connection = connections[sender.pair][sender.from] else { continue }
                guard connections[sender.pair][1 - sender.from] != nil else { continue }
                group.addTask {
                    let outlet = Sender.Outlet(connection: connection, size: options.size, runID: runID, clock: clock, tally: tally)
                    if options.rate > 0 {
                        await sender.sendAtRate(options.rate, until: end, to: outlet)
                    } else {
                        await sender.sendWithWindow(options.window, until: end, to: outlet)
                    }
                }
            }
        }
        // Let the last acks and deliveries arrive.
        let drainEnd = ContinuousClock.now + .seconds(options.drain)
        while ContinuousClock.now < drainEnd, !senders.allSatisfy({ $0.isSettled }) {
            try? await Task.sleep(for: .milliseconds(20))
        }
        var report = tally.report(senders: senders)
        report.pairs = pairs.count
        report.measuredSeconds = max(0, options.duration - options.warmup)
        report.connectFailures = connections.flatMap { $0 }.filter { $0 == nil }.count
        report.disconnects = connections.flatMap { $0 }.compactMap { $0 }.filter(\.isClosed).count
        await withTaskGroup(of: Void.self) { group in
            for connection in connections.flatMap({ $0 }).compactMap({ $0 }) { group.addTask { await connection.close() } }
        }
        return report
    }

    struct Pair {
        var users: [String]
        var friendship: String
    }

    private static func setUp(pairs count: Int, runID: String, admin: AdminClient) async throws -> [Pair] {
        try await withThrowingTaskGroup(of: (Int, Pair).self) { group in
            var pairs = [Pair?](repeating: nil, count: count)
            var next = 0
            func addNext() {
                let index = next
                next += 1
                group.addTask {
                    let first = try await admin.createUser(name: "bench-\(runID)-\(index)a")
                    let second = try await admin.createUser(name: "bench-\(runID)-\(index)b")
                    return (index, Pair(users: [first, second], friendship: try await admin.createFriendship(first, second)))
                }
            }
            for _ in 0..<min(16, count) { addNext() }
            while let (index, pair) = try await group.next() {
                pairs[index] = pair
                if next < count { addNext() }
            }
            return pairs.compactMap { $0 }
        }
    }

    /// Opens both members of every pair (member 0 on node `i`, member 1 on the next), 64 handshakes at a time.
    private static func connect(
        _ pairs: [Pair],
        options: ChatLoadOptions,
        senders: [Sender],
        tally: Tally,
        clock: RunClock,
        runID: String
    ) async -> [[ChatConnection?]] {
        var bySender: [Int: [Sender]] = [:]
        for sender in senders { bySender[sender.pair * 2 + (1 - sender.from), default: []].append(sender) }
        let ownSenders = Dictionary(grouping: senders, by: { $0.pair * 2 + $0.from })
        return await withTaskGroup(of: (Int, ChatConnection?).self) { group in
            var result = [[ChatConnection?]](repeating: [nil, nil], count: pairs.count)
            var next = 0
            func addNext() {
                let slot = next
                next += 1
                let pair = pairs[slot / 2]
                let user = pair.users[slot % 2]
                let base = options.urls[(slot / 2 + slot % 2) % options.urls.count]
                let inbound = bySender[slot] ?? []
                let own = ownSenders[slot] ?? []
                group.addTask {
                    let token = options.token == nil ? nil : (try? await options.token!(user)) ?? ""
                    let connection = try? await ChatConnection.connect(url: "\(base)/ws/\(user)", token: token) { frame in
                        Self.handle(frame, own: own, inbound: inbound, tally: tally, clock: clock, runID: runID)
                    }
                    return (slot, connection)
                }
            }
            for _ in 0..<min(64, pairs.count * 2) { addNext() }
            while let (slot, connection) = await group.next() {
                result[slot / 2][slot % 2] = connection
                if next < pairs.count * 2 { addNext() }
            }
            return result
        }
    }

    /// Acks and errors answer this socket's own sends; messages come from the friend's sender.
    private static func handle(_ frame: String, own: [Sender], inbound: [Sender], tally: Tally, clock: RunClock, runID: String) {
        let op = MessageFields.op(frame)
        if op == "ack" || op == "error" {
            guard let cid = MessageFields.value("cid", in: frame), let sender = own.first, let seq = Int(cid.split(separator: "-").last ?? "")
            else { return }
            let accepted = op == "ack"
            sender.answered(seq: seq, accepted: accepted, now: clock.now, tally: tally)
            return
        }
        guard MessageFields.isDelivered(frame), let content = MessageFields.value("content", in: frame), let sender = inbound.first else { return }
        let fields = content.split(separator: " ", maxSplits: 4)
        guard fields.count >= 4, fields[0] == runID, let seq = Int(fields[2]), let sentAt = UInt64(fields[3]) else { return }
        sender.delivered(seq: seq, sentAt: sentAt, now: clock.now, tally: tally)
    }

    static func httpURL(_ webSocketURL: String) -> String {
        if webSocketURL.hasPrefix("wss://") { return "https://" + webSocketURL.dropFirst(6) }
        if webSocketURL.hasPrefix("ws://") { return "http://" + webSocketURL.dropFirst(5) }
        return webSocketURL
    }
}
