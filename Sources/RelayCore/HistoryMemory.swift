import RedisClient

/// What the friendships' histories take in Redis, estimated from `MEMORY USAGE` of a sample of streams: how many
/// streams there are (every server's, found with `SCAN`), what the sampled ones take, and the largest of them.
public struct HistoryMemory: Sendable, Equatable {
    public var streams = 0
    public var sampled = 0
    public var sampledBytes = 0
    /// The sampled streams' mean times their number.
    public var estimatedBytes: Int { sampled == 0 ? 0 : sampledBytes / sampled * streams }
    /// The largest sampled streams, by friendship id, largest first.
    public var largest: [(friendship: String, bytes: Int)] = []

    public static func == (lhs: HistoryMemory, rhs: HistoryMemory) -> Bool {
        lhs.streams == rhs.streams && lhs.sampled == rhs.sampled && lhs.sampledBytes == rhs.sampledBytes
            && lhs.largest.map(\.friendship) == rhs.largest.map(\.friendship) && lhs.largest.map(\.bytes) == rhs.largest.map(\.bytes)
    }
}

extension RedisMemory {
    /// Scans every server for history streams and measures up to `sample` of them (the first found: `SCAN`'s order
    /// is the hash table's, not the keys'). An operator's question, not a hot path: one `SCAN` page of 1,000 keys
    /// at a time.
    public func history(sample: Int = 200) async throws -> HistoryMemory {
        let historyPrefix = keys.history("")
        let pattern = String(historyPrefix.dropLast(2)) + "*"
        var usage = HistoryMemory()
        var measured: [(friendship: String, bytes: Int)] = []
        for (_, send) in serverCommands {
            var cursor = "0"
            repeat {
                let page = try await send(["SCAN", .string(cursor), "MATCH", .string(pattern), "COUNT", "1000"])
                guard let parts = page.array, parts.count == 2, let next = parts[0].string else { break }
                cursor = next
                for key in (parts[1].array ?? []).compactMap(\.string) {
                    usage.streams += 1
                    guard measured.count < sample else { continue }
                    let bytes = Int(try await send(["MEMORY", "USAGE", .string(key), "SAMPLES", "0"]).int ?? 0)
                    measured.append((String(key.dropFirst(historyPrefix.count - 1).dropLast()), bytes))
                }
            } while cursor != "0"
        }
        usage.sampled = measured.count
        usage.sampledBytes = measured.reduce(0) { $0 + $1.bytes }
        usage.largest = Array(measured.sorted { $0.bytes > $1.bytes }.prefix(5))
        return usage
    }
}
