import Foundation
import HTTPTypes
import Hummingbird

/// Which pages may open sockets (Cross-Site WebSocket Hijacking): an upgrade that carries `Origin` must name the node's
/// own origin, the scheme and host the request reached it by (as the balancer forwards them), or one of
/// `--allowed-origins`. An upgrade without `Origin` does not come from a browser page and is not checked; nor does one
/// whose `Origin` is a `ws:` or `wss:` URL, which no browser sends (its pages' origins are `http`, `https` or `null`)
/// and which non-browser clients such as swift-websocket's do send, naming the host without its port. A program can
/// send any `Origin` it likes, so checking theirs would protect nobody.
struct OriginPolicy: Sendable {
    /// Lower-cased, without a trailing slash.
    private let allowed: Set<String>
    private let allowsAny: Bool

    init(allowedOrigins: [String]) {
        let normalized = allowedOrigins.map(Self.normalized).filter { !$0.isEmpty }
        allowsAny = normalized.contains("*")
        allowed = Set(normalized)
    }

    func permits(_ request: Request) -> Bool {
        guard let origin = request.headers[.origin] else { return true }
        if allowsAny { return true }
        let presented = Self.normalized(origin)
        if presented.hasPrefix("ws://") || presented.hasPrefix("wss://") { return true }
        if allowed.contains(presented) { return true }
        return Self.ownOrigin(of: request).map { $0 == presented } ?? false
    }

    /// The origin the client addressed: `X-Forwarded-Proto` and `X-Forwarded-Host` (the first of each list) when a
    /// balancer set them, else `http` (the node itself speaks no TLS) and `Host`.
    static func ownOrigin(of request: Request) -> String? {
        func first(_ field: HTTPField.Name) -> String? {
            request.headers[field].flatMap { $0.split(separator: ",").first }.map { $0.trimmingCharacters(in: .whitespaces) }
        }
        let scheme = first(.forwardedProto) ?? "http"
        guard let host = first(.forwardedHost) ?? request.head.authority else { return nil }
        return normalized("\(scheme)://\(host)")
    }

    private static func normalized(_ origin: String) -> String {
        var text = origin.trimmingCharacters(in: .whitespaces).lowercased()
        while text.hasSuffix("/") { text.removeLast() }
        // A default port is the same origin without it.
        if text.hasPrefix("http://"), text.hasSuffix(":80") { text.removeLast(3) }
        if text.hasPrefix("https://"), text.hasSuffix(":443") { text.removeLast(4) }
        return text
    }
}

extension HTTPField.Name {
    static let forwardedProto = Self("X-Forwarded-Proto")!
    static let forwardedHost = Self("X-Forwarded-Host")!
}
