import CHiredis
import NIOCore

// hiredis's reply nodes stay with the reader: a push is copied out of them here, into a message that holds none.
extension RedisPubSubMessage {
    /// Recognises `message`, `smessage` and `pmessage` pushes in a hiredis reply, and `sunsubscribe`, which a
    /// cluster node sends unasked when a slot moves (so a subscriber sends `SUNSUBSCRIBE` without waiting for its
    /// confirmations, which arrive here too); anything else is a reply to a command. `headroom` free bytes go in front
    /// of the payload (``RedisConfiguration/pushPayloadHeadroom``).
    init?(_ node: redisReply, headroom: Int) {
        guard node.type == REDIS_REPLY_ARRAY, node.elements == 3 || node.elements == 4, let parts = node.element,
            let kind = parts[0]?.pointee, kind.type == REDIS_REPLY_STRING
        else { return nil }
        let name = UnsafeRawBufferPointer(start: kind.str, count: kind.len)
        if node.elements == 3, name.elementsEqual("sunsubscribe".utf8), let channel = Self.string(parts[1]) {
            self.init(channel: String(decoding: channel, as: UTF8.self), payload: ByteBuffer(), kind: .shardedUnsubscribe)
            return
        }
        let hasPattern: Bool
        if name.elementsEqual("message".utf8) || name.elementsEqual("smessage".utf8) {
            hasPattern = false
        } else if name.elementsEqual("pmessage".utf8) {
            hasPattern = true
        } else {
            return nil
        }
        guard node.elements == (hasPattern ? 4 : 3), let channel = Self.string(parts[node.elements - 2]),
            let bytes = Self.string(parts[node.elements - 1])
        else { return nil }
        let pattern = hasPattern ? Self.string(parts[1]).map { String(decoding: $0, as: UTF8.self) } : nil
        if hasPattern, pattern == nil { return nil }
        var payload = ByteBufferAllocator().buffer(capacity: headroom + bytes.count)
        payload.moveWriterIndex(forwardBy: headroom)
        payload.moveReaderIndex(forwardBy: headroom)
        payload.writeBytes(bytes)
        self.init(channel: String(decoding: channel, as: UTF8.self), pattern: pattern, payload: payload)
    }

    private static func string(_ node: UnsafeMutablePointer<redisReply>?) -> UnsafeRawBufferPointer? {
        guard let node, node.pointee.type == REDIS_REPLY_STRING else { return nil }
        return UnsafeRawBufferPointer(start: node.pointee.str, count: node.pointee.len)
    }
}
