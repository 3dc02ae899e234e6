import Foundation
import Hummingbird
import Logging

/// Turns every error into `application/problem+json`. Unknown errors become a 500 whose body says
/// nothing about the cause (no stack trace, no SQL); the cause goes to the log only.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return Self.response(error)
        } catch let error as HTTPResponseError {
            return Self.response(Self.translate(error.status))
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            context.logger.debug("unhandled error detail", metadata: ["error": "\(error)"])
            return Self.response(
                APIError(.internalServerError, code: "internal_error", detail: "an internal error occurred"))
        }
    }

    static func translate(_ status: HTTPResponse.Status) -> APIError {
        switch status.code {
        case 400: APIError(.badRequest, code: "bad_request", detail: "the request is malformed")
        case 401: .unauthenticated
        case 403: .forbidden
        case 404: APIError(.notFound, code: "not_found", detail: "no such resource")
        case 405: APIError(.methodNotAllowed, code: "method_not_allowed", detail: "method not allowed on this resource")
        case 413: APIError(.contentTooLarge, code: "payload_too_large", detail: "the request body is too large")
        case 415:
            APIError(.unsupportedMediaType, code: "unsupported_media_type", detail: "unsupported content type")
        default: APIError(status, code: "error", detail: status.reasonPhrase)
        }
    }

    struct Problem: Encodable {
        var type: String
        var title: String
        var status: Int
        var detail: String
        var code: String
        var errors: [FieldError]
    }

    /// The problem+json bytes of `error` (also what an idempotency key keeps of a refusal).
    static func body(_ error: APIError) -> Data {
        let problem = Problem(
            type: "about:blank", title: error.status.reasonPhrase, status: error.status.code, detail: error.detail,
            code: error.code, errors: error.errors)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(problem)) ?? Data()
    }

    static func response(_ error: APIError) -> Response {
        let body = Self.body(error)
        var headers = error.headers
        headers[.contentType] = "application/problem+json"
        return Response(status: error.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
