import ArgumentParser

struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "history", abstract: "Print a friendship's messages, oldest first.")
    @OptionGroup var node: NodeOptions
    @Argument(help: "The friendship's id, or two users as A:B.") var friendship: String
    @Option(help: "How many (at most 500).") var limit = 50
    @Option(help: "Only messages before this id.") var before: String?

    func run() async throws {
        let id = try await node.admin.friendship(friendship)
        var path = "/api/friendships/\(id)/messages?limit=\(limit)"
        if let before { path += "&before=\(before)" }
        let (status, json) = try await node.admin.call("GET", path)
        guard status == 200 else { throw OperatorError("reading \(friendship)'s history", status: status, json: json) }
        let messages = json["messages"] as? [[String: Any]] ?? []
        if node.json { return messages.forEach(JSONLine.print) }
        for message in messages { print(Self.line(message)) }
    }

    /// `ID  FROM -> TO  [TYPE]  CONTENT`, for people.
    static func line(_ message: [String: Any]) -> String {
        let type = message["type"] as? String ?? "text"
        let from = message["from"] as? String ?? "?"
        let to = message["to"] as? String ?? "?"
        return "\(message["id"] as? String ?? "?")  \(from) -> \(to)  \(type == "text" ? "" : "[\(type)] ")\(message["content"] as? String ?? "")"
    }
}
