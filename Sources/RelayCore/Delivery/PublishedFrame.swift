import NIOCore

/// A frame as the store script publishes it:
/// `{"id":"ID","friend":"FID",...,"ts":MS,"prev":"PREV"}`, on the sender's own channel with `,"origin":"SOCKET"` last.
///
/// Parsed on the bytes: the known fields sit at the two ends, so the cost does not grow with the content.
struct PublishedFrame: Sendable {
    /// The frame to deliver, as the contract shapes it (`prev` and `origin` cut off); one buffer shared by every
    /// socket it goes to.
    var bytes: ByteBuffer
    var id: StreamID
    var friendship: String
    /// The friendship's entry before this one.
    var previous: StreamID
    /// The socket that sent it, which must not get it back.
    var origin: String?

    /// Nil for anything not shaped like a published message.
    init?(_ payload: consuming ByteBuffer) {
        guard let fields = Self.fields(of: payload) else { return nil }
        id = fields.id
        previous = fields.previous
        friendship = fields.friendship
        origin = fields.origin
        let brace = fields.brace
        // Cut to shape in place when nobody else holds the buffer and the WebSocket header fits in front (a payload
        // from the Redis client has room there); otherwise copied into a frame buffer.
        var frame = payload
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
    /// the known fields.
    private static func fields(
        of payload: ByteBuffer
    ) -> (brace: Int, id: StreamID, previous: StreamID, friendship: String, origin: String?)? {
        let bytes = payload.readableBytesView
        guard bytes.last == UInt8(ascii: "}") else { return nil }
        var brace = bytes.endIndex - 1
        let originValue = Self.trailingField(Self.originMarker, in: bytes, brace: &brace)
        guard let previousValue = Self.trailingField(Self.previousMarker, in: bytes, brace: &brace),
            let previous = StreamID(utf8: previousValue)
        else { return nil }
        var cursor = bytes.startIndex
        guard let idValue = Self.field(Self.idMarker, in: bytes, at: &cursor), let id = StreamID(utf8: idValue),
            let friendship = Self.field(Self.friendMarker, in: bytes, at: &cursor)
        else { return nil }
        return (brace, id, previous, String(decoding: friendship, as: UTF8.self), originValue.map { String(decoding: $0, as: UTF8.self) })
    }

    // Built once: the profile had these arrays allocated for every published frame.
    private static let originMarker = Array(#","origin":""#.utf8)
    private static let previousMarker = Array(#","prev":""#.utf8)
    private static let idMarker = Array(#"{"id":""#.utf8)
    private static let friendMarker = Array(#","friend":""#.utf8)

    /// Takes `,"name":"value"` (`marker` is `,"name":"`) from just before the brace, moving the brace back to where
    /// its comma was.
    private static func trailingField(_ marker: [UInt8], in bytes: ByteBufferView, brace: inout Int) -> ByteBufferView.SubSequence? {
        let quote = UInt8(ascii: "\"")
        guard brace - bytes.startIndex >= 3, bytes[brace - 1] == quote else { return nil }
        var opening = brace - 2
        while opening > bytes.startIndex, bytes[opening] != quote { opening -= 1 }
        let markerStart = opening + 1 - marker.count
        guard markerStart > bytes.startIndex, bytes[markerStart...opening].elementsEqual(marker) else { return nil }
        let value = bytes[(opening + 1)..<(brace - 1)]
        brace = markerStart
        return value
    }

    /// Reads `marker` then a value up to the next quote, at `cursor`.
    private static func field(_ marker: [UInt8], in bytes: ByteBufferView, at cursor: inout Int) -> ByteBufferView.SubSequence? {
        guard bytes.endIndex - cursor > marker.count, bytes[cursor..<(cursor + marker.count)].elementsEqual(marker) else { return nil }
        let start = cursor + marker.count
        guard let close = bytes[start...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
        cursor = close + 1
        return bytes[start..<close]
    }
}
