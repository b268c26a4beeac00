import Metrics
import NIOCore

extension Timer {
    /// Records the time from `start` to now.
    func recordInterval(since start: NIODeadline) {
        recordNanoseconds(Int64(NIODeadline.now().uptimeNanoseconds - start.uptimeNanoseconds))
    }
}
