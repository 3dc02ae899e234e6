import Foundation
import SQLKit

/// The reports' reads, and the sales totals they read, kept in the transactions that settle
/// orders and approve refunds, so a report never scans the orders.
struct ReportStore: Sendable {

    /// Adds contributions to the totals of `year` (one statement; contributions are distinct).
    func record(_ contributions: [SalesRules.Contribution], year: Int, in db: any SQLDatabase) async throws {
        guard !contributions.isEmpty else { return }
        let rows = contributions.map { c in
            SalesTotal(year: year, scope: c.scope, dimension: c.dimension, key: c.key, orders: c.orders, amountFen: c.amountFen).row
        }
        try await db.raw(
            "INSERT INTO sales_totals (\(SalesTotal.columnList)) VALUES" + .values(rows)
                + """
                 ON CONFLICT (year, scope, dimension, key) DO UPDATE SET orders = sales_totals.orders + excluded.orders,
                  amount_fen = sales_totals.amount_fen + excluded.amount_fen
                """
        ).run()
    }

    /// One line of the sales report: a maintained total and its key's name.
    struct SalesRow: RowModel, Equatable, Encodable {
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
        ).all().map { try $0.model(SalesRow.self) }
    }

    /// One line of the quota report: an organization's or a department's plan sums. Union
    /// purchasing is reported beside the completion, never inside it (SPEC "Union purchasing").
    struct QuotaRow: RowModel, Equatable, Encodable {
        var key, label: String
        var reservedFen, completedFen: Int64
        var unionBudgetFen, unionCompletedFen: Int64
    }

    /// Reserved and completed sums of the year's plans, per organization or per department.
    func quota(year: Int, byDepartment: Bool, in db: any SQLDatabase) async throws -> [QuotaRow] {
        let sql: SQLQueryString =
            byDepartment
            ? """
            SELECT o.department AS key, o.department AS label, CAST(SUM(q.reserved_fen) AS BIGINT) AS reserved_fen,
              CAST(SUM(q.completed_fen) AS BIGINT) AS completed_fen, CAST(SUM(q.union_budget_fen) AS BIGINT) AS union_budget_fen,
              CAST(SUM(q.union_completed_fen) AS BIGINT) AS union_completed_fen
            FROM quota_plans q JOIN buyer_organizations o ON o.id = q.organization_id
            WHERE q.year = \(bind: Int64(year)) GROUP BY o.department ORDER BY o.department
            """
            : """
            SELECT o.id AS key, o.name AS label, q.reserved_fen, q.completed_fen, q.union_budget_fen, q.union_completed_fen
            FROM quota_plans q JOIN buyer_organizations o ON o.id = q.organization_id
            WHERE q.year = \(bind: Int64(year)) ORDER BY o.name, o.id
            """
        return try await db.raw(sql).all().map { try $0.model(QuotaRow.self) }
    }
}

/// A row of `sales_totals`: one maintained total of a year, scope (`*` or a county code),
/// dimension and key.
struct SalesTotal: TableRow {
    var year: Int
    var scope: String
    var dimension: SalesRules.Dimension
    var key: String
    var orders: Int64
    var amountFen: Int64

    static let columns = ["year", "scope", "dimension", "key", "orders", "amount_fen"]

    /// The row's values in the order of `columns`.
    var row: SQLQueryString {
        "(\(bind: Int64(year)), \(bind: scope), \(bind: dimension.rawValue), \(bind: key), \(bind: orders), \(bind: amountFen))"
    }
}

/// A stored dimension decodes strictly: an unknown one fails instead of being guessed.
extension SalesRules.Dimension: Codable {}
