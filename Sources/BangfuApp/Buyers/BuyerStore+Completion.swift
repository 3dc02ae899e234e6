import Foundation
import SQLKit

/// The completion rule the plans' sums were built under, and their recomputation when it changes.
extension BuyerStore {
    /// SQL conditions on an order `o` (with its ratings) saying which sum its net amount counts in,
    /// as `QuotaRules.sum(of:rated:rule:)` says; `bangfu check` and the recomputation share them.
    enum CountsIn {
        static func completed(_ rule: CompletionRule) -> String {
            switch rule {
            case .settled: "o.status = 'settled'"
            case .settledAndRated: "(o.status = 'settled' AND EXISTS (SELECT 1 FROM ratings r WHERE r.order_id = o.id))"
            }
        }

        static func committed(_ rule: CompletionRule) -> String {
            let open = "o.status IN ('placed', 'confirmed', 'shipped', 'accepted')"
            switch rule {
            case .settled: return open
            case .settledAndRated:
                return "(\(open) OR (o.status = 'settled' AND NOT EXISTS (SELECT 1 FROM ratings r WHERE r.order_id = o.id)))"
            }
        }
    }

    /// The rule the stored sums follow; nil before any server recorded one (they follow `settled`).
    func recordedCompletionRule(in db: any SQLDatabase) async throws -> CompletionRule? {
        try await db.raw("SELECT value FROM platform_settings WHERE name = 'completion_rule'").first()?
            .model(RecordedRule.self).value
    }

    /// An unknown rule fails loudly, as every stored enum does.
    private struct RecordedRule: RowModel {
        var value: CompletionRule
    }

    /// Recomputes every plan's committed and completed sums (canteen and union) from its orders
    /// under `rule`, and records the rule: one statement a sum, in the caller's transaction.
    func recomputeSums(under rule: CompletionRule, at now: Date, in db: any SQLDatabase) async throws {
        func sum(_ purpose: OrderPurpose, _ condition: String) -> String {
            """
            COALESCE((SELECT SUM(o.total_fen - o.refunded_fen) FROM orders o WHERE o.organization_id = quota_plans.organization_id
              AND o.quota_year = quota_plans.year AND o.purpose = '\(purpose.rawValue)' AND \(condition)), 0)
            """
        }
        let (committed, completed) = (CountsIn.committed(rule), CountsIn.completed(rule))
        try await db.raw(
            """
            UPDATE quota_plans SET committed_fen = \(unsafeRaw: sum(.canteen, committed)),
              completed_fen = \(unsafeRaw: sum(.canteen, completed)),
              union_committed_fen = \(unsafeRaw: sum(.union, committed)),
              union_completed_fen = \(unsafeRaw: sum(.union, completed)), updated_at = \(bind: now.millis)
            """
        ).run()
        try await db.raw(
            """
            INSERT INTO platform_settings (name, value, updated_at) VALUES ('completion_rule', \(bind: rule.rawValue), \(bind: now.millis))
            ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
            """
        ).run()
    }
}
