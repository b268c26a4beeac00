import Foundation
import NIOCore
import RedisClient
import Synchronization

/// The result of storing a send: its stream id, and whether this call stored it or an earlier one with the same cid.
public struct StoreReceipt: Sendable, Hashable {
    public var id: String
    public var isNew: Bool
}
