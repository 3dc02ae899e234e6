import Foundation
import SQLKit

/// The reports' reads, and the sales totals they read, kept in the transactions that settle
/// orders and approve refunds, so a report never scans the orders.
struct ReportStore: Sendable {

    /// Adds contributions to the totals of `year` (one statement; contributions are distinct).
    func record(_ contributions: [SalesRules.Contribution], year: Int, in db: any SQLDatabase) async throws {
        guard !contributions.isEmpty else { return }
        let rows = contributions.map { c -> SQLQueryString in
            "(\(bind: Int64(year)), \(bind: c.scope), \(bind: c.dimension.rawValue), \(bind: c.key), \(bind: c.orders), \(bind: c.amountFen))"
        }
        try await db.raw(
            "INSERT INTO sales_totals (year, scope, dimension, key, orders, amount_fen) VALUES" + .values(rows)
                + """
                 ON CONFLICT (year, scope, dimension, key) DO UPDATE SET orders = sales_totals.orders + excluded.orders,
                  amount_fen = sales_totals.amount_fen + excluded.amount_fen
                """
        ).run()
    }

    struct SalesRow: Sendable, Equatable {
        var key: String
        var label: String
        var orders: Int64
        var amountFen: Int64
    }

    /// The totals of one dimension, largest amount first (months in order).
    func sales(year: Int, dimension: SalesRules.Dimension, scope: String, in db: any SQLDatabase) async throws -> [SalesRow] {
        let label: String
        let join: String
        switch dimension {
        case .county: (label, join) = ("c.name", "LEFT JOIN counties c ON c.code = s.key")
        case .category: (label, join) = ("c.name", "LEFT JOIN categories c ON c.id = s.key")
        case .merchant: (label, join) = ("m.company_name", "LEFT JOIN merchants m ON m.id = s.key")
        case .month: (label, join) = ("s.key", "")
        }
        let order = dimension == .month ? "s.key" : "s.amount_fen DESC, s.key"
        return try await db.raw(
            """
            SELECT s.key, COALESCE(\(unsafeRaw: label), s.key) AS label, s.orders, s.amount_fen FROM sales_totals s
            \(unsafeRaw: join)
            WHERE s.year = \(bind: Int64(year)) AND s.scope = \(bind: scope) AND s.dimension = \(bind: dimension.rawValue)
            ORDER BY \(unsafeRaw: order)
            """
        ).all().map { row in
            SalesRow(
                key: try row.decode(column: "key", as: String.self), label: try row.decode(column: "label", as: String.self),
                orders: try row.decode(column: "orders", as: Int64.self), amountFen: try row.decode(column: "amount_fen", as: Int64.self))
        }
    }

    struct QuotaRow: Sendable, Equatable {
        var key: String
        var label: String
        var reservedFen: Int64
        var completedFen: Int64
    }

    /// Reserved and completed sums of the year's plans, per organization or per department.
    func quota(year: Int, byDepartment: Bool, in db: any SQLDatabase) async throws -> [QuotaRow] {
        let sql: SQLQueryString =
            byDepartment
            ? """
            SELECT o.department AS key, o.department AS label, CAST(SUM(q.reserved_fen) AS BIGINT) AS reserved,
              CAST(SUM(q.completed_fen) AS BIGINT) AS completed
            FROM quota_plans q JOIN buyer_organizations o ON o.id = q.organization_id
            WHERE q.year = \(bind: Int64(year)) GROUP BY o.department ORDER BY o.department
            """
            : """
            SELECT o.id AS key, o.name AS label, q.reserved_fen AS reserved, q.completed_fen AS completed
            FROM quota_plans q JOIN buyer_organizations o ON o.id = q.organization_id
            WHERE q.year = \(bind: Int64(year)) ORDER BY o.name, o.id
            """
        return try await db.raw(sql).all().map { row in
            QuotaRow(
                key: try row.decode(column: "key", as: String.self), label: try row.decode(column: "label", as: String.self),
                reservedFen: try row.decode(column: "reserved", as: Int64.self),
                completedFen: try row.decode(column: "completed", as: Int64.self))
        }
    }
}
