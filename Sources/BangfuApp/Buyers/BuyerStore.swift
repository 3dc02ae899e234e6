import Foundation
import SQLKit

enum BuyerOrganizationStatus: String, Codable, Sendable, CaseIterable {
    case pending
    case active
}

struct BuyerOrganization: TableRow, Encodable {
    var id, name, creditCode: String
    /// The supervising department (主管部门) it reports under.
    var department: String
    @NullEncoded var countyCode: String?
    var canteenAddress, contactName, contactPhone: String
    var status: BuyerOrganizationStatus
    var createdBy: String
    @OptionalMillis var verifiedAt: Date?
    @Millis var createdAt: Date
    @Millis var updatedAt: Date
    /// The GB/T 2260 division it belongs to; null only for organizations registered before
    /// regions existed without a county.
    @NullEncoded var regionCode: String?
    /// Its 主管预算单位, if any.
    @NullEncoded var parentId: String?
}

extension BuyerOrganization {
    static let columns = [
        "id", "name", "credit_code", "department", "county_code", "canteen_address", "contact_name", "contact_phone",
        "status", "created_by", "verified_at", "created_at", "updated_at", "region_code", "parent_id",
    ]

    /// The row's values in the order of `columns`.
    var row: SQLQueryString {
        """
        (\(bind: id), \(bind: name), \(bind: creditCode), \(bind: department), \(bind: countyCode), \(bind: canteenAddress),
         \(bind: contactName), \(bind: contactPhone), \(bind: status.rawValue), \(bind: createdBy), \(bind: verifiedAt?.millis),
         \(bind: createdAt.millis), \(bind: updatedAt.millis), \(bind: regionCode), \(bind: parentId))
        """
    }
}

/// One organization's plan for one quota year, with the sums its orders maintain.
struct QuotaPlan: TableRow, Encodable {
    var organizationId: String
    var year: Int
    @IntBool var hasCanteen: Bool
    var canteenBudgetFen, reservedRatioBp: Int64
    /// The sums its orders maintain.
    var committedFen, completedFen, refundedFen: Int64
    @Millis var createdAt: Date
    @Millis var updatedAt: Date
    /// The filing (SPEC "The yearly filing"): its review state, how the unit feeds its staff, the
    /// union budget and what union orders committed and completed, the waiver and a return's reason.
    var status: FilingStatus = .submitted
    var canteenMode: CanteenMode = .own
    @NullEncoded var sharedCanteenOrganizationId: String? = nil
    var unionBudgetFen: Int64 = 0
    var unionCommittedFen: Int64 = 0
    var unionCompletedFen: Int64 = 0
    @NullEncoded var waiverReason: String? = nil
    @NullEncoded var waiverStatus: WaiverStatus? = nil
    @NullEncoded var waiverNote: String? = nil
    @NullEncoded var returnReason: String? = nil
    /// Read with the plan in the admin list (not columns of the plan's row).
    var organizationName = ""
    var department = ""
    var regionCode: String?

    /// `quota_plans`' columns in the order `row` binds them; `reserved_fen` is derived
    /// (`reservedFen`), stored for the admin list's filter.
    static let columns = [
        "organization_id", "year", "has_canteen", "canteen_budget_fen", "reserved_ratio_bp", "reserved_fen",
        "committed_fen", "completed_fen", "refunded_fen", "created_at", "updated_at", "status", "canteen_mode",
        "shared_canteen_organization_id", "union_budget_fen", "union_committed_fen", "union_completed_fen", "waiver_reason",
        "waiver_status", "waiver_note", "return_reason",
    ]

    /// The plan's own columns (and answer fields); the names beside it are read apart.
    private enum CodingKeys: String, CodingKey {
        case organizationId, year, hasCanteen, canteenBudgetFen, reservedRatioBp, committedFen, completedFen, refundedFen
        case createdAt, updatedAt, status, canteenMode, sharedCanteenOrganizationId, unionBudgetFen, unionCommittedFen
        case unionCompletedFen, waiverReason, waiverStatus, waiverNote, returnReason
    }

    /// The row's values in the order of `columns`.
    var row: SQLQueryString {
        """
        (\(bind: organizationId), \(bind: Int64(year)), \(bind: hasCanteen.bit), \(bind: canteenBudgetFen),
         \(bind: reservedRatioBp), \(bind: reservedFen), \(bind: committedFen), \(bind: completedFen), \(bind: refundedFen),
         \(bind: createdAt.millis), \(bind: updatedAt.millis), \(bind: status.rawValue), \(bind: canteenMode.rawValue),
         \(bind: sharedCanteenOrganizationId), \(bind: unionBudgetFen), \(bind: unionCommittedFen), \(bind: unionCompletedFen),
         \(bind: waiverReason), \(bind: waiverStatus?.rawValue), \(bind: waiverNote), \(bind: returnReason))
        """
    }

    /// The filing's id in its history and audit events.
    var id: String { FilingID(organizationId: organizationId, year: year).description }

