/// Every field a client frame may carry; which ones matter depends on `op`. Unknown fields are ignored.
struct RawClientRequest {
    var op: String?
    var friend: String?
    var from: String?
    var to: String?
    var content: String?
    var type: String?
    var cid: String?
    var before: String?
    var limit: Int?
    var rid: RequestID?
    var cursors: [String: String]?
    var since: String?
    /// The message a `read` marks.
    var id: String?
    /// The new token of a `refresh`.
    var token: String?
}
