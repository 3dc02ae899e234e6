import Foundation

/// One invalid field of a request, ready for the `errors` array of a 422 problem (API.md "Conventions").
struct FieldProblem: Sendable, Hashable, CustomStringConvertible {
    let field: String
    let message: String

    var description: String { "\(field): \(message)" }
}

extension DomainError {
    /// The 422 refusal of a rule's field problems.
    static func validation(problems: [FieldProblem]) -> DomainError {
        validation(problems.map { FieldError($0.field, $0.message) })
    }
}
