import Foundation
import NIOCore
import NIOPosix
import RedisClient

/// A real `redis-server` on a free loopback port, started for one test and stopped after it.
///
/// It can be killed and started again on the same port, to test what clients do through an outage.
public final class RedisServer: @unchecked Sendable {
    public let port: Int
    public let extraArguments: [String]
    private let lock = NSLock()
    private var process: Process?
    public let directory: URL

    public var url: String { "redis://127.0.0.1:\(port)/0" }

    public var configuration: RedisConfiguration {
        RedisConfiguration(
            host: "127.0.0.1",
            port: port,
            password: Self.password(in: extraArguments),
            // Generous: a 2-core machine running every suite at once can stall a loopback connect for seconds.
            connectTimeout: .seconds(10),
            commandTimeout: .seconds(10)
        )
    }

    public init(port: Int? = nil, arguments: [String] = []) async throws {
        self.port = try port ?? FreePort.next()
        self.extraArguments = arguments
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("chatrelay-redis-\(self.port)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        ChildProcesses.scratch(directory)
        try await start()
    }

    deinit {
        stop()
    }

    /// The running server's process id; nil while it is stopped.
    public var pid: Int32? { lock.withLock { process?.processIdentifier } }

    /// Starts the server (again) on its port and waits until it answers.
    public func start() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments =
            [
                "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", directory.path, "--logfile", "", "--loglevel", "warning", "--daemonize", "no",
            ] + extraArguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        ChildProcesses.started(process.processIdentifier)
        lock.withLock { self.process = process }
        try await waitUntilListening()
    }

    /// Stops the server at once, like a crash: no shutdown save, connections cut.
    public func kill() {
        let process = lock.withLock { () -> Process? in
            defer { self.process = nil }
            return self.process
        }
        guard let process else { return }
        // SIGKILL, not SIGTERM: children of the test process inherit its blocked signal mask.
        ChildProcesses.killAndWait(process.processIdentifier)
    }

    /// Kills the server for good and removes its directory: nothing of it outlives the test.
    public func stop() {
        kill()
        ChildProcesses.discarded(directory)
    }

    /// Sends `signal` to the server: `SIGSTOP` freezes it without closing its connections, `SIGCONT` resumes it.
    public func send(signal: Int32) {
        guard let process = lock.withLock({ self.process }) else { return }
        Foundation.kill(process.processIdentifier, signal)
    }

    /// Runs one command on a fresh connection; for test set-up and assertions.
    public func command(_ arguments: RedisArgument...) async throws -> RedisReply {
        try await command(arguments)
    }

    public func command(_ arguments: [RedisArgument]) async throws -> RedisReply {
        let connection = try await RedisConnection.connect(
            configuration: configuration,
            eventLoop: MultiThreadedEventLoopGroup.singleton.any()
        )
        defer { Task { await connection.close() } }
        return try await connection.send(arguments).get()
    }

    /// Up to 30 s: a 2-core machine running every suite at once (and CI beside it) can take that long to start one.
    private func waitUntilListening() async throws {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if (try? await rawPing()) == true { return }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        throw TestSupportError("redis-server did not start on port \(port)")
    }

    private func rawPing() async throws -> Bool {
        let connection = try await RedisConnection.connect(configuration: configuration, eventLoop: MultiThreadedEventLoopGroup.singleton.any())
        await connection.close()
        return true
    }

    private static func password(in arguments: [String]) -> String? {
        guard let index = arguments.firstIndex(of: "--requirepass"), index + 1 < arguments.count else { return nil }
        return arguments[index + 1]
    }

    static let executable: String = {
        for candidate in ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return "redis-server"
    }()
}

public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
