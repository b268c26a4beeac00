import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// The node's TCP connections: how many are open against `--max-connections`, and the ones still speaking HTTP
/// (not upgraded), which the drain closes.
public final class OpenConnections: Sendable {
    public let maximum: Int
    private let open = Atomic<Int>(0)
    private let speakingHTTP = NIOLockedValueBox<[ObjectIdentifier: NIOLoopBound<RequestHeadGuard>]>([:])

    public init(maximum: Int) {
        self.maximum = maximum
    }

    public var count: Int { open.load(ordering: .relaxed) }

    /// Counts a new connection; false (and not counted) when the node holds its maximum already.
    public func admit() -> Bool {
        let now = open.add(1, ordering: .relaxed).newValue
        guard now <= maximum else {
            open.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    /// A counted connection ended: by its HTTP guard before an upgrade, by its socket's handler after one.
    public func released() {
        open.subtract(1, ordering: .relaxed)
    }

    func track(_ guardHandler: RequestHeadGuard, on eventLoop: any EventLoop) {
        let bound = NIOLoopBound(guardHandler, eventLoop: eventLoop)
        speakingHTTP.withLockedValue { $0[ObjectIdentifier(guardHandler)] = bound }
    }

    func untrack(_ guardHandler: RequestHeadGuard) {
        speakingHTTP.withLockedValue { _ = $0.removeValue(forKey: ObjectIdentifier(guardHandler)) }
    }

    /// The drain begins: connections between requests close now, those in a request after their answer.
    public func drain() {
        for bound in speakingHTTP.withLockedValue({ Array($0.values) }) {
            bound.eventLoop.execute { bound.value.drain() }
        }
    }

    /// The drain's time is up: every connection still speaking HTTP closes, whatever it was doing.
    public func closeRemaining() {
        for bound in speakingHTTP.withLockedValue({ Array($0.values) }) {
            bound.eventLoop.execute { bound.value.closeNow() }
        }
    }

    /// How many connections have not upgraded (nor closed) yet.
    public var httpCount: Int { speakingHTTP.withLockedValue { $0.count } }
}
