import Foundation
import SQLKit

/// The organization tree (SPEC "Hierarchy"): parents, subtrees and the changes that move them.
extension BuyerStore {
    /// The ids of `id` and every organization below it, each with its distance from `id` (0 for
    /// itself), however deep the stored tree (`maxDepth` bounds the walk all the same).
    func subtree(of id: String, maxDepth: Int = BuyerTreeRules.maxDepth, in db: any SQLDatabase) async throws
        -> [(id: String, distance: Int)]
    {
        try await db.raw(Self.subtreeSQL(of: id, maxDepth: maxDepth) + " SELECT id, distance FROM tree").all().map {
            (try $0.decode(column: "id", as: String.self), Int(try $0.decode(column: "distance", as: Int64.self)))
        }
    }

    /// `WITH RECURSIVE tree(id, distance)`: `id` and the organizations below it, to be followed by
    /// a SELECT from `tree`.
    static func subtreeSQL(of id: String, maxDepth: Int = BuyerTreeRules.maxDepth) -> SQLQueryString {
        """
        WITH RECURSIVE tree(id, distance) AS (
          SELECT id, 0 FROM buyer_organizations WHERE id = \(bind: id)
          UNION ALL
          SELECT o.id, t.distance + 1 FROM buyer_organizations o JOIN tree t ON o.parent_id = t.id
          WHERE t.distance < \(bind: Int64(maxDepth)))
        """
    }

    /// `id`'s ancestors, its parent first, up to the root (bounded like `subtree`).
    func ancestors(of id: String, maxDepth: Int = BuyerTreeRules.maxDepth, in db: any SQLDatabase) async throws -> [String] {
        try await db.raw(
            """
            WITH RECURSIVE up(id, parent_id, distance) AS (
              SELECT id, parent_id, 0 FROM buyer_organizations WHERE id = \(bind: id)
              UNION ALL
              SELECT o.id, o.parent_id, u.distance + 1 FROM buyer_organizations o JOIN up u ON o.id = u.parent_id
              WHERE u.distance < \(bind: Int64(maxDepth)))
            SELECT id FROM up WHERE distance > 0 ORDER BY distance
            """
        ).all().map { try $0.decode(column: "id", as: String.self) }
    }

    /// Serialises changes of the tree on PostgreSQL (two moves at once could otherwise each pass
    /// the cycle check and together make a cycle); SQLite's single writer already does.
    func lockTree(in db: any SQLDatabase) async throws {
        guard engine == .postgres else { return }
        try await db.raw("SELECT pg_advisory_xact_lock(2260)").run()
    }

    /// Whether an organization directly below `id` lies in another province than `region`.
    func hasChild(of id: String, outsideProvinceOf region: String, in db: any SQLDatabase) async throws -> Bool {
        try await db.raw(
            """
            SELECT 1 AS found FROM buyer_organizations WHERE parent_id = \(bind: id) AND region_code IS NOT NULL
              AND region_code NOT LIKE \(bind: String(region.prefix(2)) + "%") LIMIT 1
            """
        ).first() != nil
    }

    /// Writes the fields a PATCH may change.
    func update(_ o: BuyerOrganization, in db: any SQLDatabase) async throws {
        try await db.raw(
            """
            UPDATE buyer_organizations SET parent_id = \(bind: o.parentId), region_code = \(bind: o.regionCode),
              department = \(bind: o.department), canteen_address = \(bind: o.canteenAddress),
              contact_name = \(bind: o.contactName), contact_phone = \(bind: o.contactPhone), updated_at = \(bind: o.updatedAt.millis)
            WHERE id = \(bind: o.id)
            """
        ).run()
    }

    /// What a list of organizations asks for (API.md `GET /buyer-organizations`).
    struct OrganizationFilter: Sendable {
        var status: BuyerOrganizationStatus?
        var parentId: String?
        /// Organizations whose region lies inside this division.
        var regionCode: String?
        /// Organizations inside this division as well (a finance officer's region).
        var scopeRegionCode: String?
        /// Only this organization and those below it (a manager's view); nil: all.
        var withinSubtreeOf: String?
    }

    func organizations(_ filter: OrganizationFilter, after: (Int64, String)?, limit: Int, in db: any SQLDatabase)
        async throws -> [BuyerOrganization]
    {
        var sql = SQLQueryString("SELECT * FROM buyer_organizations WHERE 1 = 1")
        if let status = filter.status { sql += " AND status = \(bind: status.rawValue)" }
        if let parent = filter.parentId { sql += " AND parent_id = \(bind: parent)" }
        if let region = filter.regionCode, RegionRules.isWellFormed(region) {
            sql += " AND region_code LIKE \(bind: String(RegionRules.prefix(of: region)) + "%")"
        }
        if let scope = filter.scopeRegionCode {
            sql += " AND region_code LIKE \(bind: String(RegionRules.prefix(of: scope)) + "%")"
        }
        if let root = filter.withinSubtreeOf {
            sql += " AND id IN (" + Self.subtreeSQL(of: root) + " SELECT id FROM tree)"
        }
        sql += .newestFirst(after: after, time: "created_at", id: "id", limit: limit)
        return try await db.raw(sql).all().map { try $0.model(BuyerOrganization.self) }
    }
}