    var input: QuotaPlanInput {
        QuotaPlanInput(hasCanteen: hasCanteen, canteenBudgetFen: canteenBudgetFen, reservedRatioBp: reservedRatioBp)
    }

    var reservedFen: Int64 { QuotaRules.reservedFen(budget: canteenBudgetFen, ratioBp: reservedRatioBp) }
    var remainingBudgetFen: Int64 { canteenBudgetFen - committedFen - completedFen }

    func progress(expectedBp: Int64) -> QuotaProgress {
        QuotaRules.progress(
            plan: input, committedFen: committedFen, completedFen: completedFen, refundedFen: refundedFen,
            expectedBp: expectedBp)
    }
}

/// Buyer organizations, their members, and quota plans.
struct BuyerStore: Sendable {
    let engine: DatabaseEngine

    /// Row locks for read-modify-write on PostgreSQL; SQLite's single writer already serialises.
    var forUpdate: String { engine == .postgres ? " FOR UPDATE" : "" }

    func insert(_ o: BuyerOrganization, in db: any SQLDatabase) async throws {
        try await db.raw("INSERT INTO buyer_organizations (\(BuyerOrganization.columnList)) VALUES \(o.row)").run()
        try await db.raw(
            """
            INSERT INTO buyer_members (user_id, organization_id, created_at, member_role)
            VALUES (\(bind: o.createdBy), \(bind: o.id), \(bind: o.createdAt.millis), 'manager')
            """
        ).run()
    }

    /// The names of the given organizations, for order lists (merchants see who bought).
    func names(organizationIds: [String], in db: any SQLDatabase) async throws -> [String: String] {
        guard !organizationIds.isEmpty else { return [:] }
        let rows = try await db.raw(
            "SELECT id, name FROM buyer_organizations WHERE id IN (\(SQLQueryString.list(Array(Set(organizationIds)))))"
        ).all()
        return try Dictionary(
            uniqueKeysWithValues: rows.map { (try $0.decode(column: "id", as: String.self), try $0.decode(column: "name", as: String.self)) })
    }

    func organization(id: String, in db: any SQLDatabase) async throws -> BuyerOrganization? {
        try await db.raw("SELECT * FROM buyer_organizations WHERE id = \(bind: id)").first().map { try $0.model(BuyerOrganization.self) }
    }

    /// The organization `userId` buys for, if any.
    func organization(memberId userId: String, in db: any SQLDatabase) async throws -> BuyerOrganization? {
        try await membership(userId: userId, in: db)?.organization
    }

    func creditCodeInUse(_ code: String, in db: any SQLDatabase) async throws -> Bool {
        try await db.raw("SELECT 1 AS found FROM buyer_organizations WHERE credit_code = \(bind: code)").first() != nil
    }

    /// pending → active; false when it was not pending (a concurrent verification).
    func activate(id: String, at: Date, in db: any SQLDatabase) async throws -> Bool {
        try await db.raw(
            """
            UPDATE buyer_organizations SET status = 'active', verified_at = \(bind: at.millis), updated_at = \(bind: at.millis)
            WHERE id = \(bind: id) AND status = 'pending' RETURNING id
            """
        ).first() != nil
    }

    // MARK: Quota plans

    func plan(organizationId: String, year: Int, lock: Bool = false, in db: any SQLDatabase) async throws -> QuotaPlan? {
        try await db.raw(
            """
            SELECT * FROM quota_plans WHERE organization_id = \(bind: organizationId) AND year = \(bind: Int64(year))
            \(unsafeRaw: lock ? forUpdate : "")
            """
        ).first().map { try $0.model(QuotaPlan.self) }
    }

    /// The plans of several organizations for one year, locked in organization order on
    /// PostgreSQL (after the products, as every placing transaction does, so none deadlock).
    func plans(organizationIds: [String], year: Int, lock: Bool, in db: any SQLDatabase) async throws -> [String: QuotaPlan] {
        guard !organizationIds.isEmpty else { return [:] }
        let sql: SQLQueryString = """
            SELECT * FROM quota_plans WHERE year = \(bind: Int64(year)) AND organization_id IN (\(SQLQueryString.list(organizationIds.sorted())))
            ORDER BY organization_id\(unsafeRaw: lock ? forUpdate : "")
            """
        var plans: [String: QuotaPlan] = [:]
        for row in try await db.raw(sql).all() {
            let plan = try row.model(QuotaPlan.self)
            plans[plan.organizationId] = plan
        }
        return plans
    }

    /// The sums a plan keeps of its orders, by the column that holds each.
    enum Sum: String {
        case committed = "committed_fen", completed = "completed_fen"
        case unionCommitted = "union_committed_fen", unionCompleted = "union_completed_fen"

        /// Where an order of `purpose` keeps its open and its settled amounts.
        static func of(_ purpose: OrderPurpose) -> (committed: Sum, completed: Sum) {
            purpose == .union ? (.unionCommitted, .unionCompleted) : (.committed, .completed)
        }
    }

