import ConnectionGuard
import RelayCore

extension RelayMetrics {
    /// A refusal of the connection guard, counted by its reason.
    func connectionRefused(_ refusal: RequestHeadMachine.Refusal) {
        switch refusal {
        case .overCapacity: refused(.maxConnections)
        case .requestTimeout: refused(.requestTimeout)
        case .headTooLarge: refused(.headTooLarge)
        case .notHTTP: refused(.notHTTP)
        }
    }
}
