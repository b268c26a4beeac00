import NIOCore
import NIOWebSocket

/// RFC 6455's rules for a close frame a peer sends (§5.5.1, §7.4): which code the answering close carries.
///
/// A valid close is echoed (the RFC's "typically echoes the status code it received"); an empty one is answered 1000.
/// A broken one is answered 1002, or 1007 when only its reason is not UTF-8. Codes that must never be sent on the
/// wire (1005, 1006, 1015) and codes nobody registered are broken, so the answer is never one of them.
public enum PeerClose {
    /// The code to answer a close frame whose unmasked payload is `payload`.
    public static func answer(to payload: ByteBuffer) -> UInt16 {
        var payload = payload
        guard payload.readableBytes > 0 else { return UInt16(webSocketErrorCode: .normalClosure) }
        // A payload of one byte cannot hold a code: broken framing of the close (Autobahn 7.3.2).
        guard let code = payload.readInteger(as: UInt16.self) else { return UInt16(webSocketErrorCode: .protocolError) }
        guard isValidReceived(code) else { return UInt16(webSocketErrorCode: .protocolError) }
        let reasonIsText = payload.withUnsafeReadableBytes { UTF8Check.isValid($0) }
        guard reasonIsText else { return UInt16(webSocketErrorCode: .dataInconsistentWithMessage) }
        return code
    }

    /// True for a code a peer may send: 1000 to 1003, 1007 to 1014 (1012 to 1014 are in IANA's registry since the
    /// RFC), and the ranges for libraries (3000 to 3999) and private use (4000 to 4999).
    public static func isValidReceived(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }
}
