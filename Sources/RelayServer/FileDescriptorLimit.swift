#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's open-file limit, which bounds how many connections a node can hold.
public enum FileDescriptorLimit {
    /// Raises the soft limit to the hard one (the most a process may raise itself to) and returns the limit now in
    /// force. Done once at start: a node holds a descriptor per connection.
    @discardableResult
    public static func raiseToHard() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return current }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised)
        }
        return current
    }

    /// The soft limit in force.
    public static var current: Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        return Int(clamping: limit.rlim_cur)
    }

    /// `--max-connections`' default: the limit in force less what Redis connections, files and listeners need.
    public static func defaultMaximumConnections(reserve: Int) -> Int {
        max(16, current - reserve)
    }
}
