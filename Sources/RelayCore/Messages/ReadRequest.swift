/// `{"op":"read","friend":F,"id":ID}`: the sender has read the friendship up to `id`.
public struct ReadRequest: Sendable, Equatable {
    public var friendship: String
    /// A full stream id, `MS-SEQ`.
    public var id: String
    public var cid: String?

    public init(friendship: String, id: String, cid: String? = nil) {
        self.friendship = friendship
        self.id = id
        self.cid = cid
    }
}
