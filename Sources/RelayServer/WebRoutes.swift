import HTTPTypes
import Hummingbird
import NIOCore

/// The chat page and the browser client, served from the binary (SwiftPM embeds `Web/` at build time): `/` and its
/// assets, `/chatrelay.js` and `/chatrelay.d.ts`.
struct WebRoutes<Context: RequestContext>: Sendable {
    struct Asset: Sendable {
        let body: ByteBuffer
        let contentType: String
    }

    static var assets: [String: Asset] {
        func asset(_ bytes: [UInt8], _ contentType: String) -> Asset { Asset(body: ByteBuffer(bytes: bytes), contentType: contentType) }
        return [
            "/": asset(PackageResources.index_html, "text/html; charset=utf-8"),
            "/app.js": asset(PackageResources.app_js, "text/javascript; charset=utf-8"),
            "/style.css": asset(PackageResources.style_css, "text/css; charset=utf-8"),
            "/chatrelay.js": asset(PackageResources.chatrelay_js, "text/javascript; charset=utf-8"),
            "/chatrelay.d.ts": asset(PackageResources.chatrelay_d_ts, "application/typescript; charset=utf-8"),
        ]
    }

    /// The page loads its own script and style only, talks to its own origin only (`connect-src 'self'` covers its
    /// sockets), and may not be framed: another site cannot run it, read it or overlay it (clickjacking).
    static var contentSecurityPolicy: String {
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    }

    func register(on router: Router<Context>) {
        for (path, asset) in Self.assets {
            router.get(RouterPath(path)) { _, _ in
                Response(
                    status: .ok,
                    headers: [
                        .contentType: asset.contentType, .cacheControl: "no-cache",
                        .contentSecurityPolicy: Self.contentSecurityPolicy, .xContentTypeOptions: "nosniff",
                        .referrerPolicy: "no-referrer", .xFrameOptions: "DENY",
                    ],
                    body: .init(byteBuffer: asset.body)
                )
            }
        }
    }
}

extension HTTPField.Name {
    static let referrerPolicy = Self("Referrer-Policy")!
    static let xFrameOptions = Self("X-Frame-Options")!
}
