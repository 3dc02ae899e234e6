import Foundation
import SQLKit
import SQLiteNIO

/// What the catalog index reads: products as `IndexedProduct`, the change feed (migration 22) and
/// the names of categories and counties its facets show.
extension ProductStore {
    /// What the index reads of a product, in the order `indexed(_:)` reads it.
    private static let indexColumns = SelectColumns([
        ("p.id", "id"), ("p.category_id", "category_id"), ("p.top_category_id", "top_category_id"),
        ("p.origin_county_code", "origin_county_code"), ("p.labels", "labels"), ("p.status", "status"),
        ("p.merchant_active", "merchant_active"), ("p.certificate_expires_at", "certificate_expires_at"),
        ("p.price_fen", "price_fen"), ("p.sales", "sales"), ("p.merchant_rating", "merchant_rating"),
        ("p.created_at", "created_at"), ("p.search_text", "search_text"), ("p.title", "title"),
        ("(SELECT company_name FROM merchants WHERE id = p.merchant_id)", "merchant_name"),
    ])
    /// The same with the row's place in storage last (SQLite's chunked read).
    private static let positionedColumns = indexColumns + SelectColumns([("p.rowid", "position")])

    private static func indexSelect(_ columns: SelectColumns = indexColumns) -> String {
        "SELECT \(columns.sql) FROM products p"
    }

    /// Where a chunked read of every product stands: after a row's position in storage order.
    enum IndexCursor: Sendable, Equatable {
        case start
        /// SQLite: the table's rowid, so a chunk is a sequential read of the table (in id order each
        /// row was a seek from the id index into the table: a fifth of a 1,000,000-product build).
        /// A row written between chunks is caught up from the feed. A plain `VACUUM` may renumber
        /// rowids without a feed row, so none may run while an index builds (backups use
        /// `VACUUM INTO`, which renumbers nothing).
        case rowid(Int64)
        /// PostgreSQL: the id (its heap has no stable order to page by).
        case id(String)
    }

    /// Up to `limit` products after `cursor` in storage order (building the index in chunks), and
    /// the cursor after the last of them. SQLite's rows come straight from sqlite-nio and are
    /// decoded by position: decoding by name (SQLKit: a dictionary lookup and the `Decodable`
    /// machinery per column) was 14 % of a 1,000,000-product start-up, more than SQLite's own
    /// reading. A cursor of the other engine's kind is an error (it would restart the read).
    func indexed(after cursor: IndexCursor, limit: Int, from database: any Database) async throws
        -> (products: [IndexedProduct], next: IndexCursor)
    {
        guard let sqlite = database as? SQLiteDatabase else {
            let id: String
            switch cursor {
            case .start: id = ""
            case .id(let after): id = after
            case .rowid: throw IndexCursorMismatch()
            }
            return try await database.read { db in try await indexedById(after: id, limit: limit, in: db) }
        }
        var rowid = Int64.min
        switch cursor {
        case .start: break
        case .rowid(let after): rowid = after
        case .id: throw IndexCursorMismatch()
        }
        let rows = try await sqlite.readRows(
            "\(Self.indexSelect(Self.positionedColumns)) WHERE p.rowid > ?1 ORDER BY p.rowid LIMIT ?2",
            [.integer(Int(rowid)), .integer(limit)])
        try SQLiteColumns.check(rows, names: Self.positionedColumns.names)
        var products: [IndexedProduct] = []
        products.reserveCapacity(rows.count)
        let position = Self.positionedColumns.place("position")
        var merchants = MerchantNames()
        for row in rows {
            let columns = SQLiteColumns(row)
            products.append(try Self.indexed(columns, merchants: &merchants))
            rowid = try columns.integer(position)
        }
        return (products, .rowid(rowid))
    }

    /// The same by id through SQLKit (PostgreSQL, whose heap has no stable order to page by).
    private func indexedById(after id: String, limit: Int, in db: any SQLDatabase) async throws
        -> (products: [IndexedProduct], next: IndexCursor)
    {
        let rows = try await db.raw(
            "\(unsafeRaw: Self.indexSelect()) WHERE p.id > \(bind: id) ORDER BY p.id LIMIT \(literal: limit)"
        ).all()
        let products = try Self.indexed(rows)
        return (products, .id(products.last?.id ?? id))
    }

