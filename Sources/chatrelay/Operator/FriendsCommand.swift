import ArgumentParser

struct FriendsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "friends", abstract: "List a user's friends.")
    @OptionGroup var node: NodeOptions
    @Argument(help: "The user's id or name.") var user: String

    func run() async throws {
        let found = try await node.admin.user(user)
        let (status, json) = try await node.admin.call("GET", "/api/users/\(found.id)/friends")
        guard status == 200 else { throw OperatorError("reading \(found.name)'s friends", status: status, json: json) }
        let friends = json["friends"] as? [[String: Any]] ?? []
        if node.json { return friends.forEach(JSONLine.print) }
        guard !friends.isEmpty else { return print("\(found.name) has no friends yet") }
        for friend in friends {
            let online = (friend["online"] as? Bool).map { $0 ? "  online" : "  offline" } ?? ""
            print(
                "\(friend["name"] as? String ?? "?")  user \(friend["user"] as? String ?? "?")  friendship \(friend["friend"] as? String ?? "?")\(online)"
            )
        }
    }
}