    /// Adds placed checkouts' totals to their plans' committed sums, in one statement.
    func commit(_ amounts: [String: Int64], year: Int, at: Date, in db: any SQLDatabase) async throws {
        try await add(amounts, to: .committed, year: year, at: at, in: db)
    }

    /// Adds amounts to one of the plans' sums, in one statement.
    func add(_ amounts: [String: Int64], to sum: Sum, year: Int, at: Date, in db: any SQLDatabase) async throws {
        guard !amounts.isEmpty else { return }
        let sorted = amounts.sorted { $0.key < $1.key }
        let ids = sorted.map(\.key)
        let column = sum.rawValue
        let sql: SQLQueryString = """
            UPDATE quota_plans SET \(unsafeRaw: column) = \(unsafeRaw: column) + \(SQLQueryString.cases("organization_id", sorted.map { ($0.key, $0.value) })),
              updated_at = \(bind: at.millis)
            WHERE year = \(bind: Int64(year)) AND organization_id IN (\(SQLQueryString.list(ids)))
            """
        try await db.raw(sql).run()
    }

    /// Creates or replaces the declaration and its filing state; the sums are left as the orders
    /// made them (a new plan starts with its sums at zero).
    func save(_ plan: QuotaPlan, in db: any SQLDatabase) async throws {
        var fresh = plan
        (fresh.committedFen, fresh.completedFen, fresh.refundedFen) = (0, 0, 0)
        (fresh.unionCommittedFen, fresh.unionCompletedFen) = (0, 0)
        try await db.raw(
            """
            INSERT INTO quota_plans (\(QuotaPlan.columnList)) VALUES \(fresh.row)
            ON CONFLICT (organization_id, year) DO UPDATE SET has_canteen = excluded.has_canteen,
              canteen_budget_fen = excluded.canteen_budget_fen, reserved_ratio_bp = excluded.reserved_ratio_bp,
              reserved_fen = excluded.reserved_fen, updated_at = excluded.updated_at, status = excluded.status,
              canteen_mode = excluded.canteen_mode, shared_canteen_organization_id = excluded.shared_canteen_organization_id,
              union_budget_fen = excluded.union_budget_fen, waiver_reason = excluded.waiver_reason,
              waiver_status = excluded.waiver_status, waiver_note = excluded.waiver_note, return_reason = excluded.return_reason
            """
        ).run()
    }

    /// Moves money between the plan's sums, in the transaction of the order change that causes it.
    /// A union order's amounts move the union's sums instead (`purpose`); refunds count in
    /// `refunded_fen` whatever the purpose.
    func adjust(
        organizationId: String, year: Int, purpose: OrderPurpose = .canteen, committed: Int64 = 0, completed: Int64 = 0,
        refunded: Int64 = 0, at: Date, in db: any SQLDatabase
    ) async throws {
        let (committedSum, completedSum) = Sum.of(purpose)
        let (committedColumn, completedColumn) = (committedSum.rawValue, completedSum.rawValue)
        try await db.raw(
            """
            UPDATE quota_plans SET \(unsafeRaw: committedColumn) = \(unsafeRaw: committedColumn) + \(bind: committed),
              \(unsafeRaw: completedColumn) = \(unsafeRaw: completedColumn) + \(bind: completed),
              refunded_fen = refunded_fen + \(bind: refunded), updated_at = \(bind: at.millis)
            WHERE organization_id = \(bind: organizationId) AND year = \(bind: Int64(year))
            """
        ).run()
    }

    /// Every plan of `year` with its organization, by organization id; `behindExpectedBp` keeps
    /// the plans whose completion lies below that pro-rata share (SPEC `onTrack` false):
    /// completed < reserved and floor(completed × 10000 / reserved) < expected, i.e.
    /// completed × 10000 < expected × reserved.
    func plans(year: Int, behindExpectedBp: Int64?, after: String?, limit: Int?, in db: any SQLDatabase)
        async throws -> [QuotaPlan]
    {
        var sql = SQLQueryString(
            """
            SELECT q.*, o.name AS organization_name, o.department AS department, o.region_code AS region_code
            FROM quota_plans q
            JOIN buyer_organizations o ON o.id = q.organization_id WHERE q.year = \(bind: Int64(year))
            """)
        if let expected = behindExpectedBp {
            sql += " AND q.completed_fen < q.reserved_fen AND q.completed_fen * 10000 < \(bind: expected) * q.reserved_fen"
        }
        if let after { sql += " AND q.organization_id > \(bind: after)" }
        sql.appendInterpolation(unsafeRaw: " ORDER BY q.organization_id")
        if let limit { sql.appendInterpolation(unsafeRaw: " LIMIT \(limit)") }
        return try await db.raw(sql).all().map { row in
            var plan = try row.model(QuotaPlan.self)
            let organization = try row.model(PlanOrganization.self)
            (plan.organizationName, plan.department, plan.regionCode) =
                (organization.organizationName, organization.department, organization.regionCode)
            return plan
        }
    }

    /// The organization's name and department the admin list reads beside each plan.
    private struct PlanOrganization: RowModel {
        var organizationName: String
        var department: String
        var regionCode: String?
    }
}
