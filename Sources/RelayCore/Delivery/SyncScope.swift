import Logging
import Synchronization

/// The friendships a `sync` request replays: those its cursors name, or, with `since`, every one of the user's.
enum SyncScope: Sendable, Equatable {
    case all
    case only(Set<String>)

    func covers(_ friendship: String) -> Bool {
        switch self {
        case .all: true
        case .only(let friendships): friendships.contains(friendship)
        }
    }
}
