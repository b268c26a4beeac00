/// Every key and channel of the contract's Redis layout, with the configured prefix.
///
/// The braces are Redis Cluster hash tags: a user's keys share a slot, a friendship's history and cid records
/// share another.
public struct RedisKeys: Sendable {
    public let prefix: String
    /// Made once: every published frame is checked against it.
    public let broadcast: String

    public init(prefix: String) {
        self.prefix = prefix
        broadcast = "\(prefix):broadcast"
    }

    public func user(_ id: String) -> String { "\(prefix):user:{\(id)}" }
    public func username(_ name: String) -> String { "\(prefix):username:{\(name)}" }
    public func friends(_ userID: String) -> String { "\(prefix):friends:{\(userID)}" }
    public func friendship(_ id: String) -> String { "\(prefix):friendship:{\(id)}" }
    // Built for every message: assembled in one allocation.
    public func history(_ friendshipID: String) -> String { tagged(":history:{", friendshipID) }
    public func deliver(_ userID: String) -> String { tagged(":deliver:{", userID) }

    /// The cid records of one friendship and one UTC day (days since 1970): a hash from `USER:CID` to the first
    /// entry id, which makes a send with a `cid` idempotent for 24 hours; in the friendship's slot.
    public func clientIDs(friendship: String, day: Int) -> String { "\(prefix):cids:{\(friendship)}:\(day)" }

    /// `PREFIX` + `kind` (`:name:{`) + `id` + `}`.
    private func tagged(_ kind: StaticString, _ id: String) -> String {
        TextAssembler.string(capacity: prefix.utf8.count + kind.utf8CodeUnitCount + id.utf8.count + 1) { text in
            text.append(prefix)
            text.append(kind)
            text.append(id)
            text.append("}")
        }
    }
}
