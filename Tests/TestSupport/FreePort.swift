import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// Free loopback TCP ports for servers the tests start.
///
/// Ports come from below the kernel's ephemeral range (32768 and up on Linux), so no outgoing connection of a
/// parallel test can take one between the check and the server's bind, and none is handed out twice in one run.
public enum FreePort {
    private static let range = 20_000..<32_000
    private static let handedOut = NIOLockedValueBox<(next: Int, used: Set<Int>)>(
        (next: range.lowerBound + Int(getpid() % 1000) * 11, used: [])
    )

    public static func next() throws -> Int {
        for _ in 0..<range.count {
            let candidate = handedOut.withLockedValue { state -> Int? in
                let port = state.next
                state.next = port + 1 < range.upperBound ? port + 1 : range.lowerBound
                return state.used.insert(port).inserted ? port : nil
            }
            if let candidate, isFree(candidate) { return candidate }
        }
        throw TestSupportError("no free loopback port in \(range)")
    }

    private static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        return bound == 0
    }
}
