public struct HistoryRequest: Sendable, Equatable {
    public var friendship: String
    public var before: String?
    public var limit: Int
    public var rid: RequestID?
    public var cid: String?

    public init(friendship: String, before: String? = nil, limit: Int, rid: RequestID? = nil, cid: String? = nil) {
        self.friendship = friendship
        self.before = before
        self.limit = limit
        self.rid = rid
        self.cid = cid
    }
}
