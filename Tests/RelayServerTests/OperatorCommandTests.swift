import ChatClient
import Foundation
import TestSupport
import Testing

/// `chatrelay user`, `friend`, `friends`, `history`, `send`, `listen` and `broadcast`, run as the operator would
/// run them (the built binary) against a node: what they print for people and for scripts, and their one-line
/// errors with a non-zero exit.
@Suite(.takesTurns) struct OperatorCommandTests {
    /// Runs `chatrelay ARGUMENTS --url NODE` to its end.
    private func chatrelay(_ arguments: [String], node: Int = 0, cluster: TestCluster) async throws -> ProgramRun {
        var environment = ProcessInfo.processInfo.environment
        environment["CHATRELAY_ADMIN_TOKEN"] = TestCluster.adminToken
        return try await ProgramRun.run(
            chatrelayBinary,
            arguments + ["--url", "http://127.0.0.1:\(cluster.port(node))"],
            environment: environment
        )
    }

    @Test func anOperatorSetsUpUsersChatsAndReads() async throws {
        let cluster = try await TestCluster.start(nodes: 2)
        defer { Task { await cluster.stop() } }

        let added = try await chatrelay(["user", "add", "ada"], cluster: cluster)
        #expect(added.status == 0, "\(added.errors)")
        #expect(added.output.hasPrefix("created user ada  id "))
        let bob = try await chatrelay(["user", "add", "bob", "--id", "bob-1", "--json"], cluster: cluster)
        let bobJSON = try JSONSerialization.jsonObject(with: Data(bob.output.utf8)) as? [String: String]
        #expect(bobJSON == ["id": "bob-1", "name": "bob"])

        // Names stand for ids everywhere.
        let shown = try await chatrelay(["user", "show", "ada", "--json"], cluster: cluster)
        let adaID = try #require((try JSONSerialization.jsonObject(with: Data(shown.output.utf8)) as? [String: String])?["id"])
        #expect(try await chatrelay(["user", "show", adaID], cluster: cluster).output == "ada  id \(adaID)\n")
        let friends = try await chatrelay(["friend", "add", "ada", "bob"], cluster: cluster)
        #expect(friends.status == 0 && friends.output.contains("ada and bob are friends (new): friendship "))
        let again = try await chatrelay(["friend", "add", "bob", "ada"], cluster: cluster)
        #expect(again.output.contains("(already)"))
        let list = try await chatrelay(["friends", "bob"], cluster: cluster)
        #expect(list.output.hasPrefix("ada  user \(adaID)  friendship "))
        #expect(list.output.hasSuffix("  offline\n"))
        let words = list.output.split(whereSeparator: \.isWhitespace)
        let friendship = try #require(words.firstIndex(of: "friendship").map { String(words[$0 + 1]) })

        // Bob listens on node 1 while ada sends through node 0; the listener prints the message as it comes.
        let listener = Process()
        listener.executableURL = URL(fileURLWithPath: chatrelayBinary)
        listener.arguments = ["listen", "bob", "--url", "http://127.0.0.1:\(cluster.port(1))"]
        listener.environment = ["CHATRELAY_ADMIN_TOKEN": TestCluster.adminToken]
        let heard = Pipe()
        listener.standardOutput = heard
        listener.standardError = FileHandle.nullDevice
        try listener.run()
        ChildProcesses.started(listener.processIdentifier)
        defer { if listener.isRunning { kill(listener.processIdentifier, SIGKILL) } }
        #expect(await cluster.eventually { cluster.nodes[1].relay.sockets.count == 1 })

        let sent = try await chatrelay(["send", "--as", "ada", "ada:bob", "hello bob"], cluster: cluster)
        #expect(sent.status == 0, "\(sent.errors)")
        let storedID = try #require(sent.output.split(separator: " ").last.map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) })
        #expect(sent.output == "stored \(storedID)\n")
        // Ada's socket coming online is announced to bob first.
        #expect(await Self.firstLine(of: heard) == "presence  \(adaID) online")
        let line = await Self.firstLine(of: heard)
        #expect(line == "\(storedID)  \(adaID) -> bob-1  hello bob")
        kill(listener.processIdentifier, SIGINT)

        let history = try await chatrelay(["history", friendship, "--limit", "10"], cluster: cluster)
        #expect(history.lines == ["\(storedID)  \(adaID) -> bob-1  hello bob"])
        let historyJSON = try await chatrelay(["history", "bob:ada", "--json"], cluster: cluster)
        let message = try JSONSerialization.jsonObject(with: Data(historyJSON.output.utf8)) as? [String: Any]
        #expect(message?["content"] as? String == "hello bob" && message?["id"] as? String == storedID)

        let broadcast = try await chatrelay(["broadcast", "maintenance at noon"], cluster: cluster)
        #expect(broadcast.status == 0 && broadcast.output == "broadcast accepted\n")
    }

