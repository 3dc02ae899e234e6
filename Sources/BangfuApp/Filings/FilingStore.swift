import Foundation
import SQLKit

/// A regional minimum reserved ratio (API.md `/api/v1/policy/minimum-ratios`).
struct MinimumRatio: TableRow, Encodable, Equatable {
    var regionCode: String
    var minimumBp: Int64
    @Millis var updatedAt: Date

    static let columns = ["region_code", "minimum_bp", "updated_at"]
}

/// One row of the review queue: an organization in the reviewer's scope and its filing of the
/// year, if it filed.
struct FilingQueueRow: Sendable {
    var organization: BuyerOrganization
    var filing: QuotaPlan?
}

/// The filings' own tables: regional minimum ratios and the review queue's read.
struct FilingStore: Sendable {
    func minimumRatios(in db: any SQLDatabase) async throws -> [MinimumRatio] {
        try await db.raw("SELECT * FROM minimum_ratios ORDER BY region_code").all().map { try $0.model(MinimumRatio.self) }
    }

    /// The overrides that may apply to `regionCode`: its own, its prefecture's, its province's.
    func overrides(for regionCode: String?, in db: any SQLDatabase) async throws -> [String: Int64] {
        let chain = RegionRules.chain(of: regionCode)
        guard !chain.isEmpty else { return [:] }
        let rows = try await db.raw(
            "SELECT * FROM minimum_ratios WHERE region_code IN (\(SQLQueryString.list(chain)))"
        ).all().map { try $0.model(MinimumRatio.self) }
        return Dictionary(rows.map { ($0.regionCode, $0.minimumBp) }, uniquingKeysWith: { a, _ in a })
    }

