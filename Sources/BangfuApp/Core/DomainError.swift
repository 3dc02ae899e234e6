import Foundation

/// One invalid field in a problem+json answer.
public struct FieldError: Codable, Sendable, Equatable {
    public var field: String
    public var message: String
    public init(_ field: String, _ message: String) {
        self.field = field
        self.message = message
    }
}

/// Every refusal a use case, rule or store gives, without HTTP: a kind, a stable `code`, a
/// sentence and the fields at fault. Only the edge (`ProblemMiddleware`) turns it into
/// `application/problem+json` (RFC 9457) with the status its kind maps to (`DomainError.Kind.status`).
public struct DomainError: Error, Sendable {
    /// What went wrong, as the caller should understand it; each maps to one HTTP status.
    public enum Kind: Sendable, Equatable {
        case badRequest, unauthorized, forbidden, notFound, methodNotAllowed, conflict, contentTooLarge
        case unsupportedMediaType, unprocessableContent, preconditionRequired, tooManyRequests, internalServerError
        /// A status of the HTTP layer passed through (`ProblemMiddleware.translate`).
        case other(Int)
    }

    public var kind: Kind
    public var code: String
    public var detail: String
    public var errors: [FieldError] = []
    /// For `tooManyRequests`: when to try again (the edge sends `Retry-After`).
    public var retryAfterSeconds: Int64?

    public init(
        _ kind: Kind, code: String, detail: String, errors: [FieldError] = [], retryAfterSeconds: Int64? = nil
    ) {
        self.kind = kind
        self.code = code
        self.detail = detail
        self.errors = errors
        self.retryAfterSeconds = retryAfterSeconds
    }

    static let unauthenticated = DomainError(.unauthorized, code: "unauthenticated", detail: "sign in first")
    static let forbidden = DomainError(.forbidden, code: "forbidden", detail: "your role may not do this")

    static func badRequest(_ detail: String, field: String? = nil) -> DomainError {
        DomainError(.badRequest, code: "bad_request", detail: detail, errors: field.map { [FieldError($0, detail)] } ?? [])
    }

    static func validation(_ errors: [FieldError]) -> DomainError {
        let detail = errors.map { "\($0.field): \($0.message)" }.joined(separator: "; ")
        return DomainError(.unprocessableContent, code: "validation_failed", detail: detail, errors: errors)
    }

    static func invalid(_ field: String, _ message: String) -> DomainError {
        validation([FieldError(field, message)])
    }

    static func notFound(_ what: String) -> DomainError {
        DomainError(.notFound, code: "not_found", detail: "\(what) not found")
    }

    static func conflict(_ detail: String, code: String = "conflict", field: String? = nil) -> DomainError {
        DomainError(.conflict, code: code, detail: detail, errors: field.map { [FieldError($0, detail)] } ?? [])
    }

    static func invalidTransition(current: String, action: String) -> DomainError {
        DomainError(
            .conflict, code: "invalid_transition", detail: "cannot \(action) while the status is \(current)",
            errors: [FieldError("status", "current status is \(current)")])
    }

    static func rateLimited(retryAfterSeconds: Int64) -> DomainError {
        DomainError(
            .tooManyRequests, code: "rate_limited", detail: "too many attempts; try again later",
            retryAfterSeconds: max(1, retryAfterSeconds))
    }
}

extension DomainError: CustomStringConvertible {
    public var description: String { "\(code): \(detail)" }
}

/// Collects field errors during validation and throws them all at once.
struct Validator {
    private(set) var errors: [FieldError] = []

    mutating func fail(_ field: String, _ message: String) {
        errors.append(FieldError(field, message))
    }

    /// Trims `value` and checks it is non-empty (when required) and at most `max` characters,
    /// counted as Unicode scalars (so a letter with 300,000 combining marks is 300,001, not 1) and
    /// at most `3 × max` bytes of UTF-8 (a Chinese character is 3). Control characters and
    /// bidirectional overrides are refused; `multiline` text (descriptions, notes, reasons) may
    /// hold line feeds; single-line text refuses invisible format characters and U+2028/U+2029.
    mutating func text(_ value: String?, _ field: String, max: Int, required: Bool = true, multiline: Bool = false)
        -> String?
    {
        let trimmed = value?.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let trimmed, !trimmed.isEmpty else {
            if required { fail(field, "is required") }
            return nil
        }
        if let problem = TextRules.problem(trimmed, max: max, multiline: multiline) {
            fail(field, problem)
            return nil
        }
        return trimmed
    }

    func check() throws {
        if !errors.isEmpty { throw DomainError.validation(errors) }
    }
}

/// Pure rules for free text fields.
enum TextRules {
    /// Why `text` is not acceptable, or nil.
    static func problem(_ text: String, max: Int, multiline: Bool) -> String? {
        if text.unicodeScalars.count > max { return "must be at most \(max) characters" }
        if text.utf8.count > max.multipliedReportingOverflow(by: 3).partialValue {
            return "must be at most \(max * 3) bytes of UTF-8"
        }
        let refused = text.unicodeScalars.contains { scalar in
            switch scalar.properties.generalCategory {
            case .control: return !(multiline && scalar == "\n")
            // Bidirectional overrides and isolates make text read other than it is, anywhere.
            case .format where (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value):
                return true
            // Single-line text also refuses the invisible (zero-width spaces and joiners, word
            // joiners, BOMs) and the line and paragraph separators U+2028 and U+2029.
            case .format, .lineSeparator, .paragraphSeparator: return !multiline
            default: return false
            }
        }
        if refused { return multiline ? "must not contain control characters other than line breaks" : "must not contain control characters" }
        return nil
    }
}
