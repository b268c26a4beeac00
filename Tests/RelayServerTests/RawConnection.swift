import Foundation
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection to a node, for what no HTTP client sends: a head that trickles in, one of 100 KB, bytes
/// that are not HTTP, a connection that says nothing. Blocking calls run on dispatch threads, never on Swift
/// concurrency's few threads, which a node in the same process needs.
final class RawConnection: @unchecked Sendable {
    private let descriptor: Int32

    /// Connects to `127.0.0.1:port`, from `source` (another loopback address, to stand for another client).
    static func open(port: Int, from source: String = "127.0.0.1") async throws -> RawConnection {
        try await blocking { try RawConnection(port: port, source: source) }
    }

    private init(port: Int, source: String) throws {
        descriptor = try Self.connectedSocket(port: port, source: source)
    }

    /// A TCP socket connected to `127.0.0.1:port` from `source`; `receiveBuffer`, when given, is set before it
    /// connects (the window the connection opens with follows it).
    static func connectedSocket(port: Int, source: String = "127.0.0.1", receiveBuffer: Int? = nil) throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if var size = receiveBuffer.map(Int32.init) {
            setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        func address(_ host: String, port: Int) -> sockaddr_in {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr(host)
            return address
        }
        var local = address(source, port: 0)
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var remote = address("127.0.0.1", port: port)
        let connected = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, connected == 0 else {
            Glibc.close(descriptor)
            throw TestSupportError("connect from \(source) to port \(port): errno \(errno)")
        }
        return descriptor
    }

    deinit { Glibc.close(descriptor) }

    private static func blocking<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Swift.Result { try body() }) }
        }
    }

    /// Sends the bytes; false when the connection is gone.
    @discardableResult
    func send(_ text: String) async -> Bool {
        await send(Array(text.utf8))
    }

    @discardableResult
    func send(_ bytes: [UInt8]) async -> Bool {
        (try? await Self.blocking {
            var sent = 0
            while sent < bytes.count {
                let count = bytes[sent...].withUnsafeBytes { Glibc.send(self.descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard count > 0 else { return false }
                sent += count
            }
            return true
        }) ?? false
    }

    /// What the server sent until it closed the connection (or `timeout` passed), and whether it closed.
    struct Received {
        var text: String
        var closed: Bool
        var status: Int? {
            guard text.hasPrefix("HTTP/1.1 ") else { return nil }
            return Int(text.dropFirst(9).prefix(3))
        }
    }

    /// One answer's head and what came with it, without waiting for the connection to close. It returns as soon as
    /// the head is in; the timeout is what a loaded machine may take to answer.
    func readAnswer(timeout: Duration = .seconds(20)) async -> Received {
        await readUntil(timeout: timeout) { $0.contains("\r\n\r\n") }
    }

    /// What came until `done` says it is enough (or the connection closed, or `timeout` passed).
    func readUntil(timeout: Duration, _ done: @escaping @Sendable (String) -> Bool) async -> Received {
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        return (try? await Self.blocking { self.readNow(seconds: seconds, until: done) }) ?? Received(text: "", closed: false)
    }

    func readUntilClosed(timeout: Duration = .seconds(5)) async -> Received {
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        return (try? await Self.blocking { self.readNow(seconds: seconds, until: nil) }) ?? Received(text: "", closed: false)
    }

    private func readNow(seconds: Double, until done: (@Sendable (String) -> Bool)?) -> Received {
        let deadline = Date().addingTimeInterval(seconds)
        var bytes: [UInt8] = []
        while Date() < deadline {
            var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
            setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                bytes += chunk[..<count]
                if let done, done(String(decoding: bytes, as: UTF8.self)) {
                    return Received(text: String(decoding: bytes, as: UTF8.self), closed: false)
                }
                continue
            }
            if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) {
                return Received(text: String(decoding: bytes, as: UTF8.self), closed: true)
            }
        }
        return Received(text: String(decoding: bytes, as: UTF8.self), closed: false)
    }
}
