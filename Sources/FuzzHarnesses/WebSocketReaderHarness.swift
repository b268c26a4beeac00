import NIOCore
import WebSocketWire

enum WebSocketReaderHarness {
    static let maximumMessageBytes = 4096

    /// The first byte picks the size of the reads the rest arrives in (1 to 256 bytes), so that frames are split at
    /// every place a network may split them.
    static func run(_ input: [UInt8]) {
        guard let first = input.first else { return }
        let readSize = Int(first) + 1
        var reader = WebSocketReader()
        let allocator = ByteBufferAllocator()
        var offset = 1
        var ended = false
        while offset < input.count {
            let end = min(input.count, offset + readSize)
            let buffer = allocator.buffer(bytes: input[offset..<end])
            offset = end
            reader.read(buffer, maximumMessageBytes: maximumMessageBytes, allocator: allocator) { event in
                precondition(!ended, "an event after the connection ended")
                switch event {
                case .message(let opcode, let bytes):
                    precondition(bytes.count <= maximumMessageBytes, "a message over the bound was delivered")
                    if opcode == .text { precondition(String(validating: bytes, as: UTF8.self) != nil, "text that is not UTF-8") }
                case .ping(let payload):
                    precondition(payload.readableBytes <= 125, "a ping payload over 125 bytes")
                case .pong:
                    break
                case .peerClosed, .failed:
                    ended = true
                }
            }
        }
    }
}
