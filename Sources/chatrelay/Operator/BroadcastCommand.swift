import ArgumentParser

struct BroadcastCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "broadcast", abstract: "Send a message to every open socket on every node.")
    @OptionGroup var node: NodeOptions
    @Argument(help: "The message.") var text: String
    @Option(help: "text, emoji or file.") var type = "text"

    func run() async throws {
        let (status, json) = try await node.admin.call("POST", "/api/broadcast", body: ["content": text, "type": type])
        guard status == 202 else { throw OperatorError("broadcasting", status: status, json: json) }
        node.json ? JSONLine.print(["status": "accepted"]) : print("broadcast accepted")
    }
}
