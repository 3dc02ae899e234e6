import Foundation
import SQLKit

public enum CountyLevel: String, Codable, Sendable, Hashable, CaseIterable {
    case national
    case provincial
}

struct County: Codable, Sendable, Equatable, TableRow {
    var code: String
    var name: String
    var prefecture: String
    var province: String
    var level: CountyLevel
}

extension County {
    /// `counties`' columns in the order `row` binds them; the creation time is not held (read
    /// beside the county as `ReferenceStore.Created`).
    static let columns = ["code", "name", "prefecture", "province", "level", "created_at"]

    /// The row's values in the order of `columns`.
    func row(createdAt: Date) -> SQLQueryString {
        "(\(bind: code), \(bind: name), \(bind: prefecture), \(bind: province), \(bind: level.rawValue), \(bind: createdAt.millis))"
    }
}

struct Category: Codable, Sendable, Equatable, TableRow {
    var id: String
    var name: String
    @NullEncoded var parentId: String?
}

extension Category {
    /// `categories`' columns in the order `row` binds them; the position (the order of the
    /// shipped tree) and the creation time are not held.
    static let columns = ["id", "name", "parent_id", "position", "created_at"]

    /// The row's values in the order of `columns`.
    func row(position: Int, createdAt: Date) -> SQLQueryString {
        "(\(bind: id), \(bind: name), \(bind: parentId), \(bind: Int64(position)), \(bind: createdAt.millis))"
    }
}

/// Counties (脱贫县) and the category tree.
struct ReferenceStore: Sendable {
    let clock: AppClock

    func counties(in db: any SQLDatabase) async throws -> [(County, Date)] {
        try await db.raw("SELECT * FROM counties ORDER BY code").all().map { (try $0.model(County.self), try Self.created($0)) }
    }

    func county(code: String, in db: any SQLDatabase) async throws -> County? {
        try await db.raw("SELECT * FROM counties WHERE code = \(bind: code)").first().map { try $0.model(County.self) }
    }

    /// Whether a county code and a merchant id are known (nil: not asked), in one
    /// read: list filters refuse unknown values (API.md "Conventions").
    func known(countyCode: String?, merchantId: String?, in db: any SQLDatabase) async throws
        -> (county: Bool, merchant: Bool)
    {
        let row = try await db.raw(
            """
            SELECT (SELECT COUNT(*) FROM counties WHERE code = \(bind: countyCode ?? "")) AS counties,
              (SELECT COUNT(*) FROM merchants WHERE id = \(bind: merchantId ?? "")) AS merchants
            """
        ).first()
        func found(_ column: String) throws -> Bool { try (row?.decode(column: column, as: Int64.self) ?? 0) > 0 }
        return (try countyCode == nil || found("counties"), try merchantId == nil || found("merchants"))
    }

    func countyCreatedAt(code: String, in db: any SQLDatabase) async throws -> Date? {
        try await db.raw("SELECT created_at FROM counties WHERE code = \(bind: code)").first().map(Self.created)
    }

    /// Inserts the county unless its code exists; answers whether it was inserted.
    @discardableResult
    func insert(_ county: County, in db: any SQLDatabase) async throws -> Bool {
        let rows = try await db.raw(
            """
            INSERT INTO counties (\(County.columnList)) VALUES \(county.row(createdAt: clock.now))
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
        try await db.raw("SELECT * FROM categories ORDER BY position").all().map {
            (try $0.model(Category.self), try Self.created($0))
        }
    }

    /// Loads `Catalog/` idempotently: rows that exist are left as they are (an admin may have
    /// corrected a county), missing ones are added. Answers how many rows were added.
    func load(_ reference: ReferenceData, in db: any SQLDatabase) async throws -> Int {
        // Regions in file order: every division after its parent.
        var added = try await RegionStore().insertMissing(reference.regions, at: clock.now, in: db)
        for county in reference.counties where try await insert(county, in: db) {
            added += 1
        }
        for (position, category) in reference.categories.enumerated() {
            let rows = try await db.raw(
                """
                INSERT INTO categories (\(Category.columnList)) VALUES \(category.row(position: position, createdAt: clock.now))
                ON CONFLICT (id) DO NOTHING RETURNING id
                """
            ).all()
            added += rows.count
        }
        return added
    }

    /// A county's or category's creation time, read beside it.
    private struct Created: RowModel {
        @Millis var createdAt: Date
    }

    private static func created(_ row: any SQLRow) throws -> Date {
        try row.model(Created.self).createdAt
    }
}

/// The reference data shipped in `Catalog/`.
public struct ReferenceData: Sendable {
    var counties: [County]
    var categories: [Category]
    var regions: [Region]

    static func load(_ files: FileSource) throws -> ReferenceData {
        let counties = try files.decode([County].self, "counties.json")
        let regions = try files.decode([Region].self, "regions.json")
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
        return ReferenceData(counties: counties, categories: categories, regions: regions)
    }
}
