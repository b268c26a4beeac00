/// Which primary serves each of the 16,384 slots, and its replicas, as `CLUSTER SHARDS` describes them.
public struct ClusterTopology: Sendable, Equatable {
    public struct Shard: Sendable, Equatable {
        public var primary: RedisEndpoint
        public var replicas: [RedisEndpoint]
        public var slots: [ClosedRange<Int>]
    }

    public private(set) var shards: [Shard]
    /// The index in ``shards`` of each slot's shard; nil for a slot no shard serves.
    private var owners: [Int?]

    public init(shards: [Shard]) {
        self.shards = shards
        owners = Array(repeating: nil, count: HashSlot.count)
        for (index, shard) in shards.enumerated() {
            for range in shard.slots { for slot in range { owners[slot] = index } }
        }
    }

    /// The primary that serves `slot`, if any.
    public func primary(for slot: HashSlot) -> RedisEndpoint? {
        owners[Int(slot.rawValue)].map { shards[$0].primary }
    }

    /// Every slot is served.
    public var coversEverySlot: Bool { owners.allSatisfy { $0 != nil } }

    /// A `MOVED` says where one slot went, before the next full refresh.
    public mutating func move(_ slot: HashSlot, to endpoint: RedisEndpoint) {
        if let index = shards.firstIndex(where: { $0.primary == endpoint }) {
            owners[Int(slot.rawValue)] = index
        } else {
            shards.append(Shard(primary: endpoint, replicas: [], slots: []))
            owners[Int(slot.rawValue)] = shards.count - 1
        }
    }

    /// Reads a `CLUSTER SHARDS` reply (RESP2: each shard and each node a flat list of names and values). A shard
    /// takes its one primary whose health is `online`; a shard without one, or with two, is refused, as the cluster
    /// is then in the middle of a change and must be asked again.
    public init(shardsReply reply: RedisReply) throws(RedisClientError) {
        guard let entries = reply.array else { throw Self.unexpected(reply) }
        var shards: [Shard] = []
        for entry in entries {
            let fields = Self.fields(entry)
            guard let slotBounds = fields["slots"]?.array, let nodes = fields["nodes"]?.array else { throw Self.unexpected(entry) }
            var slots: [ClosedRange<Int>] = []
            var index = 0
            while index + 1 < slotBounds.count {
                guard let low = Self.integer(slotBounds[index]), let high = Self.integer(slotBounds[index + 1]), low <= high,
                    high < HashSlot.count
                else { throw Self.unexpected(entry) }
                slots.append(low...high)
                index += 2
            }
            var primaries: [RedisEndpoint] = []
            var replicas: [RedisEndpoint] = []
            for node in nodes {
                let fields = Self.fields(node)
                guard let host = fields["ip"]?.string ?? fields["endpoint"]?.string, let port = fields["port"].flatMap(Self.integer),
                    fields["health"]?.string == "online"
                else { continue }
                let endpoint = RedisEndpoint(host: host, port: port)
                if fields["role"]?.string == "master" { primaries.append(endpoint) } else { replicas.append(endpoint) }
            }
            // A shard that serves no slot (a primary being added, or emptied) needs no primary yet.
            if slots.isEmpty { continue }
            guard primaries.count == 1 else {
                throw RedisClientError(
                    .unexpectedReply,
                    "a shard serving slots \(slots.map { "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: ",")) has \(primaries.count) live primaries"
                )
            }
            shards.append(Shard(primary: primaries[0], replicas: replicas, slots: slots))
        }
        self.init(shards: shards)
    }

    private static func fields(_ reply: RedisReply) -> [String: RedisReply] {
        var fields: [String: RedisReply] = [:]
        let items = reply.array ?? []
        var index = 0
        while index + 1 < items.count {
            if let name = items[index].string { fields[name] = items[index + 1] }
            index += 2
        }
        return fields
    }

    private static func integer(_ reply: RedisReply) -> Int? {
        reply.int.map(Int.init) ?? reply.string.flatMap { Int($0) }
    }

    private static func unexpected(_ reply: RedisReply) -> RedisClientError {
        RedisClientError(.unexpectedReply, "CLUSTER SHARDS answered \(reply)")
    }
}
