import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import WebSocketWire

/// `websocket-echo [--host H] [--port P] [--max-message BYTES]`: a WebSocket echo server on the relay's own
/// WebSocket code, for `scripts/autobahn.sh`. Not part of `chatrelay serve`; it serves any path.
struct Options {
    var host = "127.0.0.1"
    var port = 9001
    /// Autobahn's section 9 sends messages of up to 16 MiB.
    var maximumMessageBytes = 20 * 1024 * 1024

    init(_ arguments: [String]) throws {
        var rest = arguments.dropFirst()
        while let flag = rest.popFirst() {
            guard let value = rest.popFirst() else { throw UsageError("\(flag) needs a value") }
            switch flag {
            case "--host": host = value
            case "--port": port = try Self.number(value, flag)
            case "--max-message": maximumMessageBytes = try Self.number(value, flag)
            default: throw UsageError("unknown flag \(flag)")
            }
        }
    }

    private static func number(_ text: String, _ flag: String) throws -> Int {
        guard let value = Int(text), value > 0 else { throw UsageError("\(flag) takes a positive whole number, not \(text)") }
        return value
    }
}

struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = "websocket-echo: \(description)" }
}

let options: Options
do {
    options = try Options(CommandLine.arguments)
} catch {
    FileHandle.standardError.write(Data("\(error)\nusage: websocket-echo [--host H] [--port P] [--max-message BYTES]\n".utf8))
    exit(2)
}

let maximumMessageBytes = options.maximumMessageBytes
let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let bootstrap = ServerBootstrap(group: group)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            let upgrader = WebSocketUpgrader<Bool>(
                shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders()) },
                upgradePipeline: { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(EchoHandler(maximumMessageBytes: maximumMessageBytes))
                        return true
                    }
                }
            )
            let upgrades = NIOTypedHTTPServerUpgradeConfiguration<Bool>(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in channel.close().map { false } }
            )
            _ = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(
                configuration: NIOUpgradableHTTPServerPipelineConfiguration(upgradeConfiguration: upgrades)
            )
        }
    }

do {
    let server = try bootstrap.bind(host: options.host, port: options.port).wait()
    print("websocket-echo listening on ws://\(options.host):\(server.localAddress?.port ?? options.port)/")
    try server.closeFuture.wait()
} catch {
    FileHandle.standardError.write(Data("websocket-echo: cannot listen on \(options.host):\(options.port): \(error)\n".utf8))
    exit(1)
}
