import ChatClient

/// Finding users and friendships by what an operator types: an id, or a user's name.
extension AdminClient {
    /// The user `idOrName` names: by id first, then by name.
    func user(_ idOrName: String) async throws -> (id: String, name: String) {
        for path in ["/api/users/", "/api/usernames/"] {
            let (status, json) = try await call("GET", path + idOrName)
            if status == 200, let id = json["id"] as? String, let name = json["name"] as? String { return (id, name) }
            guard status == 404 else { throw OperatorError("looking up \(idOrName)", status: status, json: json) }
        }
        throw OperatorError("no user with the id or name \(idOrName)")
    }

    /// A friendship's id from its id, or from `A:B` (two users, by id or name).
    func friendship(_ text: String) async throws -> String {
        let users = text.split(separator: ":", omittingEmptySubsequences: false)
        guard users.count == 2 else { return text }
        let (first, second) = (try await user(String(users[0])), try await user(String(users[1])))
        let (status, json) = try await call("GET", "/api/users/\(first.id)/friends")
        guard status == 200 else { throw OperatorError("reading \(first.name)'s friends", status: status, json: json) }
        let friends = json["friends"] as? [[String: Any]] ?? []
        guard let id = friends.first(where: { $0["user"] as? String == second.id })?["friend"] as? String else {
            throw OperatorError("\(first.name) and \(second.name) are not friends")
        }
        return id
    }
}
