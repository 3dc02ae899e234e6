import Foundation
import SQLKit

public enum CountyLevel: String, Codable, Sendable, Hashable, CaseIterable {
    case national
    case provincial
}

struct County: Codable, Sendable, Equatable {
    var code: String
    var name: String
    var prefecture: String
    var province: String
    var level: CountyLevel
}

struct Category: Codable, Sendable, Equatable {
    var id: String
    var name: String
    var parentId: String?
}

/// Counties (脱贫县) and the category tree.
struct ReferenceStore: Sendable {
    let clock: AppClock

    func counties(in db: any SQLDatabase) async throws -> [(County, Date)] {
        try await db.raw("SELECT * FROM counties ORDER BY code").all().map { (try Self.county($0), try Self.created($0)) }
    }

    func county(code: String, in db: any SQLDatabase) async throws -> County? {
        try await db.raw("SELECT * FROM counties WHERE code = \(bind: code)").first().map(Self.county)
    }

    /// Whether a county code, a category id and a merchant id are known (nil: not asked), in one
    /// read: list filters refuse unknown values (API.md "Conventions").
    func known(countyCode: String?, categoryId: String?, merchantId: String?, in db: any SQLDatabase) async throws
        -> (county: Bool, category: Bool, merchant: Bool)
    {
        let row = try await db.raw(
            """
            SELECT (SELECT COUNT(*) FROM counties WHERE code = \(bind: countyCode ?? "")) AS counties,
              (SELECT COUNT(*) FROM categories WHERE id = \(bind: categoryId ?? "")) AS categories,
              (SELECT COUNT(*) FROM merchants WHERE id = \(bind: merchantId ?? "")) AS merchants
            """
        ).first()
        func found(_ column: String) throws -> Bool { try (row?.decode(column: column, as: Int64.self) ?? 0) > 0 }
        return (
            try countyCode == nil || found("counties"), try categoryId == nil || found("categories"),
            try merchantId == nil || found("merchants")
        )
    }

    func countyCreatedAt(code: String, in db: any SQLDatabase) async throws -> Date? {
        try await db.raw("SELECT created_at FROM counties WHERE code = \(bind: code)").first().map(Self.created)
    }

    /// Inserts the county unless its code exists; answers whether it was inserted.
    @discardableResult
    func insert(_ county: County, in db: any SQLDatabase) async throws -> Bool {
        let rows = try await db.raw(
            """
            INSERT INTO counties (code, name, prefecture, province, level, created_at)
            VALUES (\(bind: county.code), \(bind: county.name), \(bind: county.prefecture), \(bind: county.province),
              \(bind: county.level.rawValue), \(bind: clock.now.millis))
            ON CONFLICT (code) DO NOTHING RETURNING code
            """
        ).all()
        return !rows.isEmpty
    }

    func update(_ county: County, in db: any SQLDatabase) async throws {
        try await db.raw(
            """
            UPDATE counties SET name = \(bind: county.name), prefecture = \(bind: county.prefecture),
              province = \(bind: county.province), level = \(bind: county.level.rawValue)
            WHERE code = \(bind: county.code)
            """
        ).run()
    }

    func categories(in db: any SQLDatabase) async throws -> [(Category, Date)] {
        try await db.raw("SELECT * FROM categories ORDER BY position").all().map { row in
            (
                Category(
                    id: try row.decode(column: "id", as: String.self),
                    name: try row.decode(column: "name", as: String.self),
                    parentId: try row.decode(column: "parent_id", as: String?.self)),
                try Self.created(row)
            )
        }
    }

    /// Loads `Catalog/` idempotently: rows that exist are left as they are (an admin may have
    /// corrected a county), missing ones are added. Answers how many rows were added.
    func load(_ reference: ReferenceData, in db: any SQLDatabase) async throws -> Int {
        var added = 0
        for county in reference.counties where try await insert(county, in: db) {
            added += 1
        }
        for (position, category) in reference.categories.enumerated() {
            let rows = try await db.raw(
                """
                INSERT INTO categories (id, name, parent_id, position, created_at)
                VALUES (\(bind: category.id), \(bind: category.name), \(bind: category.parentId),
                  \(bind: Int64(position)), \(bind: clock.now.millis))
                ON CONFLICT (id) DO NOTHING RETURNING id
                """
            ).all()
            added += rows.count
        }
        return added
    }

    private static func county(_ row: any SQLRow) throws -> County {
        County(
            code: try row.decode(column: "code", as: String.self),
            name: try row.decode(column: "name", as: String.self),
            prefecture: try row.decode(column: "prefecture", as: String.self),
            province: try row.decode(column: "province", as: String.self),
            level: CountyLevel(rawValue: try row.decode(column: "level", as: String.self)) ?? .provincial)
    }

    private static func created(_ row: any SQLRow) throws -> Date {
        Date(millis: try row.decode(column: "created_at", as: Int64.self))
    }
}

/// The reference data shipped in `Catalog/`.
public struct ReferenceData: Sendable {
    var counties: [County]
    var categories: [Category]

    static func load(_ files: FileSource) throws -> ReferenceData {
        let counties = try files.decode([County].self, "counties.json")
        struct Node: Decodable {
            var id: String
            var name: String
            var children: [Node]?
        }
        let tree = try files.decode([Node].self, "categories.json")
        var categories: [Category] = []
        for node in tree {
            categories.append(Category(id: node.id, name: node.name, parentId: nil))
            for child in node.children ?? [] {
                categories.append(Category(id: child.id, name: child.name, parentId: node.id))
            }
        }
        return ReferenceData(counties: counties, categories: categories)
    }
}
