import ChatProtocol
import Hummingbird
import RelayCore

extension APIRoutes {
    /// Ending a user's sessions and blocking them (admin): 204 once Redis took the order; every node holding a socket
    /// of the user closes it with 4003. The user need not be registered: a user of an identity provider may never
    /// have been.
    func registerSessionRoutes(on api: RouterGroup<Context>) {
        api.post("users/:id/disconnect") { request, context in
            let id = try admittedUser(request, context)
            try await sessionControl.disconnect(id)
            return Response(status: .noContent)
        }
        api.put("users/:id/block") { request, context in
            let id = try admittedUser(request, context)
            try await sessionControl.block(id)
            return Response(status: .noContent)
        }
        api.delete("users/:id/block") { request, context in
            let id = try admittedUser(request, context)
            try await sessionControl.unblock(id)
            return Response(status: .noContent)
        }
    }

    /// The route's user id, once the caller proved to be the admin.
    private func admittedUser(_ request: Request, _ context: Context) throws -> String {
        try authenticator.requireAdmin(request, peer: context.peerAddress)
        let id = try context.parameters.require("id")
        guard Identifier.isValid(id) else { throw APIError.badRequest("user ids are \(Identifier.rule)") }
        return id
    }
}