    func putMinimumRatio(_ ratio: MinimumRatio, in db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO minimum_ratios (\(MinimumRatio.columnList))
            VALUES (\(bind: ratio.regionCode), \(bind: ratio.minimumBp), \(bind: ratio.updatedAt.millis))
            ON CONFLICT (region_code) DO UPDATE SET minimum_bp = excluded.minimum_bp, updated_at = excluded.updated_at
            """
        ).run()
    }

    /// Removes the override; false when there was none.
    func deleteMinimumRatio(regionCode: String, in db: any SQLDatabase) async throws -> Bool {
        try await db.raw("DELETE FROM minimum_ratios WHERE region_code = \(bind: regionCode) RETURNING region_code").first() != nil
    }

    /// What the review queue asks for (API.md `GET /api/v1/filings`).
    struct QueueFilter: Sendable {
        var year: Int
        /// Organizations whose region lies inside this division (a finance officer's scope, or
        /// the filter inside it).
        var regionCodes: [String] = []
        /// Only this organization and those below it (a manager's view).
        var withinSubtreeOf: String?
        /// `submitted`, `confirmed`, `returned`, or `missing` (not filed).
        var status: String?
        var waiverRequested = false
    }

    /// Organizations in scope with their filing of the year (or none), newest organization first.
    func queue(_ filter: QueueFilter, after: (Int64, String)?, limit: Int, in db: any SQLDatabase) async throws
        -> [FilingQueueRow]
    {
        var sql: SQLQueryString = """
            SELECT o.* FROM buyer_organizations o
            LEFT JOIN quota_plans q ON q.organization_id = o.id AND q.year = \(bind: Int64(filter.year)) WHERE 1 = 1
            """
        for region in filter.regionCodes where RegionRules.isWellFormed(region) {
            sql += " AND o.region_code LIKE \(bind: String(RegionRules.prefix(of: region)) + "%")"
        }
        if let root = filter.withinSubtreeOf {
            sql += " AND o.id IN (" + BuyerStore.subtreeSQL(of: root) + " SELECT id FROM tree)"
        }
        switch filter.status {
        case "missing"?: sql += " AND q.organization_id IS NULL"
        case let status?: sql += " AND q.status = \(bind: status)"
        case nil: break
        }
        if filter.waiverRequested { sql += " AND q.waiver_status = 'requested'" }
        sql += .newestFirst(after: after, time: "o.created_at", id: "o.id", limit: limit)
        let organizations = try await db.raw(sql).all().map { try $0.model(BuyerOrganization.self) }
        var plans: [String: QuotaPlan] = [:]
        if !organizations.isEmpty {
            let ids = organizations.map(\.id)
            for row in try await db.raw(
                """
                SELECT * FROM quota_plans WHERE year = \(bind: Int64(filter.year)) AND organization_id IN (\(SQLQueryString.list(ids)))
                """
            ).all() {
                let plan = try row.model(QuotaPlan.self)
                plans[plan.organizationId] = plan
            }
        }
        return organizations.map { FilingQueueRow(organization: $0, filing: plans[$0.id]) }
    }
}

extension FilingStore {
    /// The bulletin's lines before ranking: the active organizations inside `scope` (nil: all),
    /// grouped by `key` and summed in the database, so a province's thousands of units cost one
    /// pass and a handful of rows. Per unit: whether it filed for `year`, whether it has an order
    /// of the year that was not cancelled or rejected, its members who never signed in, its
    /// reserved, completed and union figures. Amounts are summed as billions and remainders
    /// (`BulletinGroup.Split`), so no sum can overflow in the database whatever the amounts; Swift
    /// joins them, saturating.
    func bulletinGroups(year: Int, scope: String?, key: BulletinKey, in db: any SQLDatabase) async throws -> [BulletinGroup] {
        let code: SQLQueryString = "CASE WHEN length(o.region_code) = 6 THEN o.region_code END"
        let keyExpression: SQLQueryString =
            switch key {
            case .province: "COALESCE(substr(\(code), 1, 2) || '0000', 'unknown')"
            case .prefecture: "COALESCE(substr(\(code), 1, 4) || '00', 'unknown')"
            case .region: "COALESCE(\(code), 'unknown')"
            case .department: "o.department"
            case .organization: "o.id"
            }
        var units: SQLQueryString = """
            SELECT \(keyExpression) AS group_key, o.name,
              CASE WHEN q.organization_id IS NULL THEN 0 ELSE 1 END AS filed,
              CASE WHEN EXISTS (SELECT 1 FROM orders x WHERE x.organization_id = o.id AND x.quota_year = \(bind: Int64(year))
                AND x.status NOT IN ('cancelled', 'rejected'))
                THEN 0 ELSE 1 END AS without_orders,
              (SELECT COUNT(*) FROM buyer_members m JOIN users u ON u.id = m.user_id
                WHERE m.organization_id = o.id AND u.last_sign_in_at IS NULL AND u.disabled_at IS NULL) AS inactive_accounts,
              COALESCE(q.reserved_fen, 0) AS reserved_fen, COALESCE(q.completed_fen, 0) AS completed_fen,
              COALESCE(q.union_budget_fen, 0) AS union_budget_fen, COALESCE(q.union_completed_fen, 0) AS union_completed_fen
            FROM buyer_organizations o
            LEFT JOIN quota_plans q ON q.organization_id = o.id AND q.year = \(bind: Int64(year))
            WHERE o.status = 'active'
            """
        if let scope, RegionRules.isWellFormed(scope) {
            units += " AND o.region_code LIKE \(bind: String(RegionRules.prefix(of: scope)) + "%")"
        }
        var sums: [SQLQueryString] = []
        for column in ["reserved_fen", "completed_fen", "union_budget_fen", "union_completed_fen"] {
            let c = SQLQueryString(column)
            let unit = SQLQueryString(String(BulletinGroup.Split.unit))
            sums.append("CAST(SUM(\(c) / \(unit)) AS BIGINT) AS \(c)_high, CAST(SUM(\(c) % \(unit)) AS BIGINT) AS \(c)_low")
        }
        let sql: SQLQueryString = """
            SELECT group_key AS key, MIN(name) AS name, COUNT(*) AS units, CAST(SUM(filed) AS BIGINT) AS filed,
              CAST(SUM(without_orders) AS BIGINT) AS without_orders, CAST(SUM(inactive_accounts) AS BIGINT) AS inactive_accounts,
              \(sums.joined(separator: ", "))
            FROM (\(units)) u GROUP BY group_key
            """
        return try await db.raw(sql).all().map { try $0.model(BulletinGroup.self) }
    }

    /// The names of the given divisions.
    func regionNames(_ codes: [String], in db: any SQLDatabase) async throws -> [String: String] {
        guard !codes.isEmpty else { return [:] }
        let rows = try await db.raw("SELECT * FROM regions WHERE code IN (\(SQLQueryString.list(codes)))").all()
        return Dictionary(try rows.map { let r = try $0.model(Region.self); return (r.code, r.name) }, uniquingKeysWith: { a, _ in a })
    }
}