    /// The products of `ids` that exist.
    func indexed(ids: [String], in db: any SQLDatabase) async throws -> [IndexedProduct] {
        guard !ids.isEmpty else { return [] }
        return try Self.indexed(try await db.raw("\(unsafeRaw: Self.indexSelect()) WHERE p.id IN (\(binds: ids))").all())
    }

    /// Rows of `indexColumns` read through SQLKit (by name), as the index holds them.
    private static func indexed(_ rows: [any SQLRow]) throws -> [IndexedProduct] {
        var merchants = MerchantNames()
        return try rows.map { try indexed(NamedColumns(row: $0, names: indexColumns.names), merchants: &merchants) }
    }

    /// The rows of `ids` that exist, in no particular order (a page the index chose). On SQLite
    /// the rows come straight from sqlite-nio, decoded by position (`SQLiteColumns`): by name,
    /// the decoding was a tenth of a catalog request's time.
    func products(ids: [String], from database: any Database) async throws -> [ProductRow] {
        guard !ids.isEmpty else { return [] }
        guard let sqlite = database as? SQLiteDatabase else {
            return try await database.read { db in
                try await db.raw("\(unsafeRaw: Self.select) WHERE p.id IN (\(binds: ids))").all().map(Self.row)
            }
        }
        let places = ids.indices.map { "?\($0 + 1)" }.joined(separator: ", ")
        let rows = try await sqlite.readRows("\(Self.select) WHERE p.id IN (\(places))", ids.map { .text($0) })
        try SQLiteColumns.check(rows, names: Self.rowColumns.names)
        return try rows.map { try Self.row(SQLiteColumns($0)) }
    }

    /// The change feed's head: the last sequence number written or pruned (AUTOINCREMENT never
    /// reuses a number, so after a prune the head is `pruned_through`). Null without the feed's row.
    private static let feedHead = SelectColumns([
        (
            "(SELECT MAX(IFNULL((SELECT MAX(seq) FROM catalog_changes), 0), pruned_through) FROM catalog_feed WHERE id = 1)",
            "feed_head"
        )
    ])
    /// Whether `productsWithFeedHead` answers for `database` (SQLite).
    static func readsFeedHeadWithRows(from database: any Database) -> Bool { database is SQLiteDatabase }

    /// A page's rows with the head after them (so `row` reads its own places).
    private static let headedColumns = rowColumns + feedHead

    /// `products(ids:from:)` with the change feed's head read in the same statement, so from the
    /// same snapshot as the rows; SQLite only (nil elsewhere; without the feed's row, a damaged
    /// restore, `CatalogFeedMissing`). When the head is what the catalog index had applied, the
    /// index had every change committed before the rows were read, and a read needs no catch-up
    /// query of its own (`CatalogFeed.current`). With no ids it reads the head alone: the
    /// one-row head is the left side of the join, so the statement answers a row even when no
    /// product matches.
    func productsWithFeedHead(ids: [String], from database: any Database) async throws
        -> (rows: [ProductRow], feedHead: Int64)?
    {
        guard let sqlite = database as? SQLiteDatabase else { return nil }
        let places = ids.isEmpty ? "0" : "p.id IN (\(ids.indices.map { "?\($0 + 1)" }.joined(separator: ", ")))"
        let rows = try await sqlite.readRows(
            "SELECT \(Self.headedColumns.sql) FROM (SELECT 1) LEFT JOIN products p ON \(places)", ids.map { .text($0) })
        try SQLiteColumns.check(rows, names: Self.headedColumns.names)
        let head = Self.headedColumns.place("feed_head"), id = Self.headedColumns.place("id")
        guard let first = rows.first.map(SQLiteColumns.init), try !first.isNull(head) else { throw CatalogFeedMissing() }
        let found = try rows.map(SQLiteColumns.init).filter { try !$0.isNull(id) }
        return (try found.map { try Self.row($0) }, try first.integer(head))
    }

    /// Merchants' names as the index holds them (`SearchTerms.normalize`), each normalized once
    /// within a read: a chunk of thousands of products names a few hundred merchants, and normalizing
    /// every row's name was a few percent of reading a 1,000,000-product build.
    /// Names are told apart by their bytes: `String`'s `==` would take a canonically equivalent
    /// name (金 and its compatibility ideograph) for one seen before, whose bytes and so whose
    /// search terms differ.
    struct MerchantNames {
        private struct Raw: Hashable {
            var text: String
            static func == (a: Raw, b: Raw) -> Bool { a.text.utf8.elementsEqual(b.text.utf8) }
            func hash(into hasher: inout Hasher) {
                var text = text
                text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
            }
        }
        private var normalized: [Raw: String] = [:]

