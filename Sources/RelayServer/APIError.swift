import Foundation
import HTTPTypes
import Hummingbird
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

/// Turns every error a route throws into the API's JSON error shape; Redis trouble becomes 503.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as DirectoryError {
            throw APIError(error)
        } catch let error as DecodingError {
            throw APIError.badRequest("the body is not the expected JSON: \(Self.describe(error))")
        } catch let error as HTTPError {
            throw APIError(
                status: error.status,
                code: error.status == .notFound ? "not_found" : "bad_request",
                message: error.body ?? "\(error.status)"
            )
        } catch {
            throw APIError.unavailable("Redis is unavailable: \(error)")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context), .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
