import ArgumentParser
import ChatClient

/// How an operator command reaches a node: its URL, the admin token, and whether to print JSON.
struct NodeOptions: ParsableArguments {
    @Option(help: "A node's base URL.") var url = "http://127.0.0.1:4000"
    @Option(name: .customLong("admin-token"), help: "The admin API's bearer token (CHATRELAY_ADMIN_TOKEN).")
    var adminToken: String?
    @Flag(help: "Print JSON, one object or line per result, for scripts.") var json = false

    var admin: AdminClient {
        AdminClient(baseURL: url, token: adminToken ?? Environment.value("CHATRELAY_ADMIN_TOKEN"))
    }

    /// The node's WebSocket URL for `path` (`ws://` for `http://`, `wss://` for `https://`).
    func webSocketURL(_ path: String) -> String {
        let base = url.hasSuffix("/") ? String(url.dropLast()) : url
        if base.hasPrefix("https://") { return "wss://" + base.dropFirst("https://".count) + path }
        if base.hasPrefix("http://") { return "ws://" + base.dropFirst("http://".count) + path }
        return base + path
    }
}
