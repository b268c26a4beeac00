import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The chat page in headless Chromium (`Tests/Browser/chat_page_test.py`, selenium): two friends on two relay nodes,
/// presence, typing, read marks, history paging, and a node killed under one of the pages.
///
/// Needs Debian's `chromium`, `chromium-driver` and `python3-selenium` (`.ci/run` installs them); skipped, saying so,
/// where they are missing.
@Suite(.takesTurns) struct BrowserTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let python = "/usr/bin/python3"

    /// Why the browser cannot run here, or nil when it can.
    static let missing: String? = {
        for (path, package) in [("/usr/bin/chromium", "chromium"), ("/usr/bin/chromedriver", "chromium-driver"), (python, "python3")]
        where !FileManager.default.isExecutableFile(atPath: path) {
            return "\(path) is missing (apt-get install \(package))"
        }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: python)
        probe.arguments = ["-c", "import selenium"]
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return "\(python) does not start" }
        probe.waitUntilExit()
        return probe.terminationStatus == 0 ? nil : "selenium is missing (apt-get install python3-selenium)"
    }()

    @Test(.enabled(if: missing == nil, "headless Chromium is not installed: \(missing ?? "")"))
    func twoFriendsChatInTwoBrowsersOnTwoNodesAndOneSurvivesItsNodesDeath() async throws {
        let redis = try await RedisServer()
        let (portA, portB) = (try FreePort.next(), try FreePort.next())
        let common = ["--redis", redis.url, "--auth", "none", "--admin-token", "adm", "--heartbeat", "5", "--log-level", "warning"]
        let nodeA = try RelayProcess(arguments: common + ["--node-id", "browser-a"], port: portA)
        let nodeB = try RelayProcess(arguments: common + ["--node-id", "browser-b"], port: portB)
        for port in [portA, portB] { #expect(try await Self.ready(port), "node on \(port) not ready") }

        let artifacts = Self.packageRoot.appendingPathComponent(".build/browser-artifacts")
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        let script = Process()
        script.executableURL = URL(fileURLWithPath: Self.python)
        script.arguments = [Self.packageRoot.appendingPathComponent("Tests/Browser/chat_page_test.py").path]
        var environment = ProcessInfo.processInfo.environment
        environment["CHATRELAY_NODE_A"] = "http://127.0.0.1:\(portA)"
        environment["CHATRELAY_NODE_B"] = "http://127.0.0.1:\(portB)"
        environment["CHATRELAY_NODE_A_PID"] = "\(nodeA.process.processIdentifier)"
        environment["CHATRELAY_ARTIFACTS"] = artifacts.path
        script.environment = environment
        let (output, errors) = (Pipe(), Pipe())
        script.standardOutput = output
        script.standardError = errors
        try script.run()
        ChildProcesses.started(script.processIdentifier)
        let (outputData, errorData) = await OperatorCommandTests.readToEnd(output, errors, of: script)
        let said = String(decoding: outputData, as: UTF8.self) + String(decoding: errorData, as: UTF8.self)
        #expect(script.terminationStatus == 0, "\(said)")
        #expect(said.contains("shown once and in order on both pages"), "\(said)")
        #expect(said.contains("ok: chatrelay.js"), "\(said)")
        for name in ["jeffery-desktop.png", "testuser-phone.png", "jeffery-after-failover.png"] {
            #expect(FileManager.default.fileExists(atPath: artifacts.appendingPathComponent(name).path), "\(name)")
        }
        _ = nodeB
    }

    private static func ready(_ port: Int) async throws -> Bool {
        for _ in 0..<300 {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/readyz")!)
            request.timeoutInterval = 1
            if ((try? await URLSession.shared.data(for: request))?.1 as? HTTPURLResponse)?.statusCode == 200 { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }
}
