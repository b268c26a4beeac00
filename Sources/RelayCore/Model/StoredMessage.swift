/// A message as it lives in a friendship's stream.
public struct StoredMessage: Sendable, Hashable {
    public var id: String
    public var friendship: String
    public var from: String
    public var to: String
    public var content: String
    public var type: String
    public var cid: String?

    public init(id: String, friendship: String, from: String, to: String, content: String, type: String, cid: String? = nil) {
        self.id = id
        self.friendship = friendship
        self.from = from
        self.to = to
        self.content = content
        self.type = type
        self.cid = cid
    }

    /// The millisecond part of the id: when Redis stored it.
    public var timestamp: Int { Self.timestamp(of: id) }

    public static func timestamp(of id: String) -> Int {
        Int(id.prefix { $0 != "-" }) ?? 0
    }
}
