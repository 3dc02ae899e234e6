import Foundation
import SQLKit

/// `bangfu check`: what must hold between orders, plans and stock whatever happened (crashes,
/// races, restores). Each problem found is one line; none means all hold.
struct Invariants {
    let services: AppServices

    func problems() async throws -> [String] {
        try await services.database.read { db in
            var problems: [String] = []
            // Plan sums equal their recomputation from the orders (SPEC formulas), within budget.
            let plans = try await db.raw(
                """
                SELECT q.organization_id, q.year, q.committed_fen, q.completed_fen, q.refunded_fen, q.canteen_budget_fen,
                  CAST(COALESCE(SUM(CASE WHEN o.status IN ('placed', 'confirmed', 'shipped', 'accepted')
                    THEN o.total_fen - o.refunded_fen ELSE 0 END), 0) AS BIGINT) AS committed,
                  CAST(COALESCE(SUM(CASE WHEN o.status = 'settled' THEN o.total_fen - o.refunded_fen ELSE 0 END), 0) AS BIGINT)
                    AS completed,
                  CAST(COALESCE(SUM(o.refunded_fen), 0) AS BIGINT) AS refunded
                FROM quota_plans q LEFT JOIN orders o ON o.organization_id = q.organization_id AND o.quota_year = q.year
                GROUP BY q.organization_id, q.year, q.committed_fen, q.completed_fen, q.refunded_fen, q.canteen_budget_fen
                """
            ).all()
            for row in plans {
                let org = try row.decode(column: "organization_id", as: String.self)
                let year = try row.decode(column: "year", as: Int64.self)
                for (stored, computed) in [("committed_fen", "committed"), ("completed_fen", "completed"), ("refunded_fen", "refunded")] {
                    let a = try row.decode(column: stored, as: Int64.self)
                    let b = try row.decode(column: computed, as: Int64.self)
                    if a != b { problems.append("plan \(org)/\(year): \(stored) is \(a), its orders say \(b)") }
                }
                let used = try row.decode(column: "committed_fen", as: Int64.self) + row.decode(column: "completed_fen", as: Int64.self)
                let budget = try row.decode(column: "canteen_budget_fen", as: Int64.self)
                if used > budget { problems.append("plan \(org)/\(year): \(used) fen used of a \(budget) fen budget") }
            }
            // Stock never negative; held units are exactly those of open (placed, confirmed) orders.
            let negative = try await db.raw(
                "SELECT id, stock, held FROM products WHERE stock < 0 OR held < 0"
            ).all()
            for row in negative {
                problems.append(
                    "product \(try row.decode(column: "id", as: String.self)): stock \(try row.decode(column: "stock", as: Int64.self)), held \(try row.decode(column: "held", as: Int64.self))")
            }
            let held = try await db.raw(
                """
                SELECT p.id, p.held, CAST(COALESCE(h.quantity, 0) AS BIGINT) AS open_quantity FROM products p
                LEFT JOIN (SELECT i.product_id, SUM(i.quantity) AS quantity FROM order_items i
                  JOIN orders o ON o.id = i.order_id WHERE o.status IN ('placed', 'confirmed') GROUP BY i.product_id) h
                  ON h.product_id = p.id
                WHERE p.held <> COALESCE(h.quantity, 0)
                """
            ).all()
            for row in held {
                problems.append(
                    "product \(try row.decode(column: "id", as: String.self)): held \(try row.decode(column: "held", as: Int64.self)) but open orders hold \(try row.decode(column: "open_quantity", as: Int64.self))")
            }
            // A checkout's total is the sum of its orders', an order's the sum of its items'.
            let orders = try await db.raw(
                """
                SELECT o.id FROM orders o JOIN (SELECT order_id, SUM(amount_fen) AS amount FROM order_items GROUP BY order_id) i
                  ON i.order_id = o.id WHERE i.amount <> o.total_fen
                """
            ).all()
            for row in orders { problems.append("order \(try row.decode(column: "id", as: String.self)): total differs from its items") }
            // The maintained sales totals equal the settled orders' net amounts, year by year.
            let sales = try await db.raw(
                """
                SELECT o.quota_year AS year, CAST(SUM(o.total_fen - o.refunded_fen) AS BIGINT) AS net,
                  CAST(COUNT(*) AS BIGINT) AS orders,
                  CAST(COALESCE((SELECT SUM(s.amount_fen) FROM sales_totals s WHERE s.year = o.quota_year AND s.scope = '*'
                    AND s.dimension = 'merchant'), 0) AS BIGINT) AS reported,
                  CAST(COALESCE((SELECT SUM(s.orders) FROM sales_totals s WHERE s.year = o.quota_year AND s.scope = '*'
                    AND s.dimension = 'merchant'), 0) AS BIGINT) AS reported_orders
                FROM orders o WHERE o.status = 'settled' GROUP BY o.quota_year
                """
            ).all()
            for row in sales {
                let year = try row.decode(column: "year", as: Int64.self)
                let (net, reported) = (try row.decode(column: "net", as: Int64.self), try row.decode(column: "reported", as: Int64.self))
                let (orders, counted) = (try row.decode(column: "orders", as: Int64.self), try row.decode(column: "reported_orders", as: Int64.self))
                if net != reported || orders != counted {
                    problems.append("sales \(year): settled orders net \(net) fen in \(orders) orders, the report says \(reported) in \(counted)")
                }
            }
            let audit = try await services.audit.verify(in: db)
            if !audit.ok { problems.append("audit chain broken at seq \(audit.firstBrokenSeq ?? -1)") }
            return problems
        }
    }
}

extension AppServices {
    /// The problems `bangfu check` reports; empty when every invariant holds.
    public func checkInvariants() async throws -> [String] {
        try await Invariants(services: self).problems()
    }
}
