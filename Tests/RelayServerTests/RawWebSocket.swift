import Foundation
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A WebSocket client on a plain blocking socket, for what no client library sends (close frames with any payload,
/// a frame over the limit) and to tell how the server ended the TCP connection: an orderly end or a reset.
///
/// Each call blocks a dispatch thread, never one of Swift concurrency's few threads, which the node in the same
/// process needs to answer. `@unchecked Sendable`: one test uses it, one call at a time.
final class RawWebSocket: @unchecked Sendable {
    enum End: Equatable {
        /// The server shut its side: what a client that read everything should see.
        case endOfStream
        /// The connection was reset (ECONNRESET) or a send failed (EPIPE): bytes were lost.
        case reset(Int32)
        case timedOut
    }

    private let descriptor: Int32
    private var buffered: [UInt8] = []

    /// `receiveBuffer`: the socket's receive buffer in bytes, small for a client that stops reading.
    static func connect(port: Int, path: String, receiveBuffer: Int? = nil) async throws -> RawWebSocket {
        try await blocking { try RawWebSocket(port: port, path: path, receiveBuffer: receiveBuffer) }
    }

    private static func blocking<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Swift.Result { try body() }) }
        }
    }

    /// Sends bytes as they are; the error when the connection is gone.
    func send(_ bytes: [UInt8]) async -> End? {
        do {
            return try await Self.blocking { self.sendNow(bytes) }
        } catch {
            return .reset(0)
        }
    }

    /// A masked client frame.
    func send(opcode: UInt8, payload: [UInt8], fin: Bool = true) async -> End? {
        await send(Self.frame(opcode: opcode, payload: payload, fin: fin))
    }

    /// Reads server frames until a close frame; its code (nil when it carried none), or how the connection ended
    /// before one came.
    func readClose() async -> Result<UInt16?, RawEnd> {
        (try? await Self.blocking { self.readCloseNow() }) ?? .failure(RawEnd(end: .timedOut))
    }

    /// Reads until the server ends the connection; how it ended. Frames before the end are dropped.
    func readToEnd() async -> End {
        (try? await Self.blocking { self.readToEndNow() }) ?? .timedOut
    }

    /// The payloads of the next `count` text frames (fewer when the connection ends or 5 s pass).
    func readTextFrames(count: Int) async -> [String] {
        (try? await Self.blocking { self.readFramesNow(count: count, opcode: 0x1) }) ?? []
    }

    /// How many pongs arrive within `duration`.
    func countPongs(within duration: Duration) async -> Int {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return
            (try? await Self.blocking {
                var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
                setsockopt(self.descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                defer {
                    var restored = timeval(tv_sec: 5, tv_usec: 0)
                    setsockopt(self.descriptor, SOL_SOCKET, SO_RCVTIMEO, &restored, socklen_t(MemoryLayout<timeval>.size))
                }
                var pongs = 0
                let deadline = Date().addingTimeInterval(seconds)
                while Date() < deadline {
                    while let (opcode, _) = self.takeFrame() { if opcode == 0xA { pongs += 1 } }
                    if let end = self.receiveMore(), end != .timedOut { break }
                }
                while let (opcode, _) = self.takeFrame() { if opcode == 0xA { pongs += 1 } }
                return pongs
            }) ?? 0
    }

    private func readFramesNow(count: Int, opcode wanted: UInt8) -> [String] {
        var frames: [String] = []
        while frames.count < count {
            while let (opcode, payload) = takeFrame() {
                if opcode == wanted { frames.append(String(decoding: payload, as: UTF8.self)) }
            }
            if frames.count < count, receiveMore() != nil { break }
        }
        return frames
    }

    private init(port: Int, path: String, receiveBuffer: Int?) throws {
        descriptor = try RawConnection.connectedSocket(port: port, receiveBuffer: receiveBuffer)
        // The upgrade's answer may take a loaded machine a while; the socket's reads after it wait 5 s.
        var upgradeTimeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &upgradeTimeout, socklen_t(MemoryLayout<timeval>.size))
        defer {
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }
        let request =
            "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        guard sendNow(Array(request.utf8)) == nil else { throw TestSupportError("the upgrade request could not be sent") }
        while true {
            if let end = buffered.firstRange(of: Array("\r\n\r\n".utf8)) {
                let head = String(decoding: buffered[..<end.lowerBound], as: UTF8.self)
                guard head.hasPrefix("HTTP/1.1 101") else { throw TestSupportError("not upgraded: \(head)") }
                buffered.removeSubrange(..<end.upperBound)
                return
            }
            if let end = receiveMore() { throw TestSupportError("no upgrade answer: \(end)") }
        }
    }

    deinit { Glibc.close(descriptor) }

    private func sendNow(_ bytes: [UInt8]) -> End? {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { return .reset(errno) }
            sent += count
        }
        return nil
    }

    static func frame(opcode: UInt8, payload: [UInt8], fin: Bool = true) -> [UInt8] {
        header(opcode: opcode, length: payload.count, fin: fin) + payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
    }

    /// A frame's header with its masking key, for a payload sent separately (masked with ``mask``).
    static func header(opcode: UInt8, length: Int, fin: Bool = true) -> [UInt8] {
        var bytes: [UInt8] = [(fin ? 0x80 : 0) | opcode]
        if length < 126 {
            bytes.append(0x80 | UInt8(length))
        } else if length <= 0xFFFF {
            bytes += [0x80 | 126, UInt8(length >> 8), UInt8(length & 0xFF)]
        } else {
            bytes.append(0x80 | 127)
            bytes += (0..<8).reversed().map { UInt8(truncatingIfNeeded: length >> ($0 * 8)) }
        }
        return bytes + mask
    }

    static let mask: [UInt8] = [0x11, 0x22, 0x33, 0x44]

    /// A close frame's payload: the code, then the reason's bytes.
    static func closePayload(_ code: UInt16, _ reason: [UInt8] = []) -> [UInt8] {
        [UInt8(code >> 8), UInt8(code & 0xFF)] + reason
    }

    private func readCloseNow() -> Result<UInt16?, RawEnd> {
        while true {
            while let (opcode, payload) = takeFrame() {
                guard opcode == 0x8 else { continue }
                return .success(payload.count >= 2 ? UInt16(payload[0]) << 8 | UInt16(payload[1]) : nil)
            }
            if let end = receiveMore() { return .failure(RawEnd(end: end)) }
        }
    }

    private func readToEndNow() -> End {
        while true {
            buffered.removeAll()
            if let end = receiveMore() { return end }
        }
    }

    private func receiveMore() -> End? {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        if count > 0 {
            buffered += chunk[..<count]
            return nil
        }
        if count == 0 { return .endOfStream }
        return errno == EAGAIN || errno == EWOULDBLOCK ? .timedOut : .reset(errno)
    }

    /// One whole unmasked server frame from the front of the buffer.
    private func takeFrame() -> (opcode: UInt8, payload: [UInt8])? {
        guard buffered.count >= 2 else { return nil }
        var header = 2
        var length = Int(buffered[1] & 0x7F)
        if length == 126 {
            guard buffered.count >= 4 else { return nil }
            (header, length) = (4, Int(buffered[2]) << 8 | Int(buffered[3]))
        } else if length == 127 {
            guard buffered.count >= 10 else { return nil }
            (header, length) = (10, buffered[2..<10].reduce(0) { $0 << 8 | Int($1) })
        }
        guard buffered.count >= header + length else { return nil }
        let frame = (buffered[0] & 0x0F, Array(buffered[header..<(header + length)]))
        buffered.removeSubrange(..<(header + length))
        return frame
    }
}

struct RawEnd: Error, Equatable {
    var end: RawWebSocket.End
}
