import ArgumentParser
import Foundation
import LoadGenerator
import RelayCore

/// `chatrelay bench`: the project's load generator, for measuring a deployment.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Load running nodes with friend pairs across nodes (or idle sockets) and report throughput, latency and loss.",
        discussion: """
            Chat mode creates pairs of users through the admin API, puts the two members of each pair on different \
            nodes and has them send for --duration seconds, at --rate messages per second each, or with --window \
            unacknowledged messages each when --rate is 0. It reports delivered messages per second, delivery and \
            ack latency percentiles, and counts of lost (acked, never delivered), duplicated and reordered messages.
            Idle mode (--idle N) holds N idle sockets; with --server-pid it reads the node's memory per socket and \
            idle CPU (its own and the kernel's) from /proc, over the hold less 2 s of settling: hold for whole \
            heartbeat periods plus 2 s (--duration 42 with a 10 s heartbeat), as each period pings every socket once.
            """
    )

    @Option(help: "Comma-separated WebSocket base URLs of the nodes (ws://host:port).") var urls: String = "ws://127.0.0.1:4000"
    @Option(help: "Friend pairs.") var pairs: Int = 50
    @Option(help: "Messages per second per sender; 0 for window mode.") var rate: Double = 10
    @Option(help: "Unacknowledged messages in flight per sender (window mode).") var window: Int = 8
    @Flag(inversion: .prefixedNo, help: "Both members of a pair send.") var both: Bool = true
    @Option(help: "Seconds of sending (or of holding idle sockets).") var duration: Double = 10
    @Option(help: "Seconds at the start that are sent but not measured.") var warmup: Double = 2
    @Option(help: "Content bytes per message.") var size: Int = 64
    @Option(name: .customLong("admin-token"), help: "Bearer token of the admin API (CHATRELAY_ADMIN_TOKEN).") var adminToken: String?
    @Option(name: .customLong("jwt-secret"), help: "Mint user tokens with this secret, for nodes running --auth jwt (CHATRELAY_JWT_SECRET).")
    var jwtSecret: String?
    @Option(name: .customLong("jwt-private-key"), help: "Mint user tokens with this PEM private key (RS256, ES256 or EdDSA) instead.")
    var jwtPrivateKey: String?
    @Option(help: "Idle mode: hold this many idle sockets instead of chatting.") var idle: Int?
    @Option(name: .customLong("server-pid"), help: "Idle mode: the node's pid, to read its RSS and CPU from /proc.") var serverPID: Int32?
    @Flag(help: "Print one JSON line instead of the summary.") var json = false

    func run() async throws {
        let nodeURLs = urls.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        let secret = jwtSecret ?? Environment.value("CHATRELAY_JWT_SECRET")
        var token: (@Sendable (String) async throws -> String)?
        if let jwtPrivateKey {
            let authority = try await TokenAuthority(privateKeyPEM: try String(contentsOfFile: jwtPrivateKey, encoding: .utf8))
            token = { user in try await authority.issue(userID: user, ttl: 3600) }
        } else if let secret {
            let authority = try await TokenAuthority(secret: secret)
            token = { user in try await authority.issue(userID: user, ttl: 3600) }
        }
        if let idle {
            var options = IdleLoadOptions(urls: nodeURLs)
            options.connections = idle
            options.duration = duration
            options.serverPID = serverPID
            options.token = token
            let report = try await IdleLoad.run(options)
            print(json ? report.json : report.summary)
            return
        }
        var options = ChatLoadOptions(urls: nodeURLs)
        options.pairs = pairs
        options.rate = rate
        options.window = window
        options.both = both
        options.duration = duration
        options.warmup = min(warmup, duration)
        options.size = size
        options.adminToken = adminToken ?? Environment.value("CHATRELAY_ADMIN_TOKEN")
        options.token = token
        let report = try await ChatLoad.run(options)
        print(json ? report.json : report.summary)
        if report.lost > 0 || report.duplicated > 0 || report.reordered > 0 { throw ExitCode(3) }
    }
}
