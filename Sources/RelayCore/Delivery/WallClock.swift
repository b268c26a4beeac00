#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The machine's wall clock, to hold against stream ids (Redis's clock when a message was stored).
enum WallClock {
    static var milliseconds: UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec) / 1_000_000
    }
}
