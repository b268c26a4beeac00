import CHiredis
import NIOCore

/// Parses RESP replies with hiredis's `redisReader`.
///
/// Bytes go in with ``feed(_:)`` as they arrive from the channel, complete replies come out of ``next()``.
/// A malformed stream throws ``RedisClientError/Kind-swift.enum/protocolError``; the reader is unusable after that
/// and the connection that owns it must close. Not thread-safe: it lives on one channel's event loop.
public final class RedisReplyDecoder {
    private let reader: UnsafeMutablePointer<redisReader>
    /// Where the reader puts its nodes (``ReplyArena``); the reader holds it unretained, as its `privdata`.
    private let arena = ReplyArena()

    public init() throws(RedisClientError) {
        guard let reader = redisReaderCreateWithFunctions(ReplyArena.functions) else {
            throw RedisClientError(.outOfMemory, "hiredis could not allocate a reply reader")
        }
        reader.pointee.privdata = Unmanaged.passUnretained(arena).toOpaque()
        self.reader = reader
    }

    deinit {
        redisReaderFree(reader)
    }

    public func feed(_ buffer: ByteBuffer) throws(RedisClientError) {
        let status = buffer.withUnsafeReadableBytes { bytes in
            redisReaderFeed(reader, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count)
        }
        if status != REDIS_OK { throw readerError() }
    }

    /// The next complete reply, or nil until more bytes arrive.
    public func next() throws(RedisClientError) -> RedisReply? {
        switch try next(pushHeadroom: nil) {
        case .reply(let reply)?: reply
        case .push?, nil: nil
        }
    }

    /// A reply, or a message of a subscription read straight from hiredis's nodes: a subscriber receives one per
    /// delivered message, and building a ``RedisReply`` tree first was a third of its cost.
    enum Decoded {
        case reply(RedisReply)
        case push(RedisPubSubMessage)
    }

    /// With `pushHeadroom`, pub/sub pushes are recognised, and their payloads get that many free bytes in front.
    func next(pushHeadroom: Int?) throws(RedisClientError) -> Decoded? {
        var raw: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &raw) == REDIS_OK else { throw readerError() }
        guard let raw else { return nil }
        defer { arena.reset() }
        let node = raw.assumingMemoryBound(to: redisReply.self)
        if let pushHeadroom, let message = RedisPubSubMessage(node.pointee, headroom: pushHeadroom) { return .push(message) }
        return .reply(Self.convert(node))
    }

    private func readerError() -> RedisClientError {
        let message = withUnsafePointer(to: &reader.pointee.errstr) { pointer in
            pointer.withMemoryRebound(to: CChar.self, capacity: 128) { String(cString: $0) }
        }
        return RedisClientError(.protocolError, "hiredis: \(message)")
    }

    private static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let node = reply.pointee
        switch node.type {
        case REDIS_REPLY_STRING:
            return .bulkString(ByteBuffer(bytes: UnsafeRawBufferPointer(start: node.str, count: node.len)))
        case REDIS_REPLY_STATUS:
            return .simpleString(text(node))
        case REDIS_REPLY_ERROR:
            return .error(RedisServerError(message: text(node)))
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(node.integer))
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            elements.reserveCapacity(node.elements)
            for index in 0..<node.elements {
                if let child = node.element[index] { elements.append(convert(child)) }
            }
            return .array(elements)
        default:
            return .null
        }
    }

    private static func text(_ node: redisReply) -> String {
        String(decoding: UnsafeRawBufferPointer(start: node.str, count: node.len), as: UTF8.self)
    }
}
