import Foundation
import SQLKit

/// An administrative division (API.md `GET /api/v1/regions`).
struct Region: TableRow, Codable, Equatable {
    var code: String
    var name: String
    var level: RegionLevel
    @NullEncoded var parentCode: String?
}

extension Region {
    /// `regions`' columns in the order `row` binds them; the creation time is not held.
    static let columns = ["code", "name", "level", "parent_code", "created_at"]

    func row(createdAt: Date) -> SQLQueryString {
        "(\(bind: code), \(bind: name), \(bind: level.rawValue), \(bind: parentCode), \(bind: createdAt.millis))"
    }
}

/// The administrative divisions: shipped in `Catalog/regions.json`, added to by admins.
struct RegionStore: Sendable {
    /// SQL true when the scope in column `scope` (a province, prefecture or county code) covers
    /// the code in column `code`: `RegionRules.covers` for two columns, on SQLite and PostgreSQL.
    static func covers(_ scope: String, _ code: String) -> SQLQueryString {
        let (s, c) = (SQLQueryString(scope), SQLQueryString(code))
        return """
            (length(\(s)) = 6 AND length(\(c)) = 6 AND substr(\(c), 1, 2) = substr(\(s), 1, 2) AND (substr(\(s), 3, 4) = '0000'
              OR (substr(\(c), 1, 4) = substr(\(s), 1, 4) AND (substr(\(s), 5, 2) = '00' OR \(c) = \(s)))))
            """
    }

    /// The divisions directly under `parent`, or the provinces when it is nil, by code.
    func regions(parent: String?, in db: any SQLDatabase) async throws -> [Region] {
        let condition: SQLQueryString = parent.map { "parent_code = \(bind: $0)" } ?? "parent_code IS NULL"
        return try await db.raw("SELECT * FROM regions WHERE \(condition) ORDER BY code").all().map { try $0.model(Region.self) }
    }

    func region(code: String, in db: any SQLDatabase) async throws -> Region? {
        try await db.raw("SELECT * FROM regions WHERE code = \(bind: code)").first().map { try $0.model(Region.self) }
    }

    /// Inserts the divisions whose codes are new, a chunk a statement (parents before children,
    /// as `Catalog/regions.json` lists them); answers how many were new.
    func insertMissing(_ regions: [Region], at: Date, in db: any SQLDatabase) async throws -> Int {
        var added = 0
        for start in stride(from: 0, to: regions.count, by: 200) {
            let rows = regions[start..<min(start + 200, regions.count)].map { $0.row(createdAt: at) }
            added += try await db.raw(
                "INSERT INTO regions (\(Region.columnList)) VALUES " + .values(Array(rows))
                    + " ON CONFLICT (code) DO NOTHING RETURNING code"
            ).all().count
        }
        return added
    }

    /// Inserts the division unless its code exists; answers whether it was inserted.
    @discardableResult
    func insert(_ region: Region, at: Date, in db: any SQLDatabase) async throws -> Bool {
        try await !db.raw(
            """
            INSERT INTO regions (\(Region.columnList)) VALUES \(region.row(createdAt: at))
            ON CONFLICT (code) DO NOTHING RETURNING code
            """
        ).all().isEmpty
    }
}
