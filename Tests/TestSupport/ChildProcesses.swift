import Foundation
import NIOConcurrencyHelpers

/// Child processes and scratch directories of the tests: whatever a fixture did not stop and remove itself is killed
/// and removed when the test process exits.
///
/// A test process ends without running deinitialisers, so servers would outlive it and their directories stay behind;
/// `atexit` catches a normal exit. Processes are waited for before their directories go: a Redis that still runs
/// would write into a directory being removed.
public enum ChildProcesses {
    private static let running = NIOLockedValueBox<Set<Int32>>([])
    private static let directories = NIOLockedValueBox<Set<String>>([])
    private static let installed = NIOLockedValueBox(false)

    public static func started(_ pid: Int32) {
        running.withLockedValue { _ = $0.insert(pid) }
        installAtExit()
    }

    public static func ended(_ pid: Int32) {
        running.withLockedValue { _ = $0.remove(pid) }
    }

    /// A directory a fixture made; removed at exit unless ``discarded(_:)`` removed it before.
    public static func scratch(_ directory: URL) {
        directories.withLockedValue { _ = $0.insert(directory.path) }
        installAtExit()
    }

    /// Removes a fixture's directory now; its processes must have exited.
    public static func discarded(_ directory: URL) {
        directories.withLockedValue { _ = $0.remove(directory.path) }
        try? FileManager.default.removeItem(at: directory)
    }

    /// True while a process with this pid exists (a zombie not yet reaped counts as gone).
    public static func isAlive(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        let status = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        return status?.split(separator: ")").last?.split(separator: " ").first != "Z"
    }

    /// Sends SIGKILL and waits (up to 5 s) until the process is gone.
    public static func killAndWait(_ pid: Int32) {
        kill(pid, SIGKILL)
        let deadline = Date().addingTimeInterval(5)
        while isAlive(pid), Date() < deadline { usleep(10_000) }
        ended(pid)
    }

    private static func installAtExit() {
        installed.withLockedValue { done in
            guard !done else { return }
            done = true
            atexit { ChildProcesses.cleanUp() }
        }
    }

    static func cleanUp() {
        for pid in running.withLockedValue({ $0 }) { killAndWait(pid) }
        for path in directories.withLockedValue({ $0 }) { try? FileManager.default.removeItem(atPath: path) }
    }
}
