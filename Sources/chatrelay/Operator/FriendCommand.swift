import ArgumentParser

struct FriendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "friend",
        abstract: "Make two users friends, or unfriend them.",
        subcommands: [Add.self, Remove.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make two users (ids or names) friends.")
        @OptionGroup var node: NodeOptions
        @Argument(help: "One user.") var first: String
        @Argument(help: "The other.") var second: String

        func run() async throws {
            let (a, b) = (try await node.admin.user(first), try await node.admin.user(second))
            let (status, json) = try await node.admin.call("POST", "/api/friendships", body: ["user1": a.id, "user2": b.id])
            guard status == 201 || status == 200, let id = json["id"] as? String else {
                throw OperatorError("befriending \(a.name) and \(b.name)", status: status, json: json)
            }
            if node.json { return JSONLine.print(json) }
            print("\(a.name) and \(b.name) are friends (\(status == 201 ? "new" : "already")): friendship \(id)")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Unfriend two users (ids or names): their history, read marks and cid records go; both are told."
        )
        @OptionGroup var node: NodeOptions
        @Argument(help: "One user.") var first: String
        @Argument(help: "The other.") var second: String

        func run() async throws {
            let id = try await node.admin.friendship("\(first):\(second)")
            let (status, json) = try await node.admin.call("DELETE", "/api/friendships/\(id)")
            guard status == 204 else { throw OperatorError("unfriending \(first) and \(second)", status: status, json: json) }
            node.json ? JSONLine.print(["friend": id, "done": "unfriended"]) : print("unfriended: friendship \(id)")
        }
    }
}
