import Foundation
import NIOCore

/// A frame as the store script publishes it: on the sender's own channel it ends with `,"origin":"SOCKET"}`.
struct PublishedFrame {
    /// The frame to deliver, with any `origin` field cut off.
    var text: String
    /// The socket that sent it, which must not get it back.
    var origin: Substring?

    private static let marker = #","origin":""#

    init(_ payload: ByteBuffer) {
        let raw = String(buffer: payload)
        guard raw.hasSuffix("\"}"), let range = raw.range(of: Self.marker, options: .backwards) else {
            text = raw
            origin = nil
            return
        }
        origin = raw[range.upperBound..<raw.index(raw.endIndex, offsetBy: -2)]
        text = String(raw[..<range.lowerBound]) + "}"
    }
}
