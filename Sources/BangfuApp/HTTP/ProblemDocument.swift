import Foundation
import HTTPTypes

/// The `application/problem+json` document (RFC 9457) of a refusal: what `ProblemMiddleware`
/// answers, and what an idempotency key keeps of a refused checkout to replay it byte for byte.
/// Only HTTPTypes' status vocabulary here, no server framework, so the placement queue may use it.
enum ProblemDocument {
    struct Problem: Encodable {
        var type: String
        var title: String
        var status: Int
        var detail: String
        var code: String
        var errors: [FieldError]
    }

    static func encode(_ error: DomainError) -> Data {
        let status = error.kind.status
        let problem = Problem(
            type: "about:blank", title: status.reasonPhrase, status: status.code, detail: error.detail, code: error.code,
            errors: error.errors)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(problem)) ?? Data()
    }
}

extension DomainError.Kind {
    /// The one place a domain refusal becomes an HTTP status.
    var status: HTTPResponse.Status {
        switch self {
        case .badRequest: .badRequest
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .methodNotAllowed: .methodNotAllowed
        case .conflict: .conflict
        case .contentTooLarge: .contentTooLarge
        case .unsupportedMediaType: .unsupportedMediaType
        case .unprocessableContent: .unprocessableContent
        case .preconditionRequired: .preconditionRequired
        case .tooManyRequests: .tooManyRequests
        case .internalServerError: .internalServerError
        case .other(let code): HTTPResponse.Status(code: code)
        }
    }
}
