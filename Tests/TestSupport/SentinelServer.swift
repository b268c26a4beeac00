import Foundation
import NIOCore
import NIOPosix
import RedisClient

/// A real Redis Sentinel (`redis-server CONFIG --sentinel`) on a free loopback port, watching one master, for one test.
public final class SentinelServer: @unchecked Sendable {
    public let port: Int
    private let process: Process
    public let directory: URL

    /// Watches the master at `masterPort` under `name`, with a quorum of `quorum`; declares it down after
    /// `downAfterMilliseconds` without an answer.
    public init(watching masterPort: Int, name: String = "chat", quorum: Int = 2, downAfterMilliseconds: Int = 1000) async throws {
        port = try FreePort.next()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("chatrelay-sentinel-\(port)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        ChildProcesses.scratch(directory)
        // Sentinel rewrites its configuration file, so it must be a file of its own.
        let file = directory.appendingPathComponent("sentinel.conf")
        try """
        port \(port)
        bind 127.0.0.1
        dir \(directory.path)
        logfile ""
        loglevel warning
        sentinel monitor \(name) 127.0.0.1 \(masterPort) \(quorum)
        sentinel down-after-milliseconds \(name) \(downAfterMilliseconds)
        sentinel failover-timeout \(name) 5000
        sentinel parallel-syncs \(name) 2

        """.write(to: file, atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: RedisServer.executable)
        process.arguments = [file.path, "--sentinel"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        ChildProcesses.started(process.processIdentifier)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if (try? await command("PING")) != nil { return }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        throw TestSupportError("redis-server --sentinel did not start on port \(port)")
    }

    deinit {
        stop()
    }

    public var pid: Int32 { process.processIdentifier }

    /// Kills the Sentinel and removes its directory.
    public func stop() {
        ChildProcesses.killAndWait(process.processIdentifier)
        ChildProcesses.discarded(directory)
    }

    public func command(_ arguments: RedisArgument...) async throws -> RedisReply {
        let connection = try await RedisConnection.connect(
            configuration: RedisConfiguration(host: "127.0.0.1", port: port, connectTimeout: .seconds(5), commandTimeout: .seconds(5)),
            eventLoop: MultiThreadedEventLoopGroup.singleton.any()
        )
        defer { Task { await connection.close() } }
        return try await connection.send(arguments).get()
    }

    /// The master's port as this Sentinel names it now.
    public func masterPort(name: String = "chat") async throws -> Int? {
        try await command("SENTINEL", "get-master-addr-by-name", .string(name)).array?.last?.string.flatMap { Int($0) }
    }
}
