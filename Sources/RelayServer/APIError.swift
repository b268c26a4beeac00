import Foundation
import HTTPTypes
import Hummingbird
import RedisClient
import RelayCore

/// An HTTP API error: the status, and `{"error": CODE, "message": ...}` as the body.
struct APIError: HTTPResponseError {
    let status: HTTPResponse.Status
    let code: String
    let message: String

    static func badRequest(_ message: String) -> APIError { APIError(status: .badRequest, code: "bad_request", message: message) }
    static func unauthorized(_ message: String) -> APIError { APIError(status: .unauthorized, code: "unauthorized", message: message) }
    static func forbidden(_ message: String) -> APIError { APIError(status: .forbidden, code: "forbidden", message: message) }
    static func notFound(_ message: String) -> APIError { APIError(status: .notFound, code: "not_found", message: message) }
    static func conflict(_ message: String) -> APIError { APIError(status: .conflict, code: "conflict", message: message) }
    static func unavailable(_ message: String) -> APIError {
        APIError(status: .serviceUnavailable, code: "unavailable", message: message)
    }

    init(status: HTTPResponse.Status, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    init(_ error: DirectoryError) {
        switch error {
        case .invalid(let message): self = .badRequest(message)
        case .notFound(let message): self = .notFound(message)
        case .conflict(let message): self = .conflict(message)
        }
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    /// `{"error": CODE, "message": "..."}`
    var body: String {
        var writer = JSONWriter()
        writer.field("error", code)
        writer.field("message", message)
        return writer.finish()
    }
}
