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

    /// The nodes holding open sockets of the user: a sorted set from node instance to the end of its lease (ms), in
    /// the user's slot; the key expires with its last lease.
    public func presence(_ userID: String) -> String { "\(prefix):presence:{\(userID)}" }
    /// The read marks of a friendship: a hash from user id to the newest message id they have read, in the
    /// friendship's slot (beside its history, which the mark is checked against).
    public func readMarks(_ friendshipID: String) -> String { "\(prefix):read:{\(friendshipID)}" }
    /// The node instances alive, a sorted set from instance to the end of its lease (ms): a node whose lease ran out
    /// died without closing its sockets, and another node takes its users offline.
    public var nodes: String { "\(prefix):nodes" }
    /// The users with sockets on one node instance (a set), for whichever node takes that instance's users offline.
    public func nodeUsers(_ instance: String) -> String { "\(prefix):node:{\(instance)}:users" }
    /// A blocked user (``SessionControl``): a string holding when the block was set (ms), in the user's slot.
    public func blocked(_ userID: String) -> String { "\(prefix):blocked:{\(userID)}" }
    /// A node's probe channel (``SubscriptionProbe``): what the node publishes there must come back to it.
    public func probe(_ name: String) -> String { "\(prefix):probe:{\(name)}" }
    var probePrefix: String { "\(prefix):probe:{" }
    /// The prefix of every `deliver` channel, for scripts that publish to channels they name from data.
    public var deliverPrefix: String { "\(prefix):deliver:{" }

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
