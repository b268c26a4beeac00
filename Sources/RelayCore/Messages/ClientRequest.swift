/// A client frame, checked for shape (not yet for identity or friendship).
public enum ClientRequest: Sendable, Equatable {
    case send(SendRequest)
    case history(HistoryRequest)
    case sync(SyncRequest)
    case ping(cid: String? = nil)
    case typing(friendship: String, cid: String? = nil)
    case read(ReadRequest)
    /// A new token for the socket, before its current one expires.
    case refresh(token: String, cid: String? = nil)

    /// The frame's `cid`, which every answer to it carries (an error included), whatever its op.
    public var cid: String? {
        switch self {
        case .send(let request): request.cid
        case .history(let request): request.cid
        case .sync(let request): request.cid
        case .ping(let cid): cid
        case .typing(_, let cid): cid
        case .read(let request): request.cid
        case .refresh(_, let cid): cid
        }
    }
}
