import Foundation
import NIOConcurrencyHelpers

/// Child processes started by the tests, killed when the test process exits.
///
/// A test process ends without running deinitialisers, so servers would outlive it; `atexit` catches a normal exit.
public enum ChildProcesses {
    private static let running = NIOLockedValueBox<Set<Int32>>([])
    private static let installed = NIOLockedValueBox(false)

    public static func started(_ pid: Int32) {
        running.withLockedValue { _ = $0.insert(pid) }
        installed.withLockedValue { done in
            guard !done else { return }
            done = true
            atexit { ChildProcesses.killAll() }
        }
    }

    public static func ended(_ pid: Int32) {
        running.withLockedValue { _ = $0.remove(pid) }
    }

    static func killAll() {
        for pid in running.withLockedValue({ $0 }) { kill(pid, SIGKILL) }
    }
}
