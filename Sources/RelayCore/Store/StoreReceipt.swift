import Foundation
import NIOCore
import RedisClient
import Synchronization

/// The result of storing a send: its stream id, whether this call stored it or an earlier one with the same cid,
/// and whether the replicas that `--min-replicas` asks for confirmed it (always true without it).
public struct StoreReceipt: Sendable, Hashable {
    public var id: String
    public var isNew: Bool
    public var replicated = true
}
