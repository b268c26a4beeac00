import ChatClient
import Foundation
import RedisClient
import TestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The `chatrelay` binary that `swift build` put beside the test bundle.
let chatrelayBinary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("chatrelay").path

/// A `chatrelay serve` child process, its standard error captured.
final class RelayProcess: @unchecked Sendable {
    let process = Process()
    let port: Int
    private let errors = Pipe()

    /// `environment`: the node's variables besides this process's own. `launcher`: a program (with its arguments)
    /// that execs the node, such as `prlimit` to start it under other limits.
    init(arguments: [String], port: Int, environment: [String: String] = [:], launcher: [String] = []) throws {
        self.port = port
        let command = launcher + [chatrelayBinary, "serve", "--port", "\(port)"] + arguments
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        ChildProcesses.started(process.processIdentifier)
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// Waits for the process to end, up to `seconds`; its status, or nil if it is still running.
    func exitStatus(within seconds: Double) async -> Int32? {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// Waits until `/readyz` answers 200, up to `seconds`.
    func becomesReady(within seconds: Double = 30) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/readyz")!)
            request.timeoutInterval = 1
            if ((try? await URLSession.shared.data(for: request))?.1 as? HTTPURLResponse)?.statusCode == 200 { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    var standardError: String {
        String(decoding: errors.fileHandleForReading.availableData, as: UTF8.self)
    }
}

@Suite(.takesTurns) struct ProcessTests {
    @Test func startingWithoutRedisSaysSoInOneLineAndFails() async throws {
        let redisPort = try FreePort.next()
        let node = try RelayProcess(arguments: ["--redis", "redis://127.0.0.1:\(redisPort)/0", "--auth", "none"], port: try FreePort.next())
        let status = await node.exitStatus(within: 10)
        #expect(status != nil && status != 0)
        let lines = node.standardError.split(separator: "\n")
        #expect(lines.count == 1, "\(lines)")
        #expect(lines.first?.contains("redis://127.0.0.1:\(redisPort)/0") == true)
    }

    @Test func missingOrShortJWTSecretRefusesToStart() async throws {
        let redis = try await RedisServer()
        let none = try RelayProcess(arguments: ["--redis", redis.url], port: try FreePort.next())
        #expect(await none.exitStatus(within: 10).map { $0 != 0 } == true)
        #expect(none.standardError.contains("jwt-secret"))
        let short = try RelayProcess(arguments: ["--redis", redis.url, "--jwt-secret", "short"], port: try FreePort.next())
        #expect(await short.exitStatus(within: 10).map { $0 != 0 } == true)
        #expect(short.standardError.contains("32 bytes"))
    }

    @Test func sigtermDrainsWith1001AndExitsZero() async throws {
        let redis = try await RedisServer()
        let port = try FreePort.next()
        let node = try RelayProcess(arguments: ["--redis", redis.url, "--auth", "none", "--admin-token", "adm"], port: port)
        #expect(try await node.becomesReady())
        let sockets = [
            try await ChatConnection.connect(url: "ws://127.0.0.1:\(port)/ws/alice"),
            try await ChatConnection.connect(url: "ws://127.0.0.1:\(port)/ws/bob"),
        ]
        for socket in sockets {
            socket.send(json: ["op": "ping"])
            #expect(await socket.nextJSON()?["op"] as? String == "pong")
        }
        // The process exports Prometheus text, with the open sockets counted.
        let (metrics, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/metrics")!)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        let exported = String(decoding: metrics, as: UTF8.self)
        let openSockets = exported.split(separator: "\n").first { $0.hasPrefix("chatrelay_open_sockets{") }
        #expect(openSockets.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) } == 2, "\(exported)")
        let signalled = ContinuousClock.now
        kill(node.process.processIdentifier, SIGTERM)
        let status = await node.exitStatus(within: 10)
        #expect(status == 0, "exit status \(status.map(String.init) ?? "none: still running")")
        #expect(ContinuousClock.now - signalled < .seconds(10))
        for socket in sockets {
            #expect(try await waitFor { socket.isClosed })
            #expect(socket.closeCode == 1001)
        }
    }
}

func waitFor(seconds: Double = 5, _ condition: () -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while !condition() {
        if ContinuousClock.now >= deadline { return false }
        try await Task.sleep(for: .milliseconds(20))
    }
    return true
}
