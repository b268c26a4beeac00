import ChatProtocol

/// A rejected frame: the code the client sees, what was wrong, and the `cid` it carried.
public struct RequestError: Error, Sendable, Hashable {
    public var code: ErrorCode
    public var message: String
    public var cid: String?

    public init(_ code: ErrorCode, _ message: String, cid: String? = nil) {
        self.code = code
        self.message = message
        self.cid = cid
    }

    /// The same error answering a frame whose `cid` is `cid`, unless it already names one.
    public func carrying(_ cid: String?) -> RequestError {
        guard self.cid == nil, let cid else { return self }
        var error = self
        error.cid = cid
        return error
    }
}
