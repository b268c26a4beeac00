public struct SyncRequest: Sendable, Equatable {
    public var cursors: [String: String]
    public var since: String?
    public var cid: String?

    public init(cursors: [String: String], since: String? = nil, cid: String? = nil) {
        self.cursors = cursors
        self.since = since
        self.cid = cid
    }
}
