import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The relay's admin API (`/api/users`, `/api/friendships`) over HTTP, for tools that set up users.
public struct AdminClient: Sendable {
    public let baseURL: String
    public let token: String?

    /// - Parameter baseURL: `http://host:port` of any node.
    public init(baseURL: String, token: String?) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.token = token
    }

    /// Creates a user and returns its id.
    public func createUser(name: String) async throws -> String {
        try await post("/api/users", ["name": name])
    }

    /// Creates a friendship and returns its id.
    public func createFriendship(_ user1: String, _ user2: String) async throws -> String {
        try await post("/api/friendships", ["user1": user1, "user2": user2])
    }

    /// One API call: the status and the JSON object answered (empty when the body is not one). Throws only when
    /// the node cannot be reached.
    public func call(_ method: String, _ path: String, body: [String: Any]? = nil) async throws -> (status: Int, json: [String: Any]) {
        guard let url = URL(string: baseURL + path) else { throw ChatClientError("not a URL: \(baseURL + path)") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        if let body {
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response): (Data, URLResponse)
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw ChatClientError("cannot reach \(baseURL): \(error.localizedDescription)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        return (status, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
    }

    private func post(_ path: String, _ body: [String: String]) async throws -> String {
        guard let url = URL(string: baseURL + path) else { throw ChatClientError("not a URL: \(baseURL + path)") }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = try JSONSerialization.data(withJSONObject: body)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        guard (200..<300).contains(status), let id = object?["id"] as? String else {
            throw ChatClientError("POST \(path) answered \(status): \(String(decoding: data, as: UTF8.self))")
        }
        return id
    }
}
