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
            // Under the completion rule the sums were built with (SPEC "Ratings").
            let rule = try await services.buyers.completionRule(lock: false, in: db)
            let (open, done) = (BuyerStore.CountsIn.committed(rule), BuyerStore.CountsIn.completed(rule))
            let plans = try await db.raw(
                """
                SELECT q.organization_id, q.year, q.committed_fen, q.completed_fen, q.refunded_fen, q.canteen_budget_fen,
                  q.union_committed_fen, q.union_completed_fen, q.union_budget_fen,
                  CAST(COALESCE(SUM(CASE WHEN o.purpose = 'canteen' AND \(unsafeRaw: open)
                    THEN o.total_fen - o.refunded_fen ELSE 0 END), 0) AS BIGINT) AS committed,
                  CAST(COALESCE(SUM(CASE WHEN o.purpose = 'canteen' AND \(unsafeRaw: done) THEN o.total_fen - o.refunded_fen
                    ELSE 0 END), 0) AS BIGINT) AS completed,
                  CAST(COALESCE(SUM(CASE WHEN o.purpose = 'union' AND \(unsafeRaw: open)
                    THEN o.total_fen - o.refunded_fen ELSE 0 END), 0) AS BIGINT) AS union_committed,
                  CAST(COALESCE(SUM(CASE WHEN o.purpose = 'union' AND \(unsafeRaw: done) THEN o.total_fen - o.refunded_fen
                    ELSE 0 END), 0) AS BIGINT) AS union_completed,
                  CAST(COALESCE(SUM(o.refunded_fen), 0) AS BIGINT) AS refunded
                FROM quota_plans q LEFT JOIN orders o ON o.organization_id = q.organization_id AND o.quota_year = q.year
                GROUP BY q.organization_id, q.year, q.committed_fen, q.completed_fen, q.refunded_fen, q.canteen_budget_fen,
                  q.union_committed_fen, q.union_completed_fen, q.union_budget_fen
                """
            ).all().map { try $0.model(PlanSums.self) }
            for plan in plans {
                let (org, year) = (plan.organizationId, plan.year)
                for (stored, a, b) in [
                    ("committed_fen", plan.committedFen, plan.committed), ("completed_fen", plan.completedFen, plan.completed),
                    ("refunded_fen", plan.refundedFen, plan.refunded),
                    ("union_committed_fen", plan.unionCommittedFen, plan.unionCommitted),
                    ("union_completed_fen", plan.unionCompletedFen, plan.unionCompleted),
                ] where a != b {
                    problems.append("plan \(org)/\(year): \(stored) is \(a), its orders say \(b)")
                }
                let used = plan.committedFen + plan.completedFen
                let budget = plan.canteenBudgetFen
                if used > budget { problems.append("plan \(org)/\(year): \(used) fen used of a \(budget) fen budget") }
                let unionUsed = plan.unionCommittedFen + plan.unionCompletedFen
                if unionUsed > plan.unionBudgetFen {
                    problems.append("plan \(org)/\(year): \(unionUsed) fen of union orders over a \(plan.unionBudgetFen) fen union budget")
                }
            }
            // Each stored category median is its recomputation from the products (价格监测).
            let products = services.products
            let stored = Dictionary(uniqueKeysWithValues: try await products.medians(in: db).map { ($0.categoryId, $0) })
            for categoryId in try await products.pricedCategories(in: db).sorted() {
                let computed = try await products.computedMedian(categoryId: categoryId, in: db)
                let kept = stored[categoryId]
                if kept?.comparable ?? 0 != computed.comparable || kept?.medianPerKgFen != computed.medianPerKgFen {
                    problems.append(
                        "category \(categoryId): median \(kept?.medianPerKgFen.map(String.init) ?? "none") of \(kept?.comparable ?? 0), "
                            + "its products say \(computed.medianPerKgFen.map(String.init) ?? "none") of \(computed.comparable)")
                }
            }
            // Each product's unit price is its price over its net content; each product carries its
            // merchant's score, and each score is its recomputation from the ratings of 365 days.
            let unitPrices = try await db.raw(
                "SELECT id, price_fen, net_content_grams, per_kg_fen FROM products WHERE net_content_grams IS NOT NULL OR per_kg_fen IS NOT NULL"
            ).all().map { try $0.model(UnitPriceRow.self) }
            for row in unitPrices where PriceRules.perKgFen(priceFen: row.priceFen, netContentGrams: row.netContentGrams) != row.perKgFen {
                problems.append("product \(row.id): per_kg_fen \(row.perKgFen.map(String.init) ?? "null") does not follow its price and net content")
            }
            let strays = try await db.raw(
                """
                SELECT p.id FROM products p JOIN merchants m ON m.id = p.merchant_id WHERE p.merchant_rating <> m.rating_score
                """
            ).all().map { try $0.decode(column: "id", as: String.self) }
            for id in strays.prefix(20) { problems.append("product \(id): merchant_rating differs from its merchant's score") }
            // (A merchant whose oldest rating has just left the window waits for the next pass.)
            let now = services.clock.now
            let scored = try await db.raw(
                """
                SELECT id, rating_score FROM merchants WHERE (rating_score <> 0 OR rating_refresh_at IS NOT NULL)
                  AND (rating_refresh_at IS NULL OR rating_refresh_at > \(bind: now.millis))
                """)
                .all().map { try $0.model(MerchantScore.self) }
            let sums = try await services.ratings.sums(
                merchantIds: scored.map(\.id), since: now.addingTimeInterval(-RatingRules.window), in: db)
            for merchant in scored where RatingRules.overallScore(sums[merchant.id]) != merchant.ratingScore {
                problems.append("merchant \(merchant.id): rating_score \(merchant.ratingScore), its ratings say \(RatingRules.overallScore(sums[merchant.id]))")
            }
            // Stock never negative; held units are exactly those of open (placed, confirmed) orders.
            let negative = try await db.raw(
                "SELECT id, stock, held FROM products WHERE stock < 0 OR held < 0"
            ).all().map { try $0.model(ProductStock.self) }
            for product in negative {
                problems.append("product \(product.id): stock \(product.stock), held \(product.held)")
            }
            let held = try await db.raw(
                """
                SELECT p.id, p.held, CAST(COALESCE(h.quantity, 0) AS BIGINT) AS open_quantity FROM products p
                LEFT JOIN (SELECT i.product_id, SUM(i.quantity) AS quantity FROM order_items i
                  JOIN orders o ON o.id = i.order_id WHERE o.status IN ('placed', 'confirmed') GROUP BY i.product_id) h
                  ON h.product_id = p.id
                WHERE p.held <> COALESCE(h.quantity, 0)
                """
            ).all().map { try $0.model(HeldUnits.self) }
            for product in held {
                problems.append("product \(product.id): held \(product.held) but open orders hold \(product.openQuantity)")
            }
            // A checkout's total is the sum of its orders', an order's the sum of its items'.
            let orders = try await db.raw(
                """
                SELECT o.id FROM orders o JOIN (SELECT order_id, SUM(amount_fen) AS amount FROM order_items GROUP BY order_id) i
                  ON i.order_id = o.id WHERE i.amount <> o.total_fen
                """
            ).all().map { try $0.model(OrderId.self) }
            for order in orders { problems.append("order \(order.id): total differs from its items") }
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
            ).all().map { try $0.model(YearSales.self) }
            for row in sales {
                let (year, net, reported, orders, counted) = (row.year, row.net, row.reported, row.orders, row.reportedOrders)
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

/// What each check selects.
extension Invariants {
    /// A plan's stored sums beside their recomputation from its orders.
    private struct PlanSums: RowModel {
        var organizationId: String
        var year: Int64
        var committedFen: Int64
        var completedFen: Int64
        var refundedFen: Int64
        var canteenBudgetFen: Int64
        var unionCommittedFen: Int64
        var unionCompletedFen: Int64
        var unionBudgetFen: Int64
        var committed: Int64
        var completed: Int64
        var unionCommitted: Int64
        var unionCompleted: Int64
        var refunded: Int64
    }

    private struct UnitPriceRow: RowModel {
        var id: String
        var priceFen: Int64
        var netContentGrams: Int64?
        var perKgFen: Int64?
    }

    private struct MerchantScore: RowModel {
        var id: String
        var ratingScore: Int64
    }

    private struct ProductStock: RowModel {
        var id: String
        var stock: Int64
        var held: Int64
    }

    private struct HeldUnits: RowModel {
        var id: String
        var held: Int64
        var openQuantity: Int64
    }

    private struct OrderId: RowModel {
        var id: String
    }

    /// A year's settled orders beside the maintained sales totals.
    private struct YearSales: RowModel {
        var year: Int64
        var net: Int64
        var orders: Int64
        var reported: Int64
        var reportedOrders: Int64
    }
}

extension AppServices {
    /// The problems `bangfu check` reports; empty when every invariant holds.
    public func checkInvariants() async throws -> [String] {
        try await Invariants(services: self).problems() + CatalogCheck(self).problems()
    }
}
