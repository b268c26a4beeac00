import ChatProtocol
import NIOCore

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A delivered-message frame as the store script publishes it on both users' channels,
/// `{"id":"ID","friend":"FID","from":"USER",...,"ts":MS}`, or as a gap fill reads it from the stream.
///
/// Parsed on the bytes: the known fields sit at the front, so the cost does not grow with the content.
struct PublishedMessage: Sendable {
    /// The frame to deliver, exactly as published; one buffer shared by every socket it goes to.
    var bytes: ByteBuffer
    var id: StreamID
    var friendship: String
    /// Sent by the user whose channel carried it: possibly by the very socket it is about to reach, which must not
    /// get its own message back (``SocketFeed`` tells which from the socket's store replies).
    var isOwn: Bool
    /// Read from the stream by a gap fill, not published live.
    var fromFill = false
    /// On a cluster, the friendship's entry before this one (``MessageLayout/prevOpen``): a socket that has not
    /// reached it misses a message and reads the stream first.
    var previous: StreamID?

    /// Nil for anything not shaped like a published message. `owner` is the user of the channel it came on.
    init?(_ payload: consuming ByteBuffer, owner: String) {
        guard let fields = Self.fields(of: payload, owner: owner) else { return nil }
        id = fields.id
        friendship = fields.friendship
        isOwn = fields.isOwn
        previous = fields.previous
        bytes = payload
    }

    /// A stored message read back by a gap fill, shaped as its live frame would have been.
    init?(_ message: StoredMessage, owner: String) {
        guard let id = StreamID(message.id) else { return nil }
        let text = ServerMessage.message(message)
        var frame = FrameBuffer.allocate(payloadCapacity: text.utf8.count)
        frame.writeString(text)
        self.bytes = frame
        self.id = id
        self.friendship = message.friendship
        self.isOwn = message.from == owner
        self.fromFill = true
    }

    /// Scans the raw bytes: through `ByteBufferView` this was 6% of a saturated node.
    private static func fields(
        of payload: ByteBuffer,
        owner: String
    ) -> (id: StreamID, friendship: String, isOwn: Bool, previous: StreamID?)? {
        payload.withUnsafeReadableBytes { bytes in
            guard bytes.last == UInt8(ascii: "}") else { return nil }
            var cursor = 0
            guard let idRange = field(idMarker, in: bytes, at: &cursor),
                let id = StreamID(utf8: UnsafeRawBufferPointer(rebasing: bytes[idRange])),
                let friendshipRange = field(friendMarker, in: bytes, at: &cursor),
                let fromRange = field(fromMarker, in: bytes, at: &cursor)
            else { return nil }
            let friendship = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[friendshipRange]), as: UTF8.self)
            let isOwn = owner.utf8.elementsEqual(UnsafeRawBufferPointer(rebasing: bytes[fromRange]))
            return (id, friendship, isOwn, previous(in: bytes))
        }
    }

    /// The id in a closing `,"prev":"ID"}`; the content lies before it, so what ends the frame cannot be content.
    private static func previous(in bytes: UnsafeRawBufferPointer) -> StreamID? {
        let end = bytes.count - 2
        guard end > prevMarker.count, bytes[end] == UInt8(ascii: "\"") else { return nil }
        var open = end - 1
        while open > 0, bytes[open] != UInt8(ascii: "\"") { open -= 1 }
        guard matches(prevMarker, in: bytes, at: open + 1 - prevMarker.count) else { return nil }
        return StreamID(utf8: UnsafeRawBufferPointer(rebasing: bytes[(open + 1)..<end]))
    }

    // Built once: the profile had these arrays allocated for every published frame. Each value is read up to its
    // closing quote, so the next marker starts after it.
    private static let idMarker = Array(MessageLayout.idOpen.utf8)
    private static let friendMarker = Array((MessageLayout.idClose + MessageLayout.friendOpen).utf8.dropFirst())
    private static let fromMarker = Array(MessageLayout.fromOpen.utf8.dropFirst())
    private static let prevMarker = Array(MessageLayout.prevOpen.utf8)

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
