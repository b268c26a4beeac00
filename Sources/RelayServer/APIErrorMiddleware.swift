import Foundation
import HTTPTypes
import Hummingbird
import RedisClient
import RelayCore

/// Turns every error a route throws into the API's JSON error shape: Redis trouble becomes 503, anything unforeseen
/// 500 without its internal text.
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
        } catch let error as RedisClientError {
            context.logger.debug("request failed on Redis", metadata: ["error": "\(error)"])
            throw APIError.unavailable("Redis is unavailable; retry")
        } catch {
            // A bug, not an outage: logged with what happened, answered without internal detail.
            context.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            throw APIError(status: .internalServerError, code: "internal", message: "the node failed to answer; see its log")
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
