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

    /// The rule the stored sums follow. Every transaction that moves money by it reads it here,
    /// before touching a plan; on PostgreSQL the read holds a share lock on the rule's row until
    /// the transaction ends, so a recomputation for a new rule (which takes that row first)
    /// either waits for it or happens wholly before it.
    func completionRule(lock: Bool = true, in db: any SQLDatabase) async throws -> CompletionRule {
        let share = lock && engine == .postgres ? " FOR SHARE" : ""
        return try await db.raw("SELECT value FROM platform_settings WHERE name = 'completion_rule'\(unsafeRaw: share)").first()?
            .model(RecordedRule.self).value ?? .settled
    }

    /// An unknown rule fails loudly, as every stored enum does.
    private struct RecordedRule: RowModel {
        var value: CompletionRule
    }

    /// Records `rule` and recomputes every plan's committed and completed sums (canteen and
    /// union) from its orders under it, in the caller's transaction. On PostgreSQL the rule's row
    /// is written first (waiting for the transactions that read the old rule) and the plans are
    /// locked against writers for the recomputation, so no concurrent change is lost.
    func recomputeSums(under rule: CompletionRule, at now: Date, in db: any SQLDatabase) async throws {
        try await db.raw(
            """
            UPDATE platform_settings SET value = \(bind: rule.rawValue), updated_at = \(bind: now.millis)
            WHERE name = 'completion_rule'
            """
        ).run()
        if engine == .postgres { try await db.raw("LOCK TABLE quota_plans IN EXCLUSIVE MODE").run() }
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
    }
}
