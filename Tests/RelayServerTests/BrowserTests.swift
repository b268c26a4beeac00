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
        for node in [nodeA, nodeB] { #expect(try await node.becomesReady(), "node on \(node.port) not ready") }
        // The page opens sockets to its own origin only: one page is served through a balancer, so that it can fail
        // over from node A to node B as a page in production does.
        let balancer = try NginxBalancer(primary: portA, backups: [portB])
        defer { balancer.stop() }

        let artifacts = Self.packageRoot.appendingPathComponent(".build/browser-artifacts")
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        var environment = ProcessInfo.processInfo.environment
        environment["CHATRELAY_NODE_A"] = "http://127.0.0.1:\(portA)"
        environment["CHATRELAY_NODE_B"] = "http://127.0.0.1:\(portB)"
        environment["CHATRELAY_BALANCER"] = balancer.url
        environment["CHATRELAY_NODE_A_PID"] = "\(nodeA.process.processIdentifier)"
        environment["CHATRELAY_ARTIFACTS"] = artifacts.path
        let script = Self.packageRoot.appendingPathComponent("Tests/Browser/chat_page_test.py").path
        let run = try await ProgramRun.run(Self.python, [script], environment: environment)
        let said = run.said
        #expect(run.status == 0, "\(said)")
        #expect(said.contains("shown once and in order on both pages"), "\(said)")
        #expect(said.contains("ok: chatrelay.js"), "\(said)")
        #expect(said.contains("ok: own origin only"), "\(said)")
        for name in ["jeffery-desktop.png", "testuser-phone.png", "jeffery-after-failover.png"] {
            #expect(FileManager.default.fileExists(atPath: artifacts.appendingPathComponent(name).path), "\(name)")
        }
        _ = nodeB
    }

    /// `--auth jwt`: the page's token stays out of URLs, is refreshed in band through `getToken`, is replaced after a
    /// 4001, and an admin's disconnect (4003) ends the page; an unfriended conversation leaves the list and an erased
    /// account's page signs out.
    @Test(.enabled(if: missing == nil, "headless Chromium is not installed: \(missing ?? "")"))
    func thePageRefreshesItsTokenInBandAndReconnectsAfterA4001() async throws {
        let redis = try await RedisServer()
        let port = try FreePort.next()
        let secret = TestCluster.jwtSecret
        let node = try RelayProcess(
            arguments: ["--redis", redis.url, "--jwt-secret", secret, "--admin-token", TestCluster.adminToken, "--log-level", "warning"],
            port: port
        )
        #expect(try await node.becomesReady())
        var environment = ProcessInfo.processInfo.environment
        environment["CHATRELAY_NODE"] = "http://127.0.0.1:\(port)"
        environment["CHATRELAY_JWT_SECRET"] = secret
        environment["CHATRELAY_ADMIN_TOKEN"] = TestCluster.adminToken
        let script = Self.packageRoot.appendingPathComponent("Tests/Browser/token_refresh_test.py").path
        let run = try await ProgramRun.run(Self.python, [script], environment: environment)
        let said = run.said
        #expect(run.status == 0, "\(said)")
        for line in [
            "ok: refreshed in band through getToken", "ok: reconnected after 4001", "ok: 4003 ends the page",
            "ok: unfriended conversation gone", "ok: erased account signed out",
        ] {
            #expect(said.contains(line), "\(said)")
        }
        _ = node
    }
}
