import ChatProtocol
import Foundation
import HummingbirdWSClient
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOWebSocket

/// A WebSocket connection to a relay node, frames in and out as text.
///
/// Shared by the tests, `chatrelay bench` and the CLI. Connect with ``connect(url:readFrames:logger:)``, then
/// ``send(_:)`` frames and read what arrives with ``next(timeout:)`` (or hand an `onFrame` callback to connect).
public final class ChatConnection: Sendable {
    enum Outbound: Sendable {
        case text(String)
        case binary(ByteBuffer)
        case rawText([UInt8])
        case close
    }

    private let inbox = NIOLockedValueBox<[String]>([])
    private let outbound: AsyncStream<Outbound>.Continuation
    private let closeFrame = NIOLockedValueBox<WebSocketCloseFrame?>(nil)
    private let closed = NIOLockedValueBox(false)
    private let task = NIOLockedValueBox<Task<Void, Never>?>(nil)

    private init(outbound: AsyncStream<Outbound>.Continuation) {
        self.outbound = outbound
    }

    /// A history page of 500 long messages is one frame of several hundred KiB: the library's default of 16 KiB per
    /// frame would fail the connection with 1009.
    static let configuration = WebSocketClientConfiguration(maxFrameSize: 16 << 20)

    /// Connects and returns once the upgrade succeeded; throws with the HTTP status when it was refused.
    ///
    /// - Parameter readFrames: false makes a client that never reads, so it answers no ping either
    ///   (a dead peer, for heartbeat and slow-consumer tests).
    ///   - onFrame: receives every text frame instead of the inbox that ``next(timeout:)`` reads.
    ///   - token: sent as `Authorization: Bearer`, never in the URL, where access logs would keep it.
    public static func connect(
        url: String,
        token: String? = nil,
        readFrames: Bool = true,
        logger: Logger = Logger(label: "chatclient"),
        onFrame: (@Sendable (String) -> Void)? = nil
    ) async throws -> ChatConnection {
        let (queue, queueContinuation) = AsyncStream.makeStream(of: Outbound.self)
        let connection = ChatConnection(outbound: queueContinuation)
        let deliver: @Sendable (String) -> Void = onFrame ?? { [inbox = connection.inbox] text in inbox.withLockedValue { $0.append(text) } }
        let upgraded = NIOLockedValueBox<CheckedContinuation<Void, any Error>?>(nil)
        let configuration = {
            var configuration = Self.configuration
            if let token { configuration.additionalHeaders[.authorization] = "Bearer \(token)" }
            return configuration
        }()

        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            upgraded.withLockedValue { $0 = continuation }
            let task = Task {
                do {
                    let close = try await WebSocketClient.connect(url: url, configuration: configuration, logger: logger) {
                        inbound,
                        outbound,
                        _ in
                        upgraded.withLockedValue {
                            $0?.resume()
                            $0 = nil
                        }
                        try await withThrowingTaskGroup(of: Void.self) { group in
                            group.addTask {
                                for await item in queue {
                                    switch item {
                                    case .text(let text): try await outbound.write(.text(text))
                                    case .binary(let bytes): try await outbound.write(.binary(bytes))
                                    case .rawText(let bytes):
                                        let frame = WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(bytes: bytes))
                                        try await outbound.write(.custom(frame))
                                    case .close:
                                        try await outbound.close(.normalClosure, reason: nil)
                                        return
                                    }
                                }
                            }
                            if readFrames {
                                for try await message in inbound.messages(maxSize: 16 << 20) {
                                    if case .text(let text) = message { deliver(text) }
                                }
                            } else {
                                // Hold the socket open without reading a byte until asked to close.
                                try await group.next()
                            }
                            group.cancelAll()
                        }
                    }
                    connection.closeFrame.withLockedValue { $0 = close }
                    upgraded.withLockedValue {
                        $0?.resume(throwing: ChatClientError("the server closed the connection before the upgrade"))
                        $0 = nil
                    }
                } catch {
                    upgraded.withLockedValue {
                        $0?.resume(throwing: error)
                        $0 = nil
                    }
                }
                connection.closed.withLockedValue { $0 = true }
                queueContinuation.finish()
            }
            connection.task.withLockedValue { $0 = task }
        }
        return connection
    }

    /// The next frame from the inbox, or nil when none came within `timeout` (or the socket closed empty).
    public func next(timeout: Duration = .seconds(5)) async -> String? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let frame = inbox.withLockedValue { $0.isEmpty ? nil : $0.removeFirst() }
            if let frame { return frame }
            if ContinuousClock.now >= deadline || isClosed { return nil }
            try? await Task.sleep(for: .milliseconds(2))
        }
    }

    /// The next frame parsed as a JSON object.
    public func nextJSON(timeout: Duration = .seconds(5)) async -> [String: Any]? {
        guard let text = await next(timeout: timeout) else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
    }

    /// Frames received and not yet read.
    public var pending: Int { inbox.withLockedValue { $0.count } }

    public func send(_ text: String) {
        outbound.yield(.text(text))
    }

    /// A text frame with these exact bytes, valid UTF-8 or not (for tests of hostile input).
    public func send(textBytes bytes: [UInt8]) {
        outbound.yield(.rawText(bytes))
    }

    public func send(binary bytes: [UInt8]) {
        outbound.yield(.binary(ByteBuffer(bytes: bytes)))
    }

    /// Sends a message to `friendship`; its ack (or error) carries `cid`.
    public func send(to friendship: String, content: String, cid: String? = nil) {
        send(ClientRequestText.send(friendship: friendship, content: content, cid: cid))
    }

    /// Sends a frame built from a dictionary (for tests and tools; the relay itself never uses Foundation JSON).
    public func send(json object: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        send(String(decoding: data, as: UTF8.self))
    }

    /// How long ``close(timeout:)`` waits for the server's answering close frame before dropping the connection.
    public static let closeTimeout: Duration = .seconds(3)

    /// Closes with 1000 and waits until the socket is gone. A server that does not answer the close frame within
    /// `timeout` (a hung node, a half-open connection) has the connection dropped, as RFC 6455 §7.1.1 allows:
    /// closing never hangs its caller.
    public func close(timeout: Duration = ChatConnection.closeTimeout) async {
        outbound.yield(.close)
        outbound.finish()
        guard let task = task.withLockedValue({ $0 }) else { return }
        let deadline = Task {
            try await Task.sleep(for: timeout)
            task.cancel()
        }
        await task.value
        deadline.cancel()
    }

    /// Drops the TCP connection without a close handshake, like a crashed client.
    public func abort() async {
        let task = self.task.withLockedValue { $0 }
        task?.cancel()
        await task?.value
    }

    public var isClosed: Bool { closed.withLockedValue { $0 } }

    /// The close code the server sent, once the socket is closed.
    public var closeCode: Int? {
        closeFrame.withLockedValue { $0 }.map { Int(UInt16(webSocketErrorCode: $0.closeCode)) }
    }
}
