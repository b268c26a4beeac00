import ArgumentParser

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Add or show users; end or block their sessions.",
        subcommands: [Add.self, Show.self, Delete.self, Disconnect.self, Block.self, Unblock.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user.")
        @OptionGroup var node: NodeOptions
        @Argument(help: "The user's name (unique).") var name: String
        @Option(help: "The id to give the user (default: a new one).") var id: String?

        func run() async throws {
            var body: [String: Any] = ["name": name]
            if let id { body["id"] = id }
            let (status, json) = try await node.admin.call("POST", "/api/users", body: body)
            guard status == 201, let id = json["id"] as? String else { throw OperatorError("creating \(name)", status: status, json: json) }
            node.json ? JSONLine.print(json) : print("created user \(name)  id \(id)")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a user, by id or name.")
        @OptionGroup var node: NodeOptions
        @Argument(help: "The user's id or name.") var user: String

        func run() async throws {
            let found = try await node.admin.user(user)
            node.json ? JSONLine.print(["id": found.id, "name": found.name]) : print("\(found.name)  id \(found.id)")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Erase a user: every friendship and its history, the name, presence; open sockets close with 4004."
        )
        @OptionGroup var node: NodeOptions
        @Argument(help: "The user's id or name.") var user: String

        func run() async throws {
            // An id no user has any more is erased again: a run cut short left some of it.
            let id = (try? await node.admin.user(user))?.id ?? user
            let (status, json) = try await node.admin.call("DELETE", "/api/users/\(id)")
            guard status == 204 else { throw OperatorError("erasing \(user)", status: status, json: json) }
            node.json ? JSONLine.print(["user": id, "done": "erased"]) : print("erased: \(id)")
        }
    }

    struct Disconnect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close every open socket of a user, on every node (4003); they may connect again.")
        @OptionGroup var node: NodeOptions
        @Argument(help: "The user's id or name.") var user: String

        func run() async throws {
            try await SessionOrder.disconnect.send(for: user, node: node)
        }
    }

    struct Block: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Close a user's sockets everywhere and refuse their upgrades (403) until unblocked."
        )
        @OptionGroup var node: NodeOptions
        @Argument(help: "The user's id or name.") var user: String

        func run() async throws {
            try await SessionOrder.block.send(for: user, node: node)
        }
    }

    struct Unblock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Let a blocked user connect again.")
        @OptionGroup var node: NodeOptions
        @Argument(help: "The user's id or name.") var user: String

        func run() async throws {
            try await SessionOrder.unblock.send(for: user, node: node)
        }
    }
}
