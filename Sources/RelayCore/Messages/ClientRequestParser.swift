import ChatProtocol

/// Turns frame text into an ``ClientRequest`` or a ``RequestError`` with the contract's code.
public struct ClientRequestParser: Sendable {
    public var maximumContentBytes: Int
    public static let maximumCIDLength = 128
    public static let defaultHistoryLimit = 50
    public static let maximumHistoryLimit = 500

    public init(maximumContentBytes: Int = 16 * 1024) {
        self.maximumContentBytes = maximumContentBytes
    }

    /// `known` identifiers come back as the same strings when the frame repeats them (``KnownIdentifiers``).
    ///
    /// A frame that is a JSON object but wrong in any other way is refused with its `cid` when that is a string, so
    /// that the client can settle the send it waits on.
    public func parse(_ bytes: some Collection<UInt8>, known: KnownIdentifiers = .none) throws(RequestError) -> ClientRequest {
        let raw = try decode(bytes, known: known)
        do {
            return try frame(raw)
        } catch {
            throw error.carrying(raw.cid)
        }
    }

    private func frame(_ raw: RawClientRequest) throws(RequestError) -> ClientRequest {
        // Every op's cid, not only a send's: each comes back in the answer. Bytes, not characters: 128 grapheme
        // clusters can be kilobytes, and a send's is stored with the message for good.
        if let cid = raw.cid, cid.isEmpty || cid.utf8.count > Self.maximumCIDLength {
            throw RequestError(.badMessage, "cid must be 1 to \(Self.maximumCIDLength) bytes of UTF-8")
        }
        switch raw.op {
        case nil, "send"?:
            return .send(try sendRequest(raw))
        case "history"?:
            let friend = try Self.friendship(raw, for: "history")
            if let before = raw.before, !Identifier.isValidStreamID(before) {
                throw RequestError(.badMessage, "before must be a stream id such as 1732700000000-0")
            }
            let limit = try Self.historyLimit(raw.limit)
            return .history(HistoryRequest(friendship: friend, before: raw.before, limit: limit, rid: raw.rid, cid: raw.cid))
        case "sync"?:
            let cursors = raw.cursors ?? [:]
            for (friend, cursor) in cursors {
                guard Identifier.isValid(friend) else { throw RequestError(.badMessage, "cursors: invalid friend id") }
                guard Identifier.isValidStreamID(cursor) else {
                    throw RequestError(.badMessage, "cursors: \(friend) must map to a stream id")
                }
            }
            if let since = raw.since, !Identifier.isValidStreamID(since) {
                throw RequestError(.badMessage, "since must be a stream id")
            }
            return .sync(SyncRequest(cursors: cursors, since: raw.since, cid: raw.cid))
        case "ping"?:
            return .ping(cid: raw.cid)
        case "typing"?:
            return .typing(friendship: try Self.friendship(raw, for: "typing"), cid: raw.cid)
        case "read"?:
            let friendship = try Self.friendship(raw, for: "read")
            guard let id = raw.id, Identifier.isValidStreamID(id), id.utf8.contains(UInt8(ascii: "-")) else {
                throw RequestError(.badMessage, "read needs the id of a message, such as 1732700000000-0")
            }
            return .read(ReadRequest(friendship: friendship, id: id, cid: raw.cid))
        case "refresh"?:
            guard let token = raw.token, !token.isEmpty else { throw RequestError(.badMessage, "refresh needs a token") }
            return .refresh(token: token, cid: raw.cid)
        case let other?:
            throw RequestError(.badMessage, "unknown op \(String(other.prefix(32)).debugDescription)")
        }
    }

    private static func friendship(_ raw: RawClientRequest, for op: String) throws(RequestError) -> String {
        guard let friend = raw.friend, Identifier.isValid(friend) else {
            throw RequestError(.badMessage, "\(op) needs a valid friend id")
        }
        return friend
    }

    /// The contract's `limit`: absent is the default, over the maximum is the maximum, below 1 is refused. (A
    /// fraction or a string never gets here: the reader calls it the wrong type.)
    public static func historyLimit(_ requested: Int?) throws(RequestError) -> Int {
        guard let requested else { return defaultHistoryLimit }
        guard requested >= 1 else { throw RequestError(.badMessage, "limit must be a whole number from 1 (at most \(maximumHistoryLimit) are sent)") }
        return min(requested, maximumHistoryLimit)
    }

    private func decode(_ bytes: some Collection<UInt8>, known: KnownIdentifiers) throws(RequestError) -> RawClientRequest {
        // The closure is passed straight to the call rather than kept in a variable: a stored closure that
        // captures `known` was an allocation per frame.
        let contiguous = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(RequestJSONReader.Failure) in try RequestJSONReader.read(buffer, known: known) }
        }
        let result =
            contiguous
            ?? Array(bytes).withUnsafeBufferPointer { buffer in
                Result { () throws(RequestJSONReader.Failure) in try RequestJSONReader.read(buffer, known: known) }
            }
        switch result {
        case .success(let frame): return frame
        case .failure(.wrongType(let field, let cid)): throw RequestError(.badMessage, "\(field) has the wrong type", cid: cid)
        case .failure(.syntax): throw RequestError(.badJSON, "the frame is not a JSON object")
        }
    }

    private static func invalidIdentifier(_ name: String) -> RequestError {
        RequestError(.badMessage, "\(name) must be \(Identifier.rule)")
    }

    /// Errors leave without the cid: ``parse(_:known:)`` adds it to every error of the frame.
    private func sendRequest(_ raw: RawClientRequest) throws(RequestError) -> SendRequest {
        let cid = raw.cid
        guard let friend = raw.friend else { throw RequestError(.badMessage, "friend is missing") }
        guard Identifier.isValid(friend) else { throw Self.invalidIdentifier("friend") }
        // Two checks, not a loop over an array of the two: that array was an allocation per message.
        if let from = raw.from, !Identifier.isValid(from) { throw Self.invalidIdentifier("from") }
        if let to = raw.to, !Identifier.isValid(to) { throw Self.invalidIdentifier("to") }
        guard let content = raw.content else { throw RequestError(.badMessage, "content is missing") }
        guard !content.isEmpty else { throw RequestError(.badMessage, "content is empty") }
        guard content.utf8.count <= maximumContentBytes else {
            throw RequestError(.badMessage, "content is over \(maximumContentBytes) bytes")
        }
        let type: MessageType
        if let name = raw.type {
            guard let known = MessageType(rawValue: name) else {
                throw RequestError(.badMessage, "type must be text, emoji or file")
            }
            type = known
        } else {
            type = .text
        }
        return SendRequest(friendship: friend, from: raw.from, to: raw.to, content: content, type: type, cid: cid)
    }
}