    /// Mistakes and refusals: one clear line on standard error, a non-zero exit, nothing on standard output.
    @Test func errorsAreOneLineAndExitNonZero() async throws {
        let cluster = try await TestCluster.start(nodes: 1)
        defer { Task { await cluster.stop() } }
        _ = try await chatrelay(["user", "add", "ada"], cluster: cluster)
        let cases: [([String], String)] = [
            (["user", "show", "nobody"], "no user with the id or name nobody"),
            (["user", "add", "ada"], "HTTP 409"),
            (["user", "add", "bad name"], "HTTP 400"),
            (["friend", "add", "ada", "nobody"], "no user with the id or name nobody"),
            (["history", "ada:ada"], "ada and ada are not friends"),
            (["send", "--as", "ada", "nofriendship", "hi"], "refused: not_friends"),
        ]
        for (arguments, expected) in cases {
            let run = try await chatrelay(arguments, cluster: cluster)
            #expect(run.status != 0, "\(arguments)")
            #expect(run.output.isEmpty, "\(arguments): \(run.output)")
            let errorLines = run.errors.split(separator: "\n")
            #expect(errorLines.count == 1 && run.errors.contains(expected), "\(arguments): \(run.errors)")
        }
        // A node that is not there.
        let port = try FreePort.next()
        let absent = try await ProgramRun.run(chatrelayBinary, ["user", "show", "ada", "--url", "http://127.0.0.1:\(port)"])
        #expect(absent.status != 0)
        #expect(absent.errors.contains("cannot reach"))
    }

    /// `user disconnect`, `block` and `unblock`, by name, against a node under `--auth jwt`.
    @Test func anOperatorEndsAndBlocksAUsersSessions() async throws {
        let cluster = try await TestCluster.start(nodes: 2, auth: .jwt)
        defer { Task { await cluster.stop() } }
        let added = try await chatrelay(["user", "add", "eve", "--id", "eve-1"], cluster: cluster)
        #expect(added.status == 0, "\(added.errors)")
        let socket = try await cluster.connectOpen("eve-1", node: 1)
        let disconnected = try await chatrelay(["user", "disconnect", "eve"], cluster: cluster)
        #expect(disconnected.output == "disconnect: eve-1\n", "\(disconnected.errors)")
        #expect(await cluster.eventually { socket.isClosed })
        #expect(socket.closeCode == 4003)

        #expect(try await chatrelay(["user", "block", "eve", "--json"], cluster: cluster).output == #"{"done":"block","user":"eve-1"}"# + "\n")
        #expect(try await cluster.upgradeStatus("/ws", node: 1, headers: ["Authorization": "Bearer \(try await cluster.token(for: "eve-1"))"]) == 403)
        // An id no registered user has is taken as it is: a user of an identity provider.
        #expect(try await chatrelay(["user", "block", "idp-user-7"], cluster: cluster).status == 0)
        #expect(try await cluster.redis.command("EXISTS", "chat:blocked:{idp-user-7}") == .integer(1))
        #expect(try await chatrelay(["user", "unblock", "eve"], cluster: cluster).status == 0)
        #expect(try await cluster.upgradeStatus("/ws", node: 1, headers: ["Authorization": "Bearer \(try await cluster.token(for: "eve-1"))"]) == 101)
        // A wrong admin token is a clear one-line error.
        let refused = try await ProgramRun.run(
            chatrelayBinary,
            ["user", "block", "eve", "--url", "http://127.0.0.1:\(cluster.port(0))", "--admin-token", "wrong"]
        )
        #expect(refused.status != 0 && refused.errors.split(separator: "\n").count == 1)
    }

    /// `friend remove`, `user delete` and `redis memory`, by name.
    @Test func anOperatorUnfriendsErasesAndReadsRedisMemory() async throws {
        let cluster = try await TestCluster.start(nodes: 1)
        defer { Task { await cluster.stop() } }
        let (ada, _, friendship) = try await cluster.makeFriends("ada", "bob")
        let socket = try await cluster.connectOpen(ada, node: 0)
        _ = await socket.sendUntilAcked(friendship: friendship, content: "hello", cid: "1")

        let memory = try await chatrelay(["redis", "memory"], cluster: cluster)
        #expect(memory.status == 0, "\(memory.errors)")
        #expect(memory.lines.first?.hasPrefix("redis  used ") == true, "\(memory.output)")
        #expect(memory.output.contains("history  1 friendships, about "), "\(memory.output)")
        #expect(memory.output.contains("  \(friendship)  "), "\(memory.output)")

        let removed = try await chatrelay(["friend", "remove", "ada", "bob"], cluster: cluster)
        #expect(removed.output == "unfriended: friendship \(friendship)\n", "\(removed.errors)")
        #expect(await socket.next(where: { $0["op"] as? String == "unfriended" }) != nil)
        let again = try await chatrelay(["friend", "remove", "ada", "bob"], cluster: cluster)
        #expect(again.status != 0 && again.errors.contains("are not friends"), "\(again.errors)")

        let erased = try await chatrelay(["user", "delete", "ada", "--json"], cluster: cluster)
        #expect(erased.output == #"{"done":"erased","user":"\#(ada)"}"# + "\n", "\(erased.errors)")
        #expect(await cluster.eventually { socket.isClosed })
        #expect(socket.closeCode == 4004)
        #expect(try await chatrelay(["user", "show", "ada"], cluster: cluster).status != 0)
    }

    /// The first line a process writes, or nil within 10 s.
    private static func firstLine(of pipe: Pipe) async -> String? {
        let handle = pipe.fileHandleForReading
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var bytes: [UInt8] = []
                while true {
                    let chunk = handle.readData(ofLength: 1)
                    guard let byte = chunk.first else { return continuation.resume(returning: nil) }
                    if byte == UInt8(ascii: "\n") { return continuation.resume(returning: String(decoding: bytes, as: UTF8.self)) }
                    bytes.append(byte)
                }
            }
        }
    }
}

extension ProgramRun {
    var lines: [String] { output.split(separator: "\n").map(String.init) }
}
