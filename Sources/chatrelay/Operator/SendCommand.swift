import ArgumentParser
import ChatClient

struct SendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "send", abstract: "Send a message as a user, and wait for its ack.")
    @OptionGroup var node: NodeOptions
    @OptionGroup var socket: UserSocketOptions
    @Option(name: .customLong("as"), help: "The sender's id or name.") var sender: String
    @Argument(help: "The friendship's id, or two users as A:B.") var friendship: String
    @Argument(help: "The message.") var text: String

    func run() async throws {
        let user = try await node.admin.user(sender)
        let friendshipID = try await node.admin.friendship(friendship)
        let connection = try await socket.connect(as: user.id, node: node)
        let cid = "cli-\(UInt64.random(in: 0...UInt64.max))"
        connection.send(to: friendshipID, content: text, cid: cid)
        defer { Task { await connection.close() } }
        while let answer = await connection.nextJSON(timeout: .seconds(10)) {
            guard answer["cid"] as? String == cid else { continue }
            if answer["op"] as? String == "error" {
                throw OperatorError("refused: \(answer["code"] as? String ?? "error"): \(answer["message"] as? String ?? "")")
            }
            let id = answer["id"] as? String ?? "?"
            node.json ? JSONLine.print(["id": id, "cid": cid, "friend": friendshipID]) : print("stored \(id)")
            await connection.close()
            return
        }
        throw OperatorError("no ack within 10 s")
    }
}
