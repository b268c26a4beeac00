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

    func register(on router: Router<Context>) {
        for (path, asset) in Self.assets {
            router.get(RouterPath(path)) { _, _ in
                Response(
                    status: .ok,
                    headers: [.contentType: asset.contentType, .cacheControl: "no-cache"],
                    body: .init(byteBuffer: asset.body)
                )
            }
        }
    }
}