        mutating func normalize(_ raw: String) -> String {
            if let known = normalized[Raw(text: raw)] { return known }
            let value = SearchTerms.normalize(raw)
            normalized[Raw(text: raw)] = value
            return value
        }
    }

    /// Where `indexed` finds each column in `indexColumns`, looked up by name once.
    private enum IndexPlace {
        static func of(_ name: String) -> Int { indexColumns.place(name) }
        static let id = of("id"), categoryId = of("category_id"), topCategoryId = of("top_category_id")
        static let countyCode = of("origin_county_code"), labels = of("labels"), status = of("status")
        static let merchantActive = of("merchant_active"), certificateExpiresAt = of("certificate_expires_at")
        static let priceFen = of("price_fen"), sales = of("sales"), merchantRating = of("merchant_rating")
        static let createdAt = of("created_at"), searchText = of("search_text"), title = of("title")
        static let merchantName = of("merchant_name")
    }

    /// A product as the index holds it, from a row of `indexColumns` (either engine's).
    private static func indexed<Row: RowColumns>(_ row: Row, merchants: inout MerchantNames) throws -> IndexedProduct {
        typealias P = IndexPlace
        let labels = try row.text(P.labels)
        return IndexedProduct(
            id: try row.text(P.id), categoryId: try row.text(P.categoryId), topCategoryId: try row.text(P.topCategoryId),
            countyCode: try row.text(P.countyCode), labels: labels.isEmpty ? [] : labels.split(separator: ",").map(String.init),
            listed: try row.text(P.status) == ProductStatus.listed.rawValue, merchantActive: try row.integer(P.merchantActive) != 0,
            certificateExpiresAt: try row.optionalInteger(P.certificateExpiresAt),
            priceFen: try row.integer(P.priceFen), sales: try row.integer(P.sales), merchantRating: try row.integer(P.merchantRating),
            createdAt: try row.integer(P.createdAt), searchText: try row.text(P.searchText),
            title: SearchTerms.normalize(try row.text(P.title)), merchantName: merchants.normalize(try row.optionalText(P.merchantName) ?? ""))
    }

    /// A chunked read was given a cursor of the other engine's kind.
    struct IndexCursorMismatch: Error, CustomStringConvertible {
        var description: String { "the catalog index's chunked read was given a cursor of the other database engine" }
    }

    struct CatalogChange: Sendable, Equatable {
        var seq: Int64
        var kind: String
        var key: String
    }

    /// PostgreSQL's transaction horizon: every transaction below `xmin` has ended; `xmax` is past
    /// every transaction started so far (nil on SQLite, whose single writer commits in order).
    struct Snapshot: Sendable {
        var xmin: Int64
        var xmax: Int64
    }

    struct FeedRead: Sendable {
        var changes: [CatalogChange]
        var prunedThrough: Int64
        var snapshot: Snapshot?
    }

    /// The snapshot's columns on PostgreSQL: in the statement that reads the feed, so the snapshot
    /// is the one the feed was read in.
    private var snapshotColumns: String {
        engine == .postgres
            ? ", pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin, pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xmax"
            : ""
    }

    /// Changes after `seq`, and those of `missing` (sequence numbers skipped so far, which a
    /// transaction still open may yet commit), in order; how far the feed was pruned; and, on
    /// PostgreSQL, the snapshot the changes were read in. One statement, so one round trip a read:
    /// the feed's one row joined with the first `limit` changes (taken in order by the primary key
    /// inside the derived table; with none, one row of nulls).
    func catalogChanges(after seq: Int64, missing: [Int64], limit: Int, in db: any SQLDatabase) async throws -> FeedRead {
        var changes: SQLQueryString = "SELECT seq, kind, key FROM catalog_changes WHERE seq > \(bind: seq)"
        if !missing.isEmpty { changes += " OR seq IN (\(binds: missing))" }
        changes += " ORDER BY seq LIMIT \(literal: limit)"
        let query: SQLQueryString = """
            SELECT f.pruned_through, c.seq, c.kind, c.key\(unsafeRaw: snapshotColumns)
            FROM catalog_feed f LEFT JOIN (\(changes)) c ON 1 = 1 WHERE f.id = 1 ORDER BY c.seq
            """
        let rows = try await db.raw(query).all()
        // Migration 22 writes the row; without it the feed cannot be followed (a damaged restore).
        guard !rows.isEmpty else { throw CatalogFeedMissing() }
        var read = FeedRead(changes: [], prunedThrough: 0, snapshot: nil)
        for row in rows {
            read.prunedThrough = try row.decode(column: "pruned_through", as: Int64.self)
            if engine == .postgres {
                read.snapshot = Snapshot(xmin: try row.decode(column: "xmin", as: Int64.self), xmax: try row.decode(column: "xmax", as: Int64.self))
            }
            guard let changeSeq = try row.decode(column: "seq", as: Int64?.self) else { continue }
            read.changes.append(
                CatalogChange(
                    seq: changeSeq, kind: try row.decode(column: "kind", as: String.self),
                    key: try row.decode(column: "key", as: String.self)))
        }
        return read
    }

