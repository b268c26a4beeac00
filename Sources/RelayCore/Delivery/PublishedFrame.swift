import NIOCore

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A frame as the store script publishes it:
/// `{"id":"ID","friend":"FID",...,"ts":MS}`, on the sender's own channel with `,"origin":"SOCKET"` last.
///
/// Parsed on the bytes: the known fields sit at the two ends, so the cost does not grow with the content.
struct PublishedFrame: Sendable {
    /// The frame to deliver, as the contract shapes it (`origin` cut off); one buffer shared by every socket it
    /// goes to.
    var bytes: ByteBuffer
    var id: StreamID
    var friendship: String
    /// The socket that sent it, which must not get it back.
    var origin: String?

    /// Nil for anything not shaped like a published message.
    init?(_ payload: consuming ByteBuffer) {
        guard let fields = Self.fields(of: payload) else { return nil }
        id = fields.id
        friendship = fields.friendship
        origin = fields.origin
        let brace = fields.brace
        guard brace != payload.writerIndex - 1 else {
            // The recipient's frame: nothing to cut, delivered as it came.
            bytes = payload
            return
        }
        // Cut to shape in place when nobody else holds the buffer and the WebSocket header fits in front (a payload
        // from the Redis client has room there); otherwise copied into a frame buffer.
        var frame = consume payload
        let cut =
            frame.modifyIfUniquelyOwned { buffer -> Bool in
                guard buffer.readerIndex >= FrameBuffer.headerRoom else { return false }
                buffer.setInteger(UInt8(ascii: "}"), at: brace)
                buffer.moveWriterIndex(to: brace + 1)
                return true
            } ?? false
        if !cut {
            var copy = FrameBuffer.allocate(payloadCapacity: brace - frame.readerIndex + 1)
            copy.writeBytes(frame.readableBytesView[frame.readerIndex..<brace])
            copy.writeInteger(UInt8(ascii: "}"))
            frame = copy
        }
        bytes = frame
    }

    /// Where the closing brace stands once trailing fields are cut off (the text is bytes[..<brace] + "}"), and
    /// the known fields. Scans the raw bytes: through `ByteBufferView` this was 6% of a saturated node.
    private static func fields(
        of payload: ByteBuffer
    ) -> (brace: Int, id: StreamID, friendship: String, origin: String?)? {
        payload.withUnsafeReadableBytes { bytes in
            guard bytes.last == UInt8(ascii: "}") else { return nil }
            var brace = bytes.count - 1
            let originRange = trailingField(originMarker, in: bytes, brace: &brace)
            var cursor = 0
            guard let idRange = field(idMarker, in: bytes, at: &cursor),
                let id = StreamID(utf8: UnsafeRawBufferPointer(rebasing: bytes[idRange])),
                let friendshipRange = field(friendMarker, in: bytes, at: &cursor)
            else { return nil }
            let friendship = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[friendshipRange]), as: UTF8.self)
            let origin = originRange.map { String(decoding: UnsafeRawBufferPointer(rebasing: bytes[$0]), as: UTF8.self) }
            return (payload.readerIndex + brace, id, friendship, origin)
        }
    }

    // Built once: the profile had these arrays allocated for every published frame.
    private static let originMarker = Array(#","origin":""#.utf8)
    private static let idMarker = Array(#"{"id":""#.utf8)
    private static let friendMarker = Array(#","friend":""#.utf8)

    /// Takes `,"name":"value"` (`marker` is `,"name":"`) from just before the brace, moving the brace back to where
    /// its comma was; returns where the value is.
    private static func trailingField(_ marker: [UInt8], in bytes: UnsafeRawBufferPointer, brace: inout Int) -> Range<Int>? {
        let quote = UInt8(ascii: "\"")
        guard brace >= 3, bytes[brace - 1] == quote else { return nil }
        var opening = brace - 2
        while opening > 0, bytes[opening] != quote { opening -= 1 }
        let markerStart = opening + 1 - marker.count
        guard markerStart > 0, matches(marker, in: bytes, at: markerStart) else { return nil }
        let value = (opening + 1)..<(brace - 1)
        brace = markerStart
        return value
    }

    /// Reads `marker` then a value up to the next quote, at `cursor`; returns where the value is.
    private static func field(_ marker: [UInt8], in bytes: UnsafeRawBufferPointer, at cursor: inout Int) -> Range<Int>? {
        guard bytes.count - cursor > marker.count, matches(marker, in: bytes, at: cursor) else { return nil }
        let start = cursor + marker.count
        var close = start
        while close < bytes.count, bytes[close] != UInt8(ascii: "\"") { close += 1 }
        guard close < bytes.count else { return nil }
        cursor = close + 1
        return start..<close
    }

    private static func matches(_ marker: [UInt8], in bytes: UnsafeRawBufferPointer, at start: Int) -> Bool {
        guard start >= 0, start + marker.count <= bytes.count else { return false }
        return marker.withUnsafeBytes { memcmp($0.baseAddress!, bytes.baseAddress! + start, marker.count) == 0 }
    }
}
