import Foundation
import RelayCore
import RelayServer
import Testing

/// `chatrelay serve`'s settings come from one table: flags over variables over defaults, read once.
@Suite struct ServeSettingsTests {
    @Test func withNothingGivenTheDefaultsAreTheRelaysOwn() throws {
        let options = try ServeOptions(ServeFlags(), environment: [:])
        let defaults = RelayConfiguration()
        #expect(options.relay.redisURL == defaults.redisURL)
        #expect(options.relay.prefix == defaults.prefix)
        #expect(options.relay.auth == defaults.auth)
        #expect(options.relay.heartbeat == defaults.heartbeat)
        #expect(options.relay.rate == defaults.rate)
        #expect(options.relay.burst == defaults.burst)
        #expect(options.relay.maximumContentBytes == defaults.maximumContentBytes)
        #expect(options.relay.maximumFrameBytes == defaults.maximumFrameBytes)
        #expect(options.relay.maximumQueuedFrames == defaults.maximumQueuedFrames)
        #expect(options.relay.maximumQueuedBytes == defaults.maximumQueuedBytes)
        #expect(options.relay.jwtSecret == nil && options.relay.adminToken == nil)
        #expect(options.relay.nodeID.hasSuffix("-\(ProcessInfo.processInfo.processIdentifier)"))
        #expect((options.host, options.port, options.threads, options.logLevel) == ("127.0.0.1", 4000, 1, .notice))
    }

    @Test func aFlagWinsOverItsVariableWhichWinsOverTheDefault() throws {
        var flags = ServeFlags()
        flags.port = 4100
        let environment = ["CHATRELAY_PORT": "4200", "CHATRELAY_HEARTBEAT": "2.5", "CHATRELAY_AUTH": "none", "CHATRELAY_PREFIX": ""]
        let options = try ServeOptions(flags, environment: environment)
        #expect(options.port == 4100)
        #expect(options.relay.heartbeat == 2.5)
        #expect(options.relay.auth == .none)
        // An empty variable counts as unset.
        #expect(options.relay.prefix == "chat")
    }

    @Test func aVariableThatDoesNotParseIsAnErrorNamingIt() {
        for (variable, value) in [("CHATRELAY_PORT", "forty"), ("CHATRELAY_HEARTBEAT", "soon"), ("CHATRELAY_AUTH", "maybe")] {
            #expect(throws: ServeSettingError.self, "\(variable)=\(value)") { try ServeOptions(ServeFlags(), environment: [variable: value]) }
            do {
                _ = try ServeOptions(ServeFlags(), environment: [variable: value])
            } catch {
                #expect("\(error)".contains(value), "\(error)")
            }
        }
        var flags = ServeFlags()
        flags.heartbeat = 0
        #expect(throws: ServeSettingError.self) { try ServeOptions(flags, environment: [:]) }
    }

    /// The README's configuration table is the table `--help` is made from, word for word.
    @Test func theReadmeShowsTheSettingsTable() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.contains(ServeSettings.markdownTable), "README.md's configuration table differs; paste ServeSettings.markdownTable")
        #expect(Set(ServeSettings.all.map(\.flag)).count == ServeSettings.all.count)
    }

    /// The README's architecture table names every folder of `Sources`, so that it cannot fall behind the code.
    @Test func theReadmeArchitectureTableNamesEverySourceFolder() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let folders = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("Sources").path)
        #expect(!folders.isEmpty)
        for folder in folders {
            #expect(readme.contains("| `Sources/\(folder)` |"), "README.md's architecture table lacks Sources/\(folder)")
        }
    }
}