    /// The feed's head (the last sequence number written, or pruned), the numbers present in the
    /// `window` below it (pruned ones count as present) and the snapshot taken first.
    func catalogFeedHead(window: Int64, in db: any SQLDatabase) async throws
        -> (head: Int64, present: Set<Int64>, snapshot: Snapshot?)
    {
        // The head and the snapshot in one statement: a number skipped below a head seen in this
        // snapshot was taken by a transaction that had its id before it (below `xmax`). The numbers
        // present are read after; any that commit meanwhile only shorten the list of missing ones.
        let row = try await db.raw(
            """
            SELECT (SELECT MAX(seq) FROM catalog_changes) AS head, f.pruned_through\(unsafeRaw: snapshotColumns)
            FROM catalog_feed f WHERE f.id = 1
            """
        ).first()
        guard let row else { throw CatalogFeedMissing() }
        let written = try row.decode(column: "head", as: Int64?.self) ?? 0
        let pruned = try row.decode(column: "pruned_through", as: Int64.self)
        let snapshot = engine == .postgres
            ? Snapshot(xmin: try row.decode(column: "xmin", as: Int64.self), xmax: try row.decode(column: "xmax", as: Int64.self))
            : nil
        let head = max(written, pruned)
        var present = Set(
            try await db.raw("SELECT seq FROM catalog_changes WHERE seq > \(bind: head - window) AND seq <= \(bind: head)")
                .all().map { try $0.decode(column: "seq", as: Int64.self) })
        if pruned > head - window { present.formUnion((head - window + 1)...pruned) }
        return (head, present, snapshot)
    }

    func productCount(in db: any SQLDatabase) async throws -> Int {
        try await db.raw("SELECT COUNT(*) AS n FROM products").first().map { try $0.decode(column: "n", as: Int.self) } ?? 0
    }

    /// Deletes changes written before `before` (milliseconds) and records how far it went.
    func pruneCatalogChanges(before: Int64, in db: any SQLDatabase) async throws {
        let last = try await db.raw("SELECT MAX(seq) AS last FROM catalog_changes WHERE at < \(bind: before)").first()
            .flatMap { try $0.decode(column: "last", as: Int64?.self) }
        guard let last else { return }
        try await db.raw("DELETE FROM catalog_changes WHERE seq <= \(bind: last)").run()
        try await db.raw(
            "UPDATE catalog_feed SET pruned_through = \(bind: last) WHERE id = 1 AND pruned_through < \(bind: last)"
        ).run()
    }

    /// The names facets show: categories by id, counties by code.
    func facetNames(in db: any SQLDatabase) async throws -> (categories: [String: String], counties: [String: String]) {
        func names(_ sql: SQLQueryString) async throws -> [String: String] {
            let rows = try await db.raw(sql).all()
            var result: [String: String] = [:]
            for row in rows {
                result[try row.decode(column: "key", as: String.self)] = try row.decode(column: "name", as: String.self)
            }
            return result
        }
        return (
            try await names("SELECT id AS \"key\", name FROM categories"),
            try await names("SELECT code AS \"key\", name FROM counties")
        )
    }
}

/// The `catalog_feed` row migration 22 writes is gone (a damaged restore): the catalog index
/// cannot follow the database, so reads fail rather than answer from a stale index.
struct CatalogFeedMissing: Error, CustomStringConvertible {
    var description: String { "the catalog_feed row is missing; restore the database from a verified backup" }
}
