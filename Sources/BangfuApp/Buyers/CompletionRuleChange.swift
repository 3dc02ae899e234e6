import Foundation
import Logging

/// The serving process's completion rule (`--completion-rule`) made true of the stored plan sums:
/// when the rule the sums were built under differs, every plan is recomputed from its orders in
/// one transaction before the server answers. Every process on one database must be given the
/// same rule; `bangfu check` verifies the sums under the recorded one.
struct CompletionRuleChange: UseCase {
    let services: AppServices

    init(_ services: AppServices) {
        self.services = services
    }

    /// Returns the rule the sums followed before, when they were recomputed; nil when nothing changed.
    @discardableResult
    func apply(logger: Logger) async throws -> CompletionRule? {
        let rule = configuration.completionRule
        let buyers = self.buyers, now = clock.now
        let previous: CompletionRule? = try await database.write { db in
            let recorded = try await buyers.completionRule(lock: false, in: db)
            guard recorded != rule else { return nil }
            try await buyers.recomputeSums(under: rule, at: now, in: db)
            return recorded
        }
        if let previous {
            logger.notice(
                "recomputed every plan's committed and completed sums for the new completion rule",
                metadata: ["from": .string(previous.rawValue), "to": .string(rule.rawValue)])
        }
        return previous
    }

    /// The rule the stored sums follow (`bangfu check`, the seeder).
    func recorded() async throws -> CompletionRule {
        let buyers = self.buyers
        return try await database.read { db in try await buyers.completionRule(lock: false, in: db) }
    }
}
