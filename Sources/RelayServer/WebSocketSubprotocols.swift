import Foundation
import HTTPTypes

/// The subprotocols an upgrade offers (`Sec-WebSocket-Protocol`): browsers cannot set headers on a WebSocket, so
/// `chatrelay.js` offers its token as `chatrelay.token.TOKEN` beside `chatrelay`, which the node selects. The token
/// then stays out of URLs, and so out of access logs and browser history.
struct WebSocketSubprotocols {
    static let selected = "chatrelay"
    static let tokenPrefix = "chatrelay.token."

    let offered: [String]

    init(_ headers: HTTPFields) {
        offered = headers[values: .secWebSocketProtocol].flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
    }

    var token: String? {
        offered.first { $0.hasPrefix(Self.tokenPrefix) }.map { String($0.dropFirst(Self.tokenPrefix.count)) }
    }

    /// The subprotocol the 101 names: `chatrelay` when offered. A client that offers others only gets none, as before.
    var answer: String? {
        offered.contains { $0 == Self.selected } ? Self.selected : nil
    }
}
