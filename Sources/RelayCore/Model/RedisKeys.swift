/// Every key and channel of the contract's Redis layout, with the configured prefix.
///
/// The braces are Redis Cluster hash tags: a user's keys share a slot, a friendship's history and cid records
/// share another.
public struct RedisKeys: Sendable {
    public let prefix: String

    public init(prefix: String) {
        self.prefix = prefix
    }

    public func user(_ id: String) -> String { "\(prefix):user:{\(id)}" }
    public func username(_ name: String) -> String { "\(prefix):username:{\(name)}" }
    public func friends(_ userID: String) -> String { "\(prefix):friends:{\(userID)}" }
    public func friendship(_ id: String) -> String { "\(prefix):friendship:{\(id)}" }
    // Built for every message: assembled in one allocation.
    public func history(_ friendshipID: String) -> String { tagged(":history:{", friendshipID) }
    public func deliver(_ userID: String) -> String { tagged(":deliver:{", userID) }
    public var broadcast: String { "\(prefix):broadcast" }

    /// The record that makes a send with a `cid` idempotent for 24 hours; in the friendship's slot.
    public func clientID(friendship: String, user: String, cid: String) -> String {
        let capacity = prefix.utf8.count + friendship.utf8.count + user.utf8.count + cid.utf8.count + 9
        return TextAssembler.string(capacity: capacity) { text in
            text.append(prefix)
            text.append(":cid:{")
            text.append(friendship)
            text.append("}:")
            text.append(user)
            text.append(":")
            text.append(cid)
        }
    }

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
