import ChatProtocol

public struct SendRequest: Sendable, Equatable {
    public var friendship: String
    public var from: String?
    public var to: String?
    public var content: String
    public var type: MessageType
    public var cid: String?

    public init(friendship: String, from: String? = nil, to: String? = nil, content: String, type: MessageType = .text, cid: String? = nil) {
        self.friendship = friendship
        self.from = from
        self.to = to
        self.content = content
        self.type = type
        self.cid = cid
    }
}
