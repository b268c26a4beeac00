/// What `chatrelay user disconnect|block|unblock` asks a node, as the admin API names it.
enum SessionOrder: String {
    case disconnect
    case block
    case unblock

    private var route: (method: String, suffix: String) {
        switch self {
        case .disconnect: ("POST", "disconnect")
        case .block: ("PUT", "block")
        case .unblock: ("DELETE", "block")
        }
    }

    /// A registered user is found by id or name; an id that no user has is taken as it is, since users of an identity
    /// provider may never have been registered.
    func send(for user: String, node: NodeOptions) async throws {
        let id = (try? await node.admin.user(user))?.id ?? user
        let (status, json) = try await node.admin.call(route.method, "/api/users/\(id)/\(route.suffix)", body: nil)
        guard status == 204 else { throw OperatorError("\(rawValue) \(user)", status: status, json: json) }
        node.json ? JSONLine.print(["user": id, "done": rawValue]) : print("\(rawValue): \(id)")
    }
}
