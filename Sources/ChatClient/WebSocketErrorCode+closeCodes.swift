import Foundation
import HummingbirdWSClient
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOWebSocket

extension WebSocketErrorCode {
    init(_ code: WebSocketErrorCode) { self = code }

    var code: UInt16 {
        var buffer = ByteBufferAllocator().buffer(capacity: 2)
        buffer.write(webSocketErrorCode: self)
        return buffer.readInteger(as: UInt16.self) ?? 0
    }
}
