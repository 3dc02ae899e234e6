import Foundation
import SQLKit

enum BuyerOrganizationStatus: String, Codable, Sendable, CaseIterable {
    case pending
    case active
}

struct BuyerOrganization: Sendable {
    var id: String
    var name: String
    var creditCode: String
    var department: String
    var countyCode: String?
    var canteenAddress: String
    var contactName: String
    var contactPhone: String
    var status: BuyerOrganizationStatus
    var createdBy: String
    var verifiedAt: Date?
    var createdAt: Date
    var updatedAt: Date
}

/// One organization's plan for one quota year, with the sums its orders maintain.
struct QuotaPlan: Sendable {
    var organizationId: String
    var year: Int
    var hasCanteen: Bool
    var canteenBudgetFen: Int64
    var reservedRatioBp: Int64
    var committedFen: Int64
    var completedFen: Int64
    var refundedFen: Int64
    var createdAt: Date
    var updatedAt: Date
    /// Read with the plan in the admin list.
    var organizationName = ""
    var department = ""

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
        try await db.raw(
            """
            INSERT INTO buyer_organizations (id, name, credit_code, department, county_code, canteen_address,
              contact_name, contact_phone, status, created_by, verified_at, created_at, updated_at)
            VALUES (\(bind: o.id), \(bind: o.name), \(bind: o.creditCode), \(bind: o.department), \(bind: o.countyCode),
              \(bind: o.canteenAddress), \(bind: o.contactName), \(bind: o.contactPhone), \(bind: o.status.rawValue),
              \(bind: o.createdBy), \(bind: o.verifiedAt?.millis), \(bind: o.createdAt.millis), \(bind: o.updatedAt.millis))
            """
        ).run()
        try await db.raw(
            """
            INSERT INTO buyer_members (user_id, organization_id, created_at)
            VALUES (\(bind: o.createdBy), \(bind: o.id), \(bind: o.createdAt.millis))
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
        try await db.raw("SELECT * FROM buyer_organizations WHERE id = \(bind: id)").first().map(Self.organization)
    }

    /// The organization `userId` buys for, if any.
    func organization(memberId userId: String, in db: any SQLDatabase) async throws -> BuyerOrganization? {
        try await db.raw(
            """
            SELECT o.* FROM buyer_members m JOIN buyer_organizations o ON o.id = m.organization_id
            WHERE m.user_id = \(bind: userId)
            """
        ).first().map(Self.organization)
    }

    func creditCodeInUse(_ code: String, in db: any SQLDatabase) async throws -> Bool {
        try await db.raw("SELECT 1 AS found FROM buyer_organizations WHERE credit_code = \(bind: code)").first() != nil
    }

    func organizations(status: BuyerOrganizationStatus?, after: (Int64, String)?, limit: Int, in db: any SQLDatabase)
        async throws -> [BuyerOrganization]
    {
        var sql = SQLQueryString("SELECT * FROM buyer_organizations WHERE 1 = 1")
        if let status { sql += " AND status = \(bind: status.rawValue)" }
        if let after { sql += .after(after, time: "created_at", id: "id") }
        sql.appendInterpolation(unsafeRaw: " ORDER BY created_at DESC, id DESC LIMIT \(limit)")
        return try await db.raw(sql).all().map(Self.organization)
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
        ).first().map(Self.plan)
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
            let plan = try Self.plan(row)
            plans[plan.organizationId] = plan
        }
        return plans
    }

    /// Adds placed checkouts' totals to their plans' committed sums, in one statement.
    func commit(_ amounts: [String: Int64], year: Int, at: Date, in db: any SQLDatabase) async throws {
        try await add(amounts, to: "committed_fen", year: year, at: at, in: db)
    }

    /// Adds amounts to one of the plans' sums (`committed_fen` or `completed_fen`), in one statement.
    func add(_ amounts: [String: Int64], to column: String, year: Int, at: Date, in db: any SQLDatabase) async throws {
        precondition(["committed_fen", "completed_fen"].contains(column))
        guard !amounts.isEmpty else { return }
        let ids = amounts.keys.sorted()
        let sql: SQLQueryString = """
            UPDATE quota_plans SET \(unsafeRaw: column) = \(unsafeRaw: column) + \(SQLQueryString.cases("organization_id", ids.map { ($0, amounts[$0]!) })),
              updated_at = \(bind: at.millis)
            WHERE year = \(bind: Int64(year)) AND organization_id IN (\(SQLQueryString.list(ids)))
            """
        try await db.raw(sql).run()
    }

    /// Creates or replaces the declaration; the sums are left as the orders made them.
    func save(_ plan: QuotaPlan, in db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO quota_plans (organization_id, year, has_canteen, canteen_budget_fen, reserved_ratio_bp,
              reserved_fen, committed_fen, completed_fen, refunded_fen, created_at, updated_at)
            VALUES (\(bind: plan.organizationId), \(bind: Int64(plan.year)), \(bind: plan.hasCanteen ? Int64(1) : 0),
              \(bind: plan.canteenBudgetFen), \(bind: plan.reservedRatioBp), \(bind: plan.reservedFen), 0, 0, 0,
              \(bind: plan.createdAt.millis), \(bind: plan.updatedAt.millis))
            ON CONFLICT (organization_id, year) DO UPDATE SET has_canteen = excluded.has_canteen,
              canteen_budget_fen = excluded.canteen_budget_fen, reserved_ratio_bp = excluded.reserved_ratio_bp,
              reserved_fen = excluded.reserved_fen, updated_at = excluded.updated_at
            """
        ).run()
    }

    /// Moves money between the plan's sums, in the transaction of the order change that causes it.
    func adjust(
        organizationId: String, year: Int, committed: Int64 = 0, completed: Int64 = 0, refunded: Int64 = 0, at: Date,
        in db: any SQLDatabase
    ) async throws {
        try await db.raw(
            """
            UPDATE quota_plans SET committed_fen = committed_fen + \(bind: committed),
              completed_fen = completed_fen + \(bind: completed), refunded_fen = refunded_fen + \(bind: refunded),
              updated_at = \(bind: at.millis)
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
            SELECT q.*, o.name AS organization_name, o.department AS department FROM quota_plans q
            JOIN buyer_organizations o ON o.id = q.organization_id WHERE q.year = \(bind: Int64(year))
            """)
        if let expected = behindExpectedBp {
            sql += " AND q.completed_fen < q.reserved_fen AND q.completed_fen * 10000 < \(bind: expected) * q.reserved_fen"
        }
        if let after { sql += " AND q.organization_id > \(bind: after)" }
        sql.appendInterpolation(unsafeRaw: " ORDER BY q.organization_id")
        if let limit { sql.appendInterpolation(unsafeRaw: " LIMIT \(limit)") }
        return try await db.raw(sql).all().map { row in
            var plan = try Self.plan(row)
            plan.organizationName = try row.decode(column: "organization_name", as: String.self)
            plan.department = try row.decode(column: "department", as: String.self)
            return plan
        }
    }

    private static func organization(_ row: any SQLRow) throws -> BuyerOrganization {
        BuyerOrganization(
            id: try row.decode(column: "id", as: String.self), name: try row.decode(column: "name", as: String.self),
            creditCode: try row.decode(column: "credit_code", as: String.self),
            department: try row.decode(column: "department", as: String.self),
            countyCode: try row.decode(column: "county_code", as: String?.self),
            canteenAddress: try row.decode(column: "canteen_address", as: String.self),
            contactName: try row.decode(column: "contact_name", as: String.self),
            contactPhone: try row.decode(column: "contact_phone", as: String.self),
            status: BuyerOrganizationStatus(rawValue: try row.decode(column: "status", as: String.self)) ?? .pending,
            createdBy: try row.decode(column: "created_by", as: String.self),
            verifiedAt: try row.decode(column: "verified_at", as: Int64?.self).map(Date.init(millis:)),
            createdAt: Date(millis: try row.decode(column: "created_at", as: Int64.self)),
            updatedAt: Date(millis: try row.decode(column: "updated_at", as: Int64.self)))
    }

    private static func plan(_ row: any SQLRow) throws -> QuotaPlan {
        QuotaPlan(
            organizationId: try row.decode(column: "organization_id", as: String.self),
            year: Int(try row.decode(column: "year", as: Int64.self)),
            hasCanteen: try row.decode(column: "has_canteen", as: Int64.self) != 0,
            canteenBudgetFen: try row.decode(column: "canteen_budget_fen", as: Int64.self),
            reservedRatioBp: try row.decode(column: "reserved_ratio_bp", as: Int64.self),
            committedFen: try row.decode(column: "committed_fen", as: Int64.self),
            completedFen: try row.decode(column: "completed_fen", as: Int64.self),
            refundedFen: try row.decode(column: "refunded_fen", as: Int64.self),
            createdAt: Date(millis: try row.decode(column: "created_at", as: Int64.self)),
            updatedAt: Date(millis: try row.decode(column: "updated_at", as: Int64.self)))
    }
}
