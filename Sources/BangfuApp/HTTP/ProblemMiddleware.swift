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
        } catch let error as DomainError {
            return Self.response(error)
        } catch let error as HTTPResponseError {
            return Self.response(Self.translate(error.status))
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            context.logger.debug("unhandled error detail", metadata: ["error": "\(error)"])
            return Self.response(
                DomainError(.internalServerError, code: "internal_error", detail: "an internal error occurred"))
        }
    }

    /// An error of the HTTP layer itself (no route, a body too large) as a problem.
    static func translate(_ status: HTTPResponse.Status) -> DomainError {
        switch status.code {
        case 400: DomainError(.badRequest, code: "bad_request", detail: "the request is malformed")
        case 401: .unauthenticated
        case 403: .forbidden
        case 404: DomainError(.notFound, code: "not_found", detail: "no such resource")
        case 405: DomainError(.methodNotAllowed, code: "method_not_allowed", detail: "method not allowed on this resource")
        case 413: DomainError(.contentTooLarge, code: "payload_too_large", detail: "the request body is too large")
        case 415:
            DomainError(.unsupportedMediaType, code: "unsupported_media_type", detail: "unsupported content type")
        default: DomainError(.other(status.code), code: "error", detail: status.reasonPhrase)
        }
    }

    static func response(_ error: DomainError) -> Response {
        let body = ProblemDocument.encode(error)
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        if let seconds = error.retryAfterSeconds { headers[.retryAfter] = String(seconds) }
        return Response(status: error.kind.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
