import Foundation
import SQLKit
import SQLiteNIO

/// What the catalog index reads: products as `IndexedProduct`, the change feed (migration 22) and
/// the names of categories and counties its facets show.
extension ProductStore {
    private static func indexSelect(_ extra: String = "") -> String {
        """
        SELECT p.id AS id\(extra), p.category_id AS category_id, p.top_category_id AS top_category_id,
          p.origin_county_code AS origin_county_code, p.labels AS labels, p.status AS status,
          p.merchant_active AS merchant_active, p.certificate_expires_at AS certificate_expires_at,
          p.price_fen AS price_fen, p.sales AS sales, p.merchant_rating AS merchant_rating, p.created_at AS created_at,
          p.search_text AS search_text, p.title AS title,
          (SELECT company_name FROM merchants WHERE id = p.merchant_id) AS merchant_name
        FROM products p
        """
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
            "\(Self.indexSelect(", p.rowid AS position")) WHERE p.rowid > ?1 ORDER BY p.rowid LIMIT ?2",
            [.integer(Int(rowid)), .integer(limit)])
        // Every row of one statement has the same columns: their names are checked once.
        if let first = rows.first {
            let names = first.columns.map(\.name)
            guard names == Self.positionalColumns else {
                throw IndexRowMismatch(detail: "columns \(names.joined(separator: ",")) instead of the expected ones")
            }
        }
        var products: [IndexedProduct] = []
        products.reserveCapacity(rows.count)
        for row in rows {
            let (product, position) = try Self.indexed(row)
            products.append(product)
            rowid = position
        }
        return (products, .rowid(rowid))
    }

    /// The same by id through SQLKit (PostgreSQL, whose heap has no stable order to page by).
    private func indexedById(after id: String, limit: Int, in db: any SQLDatabase) async throws
        -> (products: [IndexedProduct], next: IndexCursor)
    {
        let products = try await db.raw(
            "\(unsafeRaw: Self.indexSelect()) WHERE p.id > \(bind: id) ORDER BY p.id LIMIT \(literal: limit)"
        ).all().map(Self.indexed)
        return (products, .id(products.last?.id ?? id))
    }

    /// The products of `ids` that exist.
    func indexed(ids: [String], in db: any SQLDatabase) async throws -> [IndexedProduct] {
        guard !ids.isEmpty else { return [] }
        return try await db.raw("\(unsafeRaw: Self.indexSelect()) WHERE p.id IN (\(binds: ids))").all().map(Self.indexed)
    }

    /// The rows of `ids` that exist, in no particular order (a page the index chose).
    func products(ids: [String], in db: any SQLDatabase) async throws -> [ProductRow] {
        guard !ids.isEmpty else { return [] }
        return try await db.raw("\(unsafeRaw: Self.select) WHERE p.id IN (\(binds: ids))").all().map(Self.row)
    }

    private static func indexed(_ row: any SQLRow) throws -> IndexedProduct {
        func text(_ column: String) throws -> String { try row.decode(column: column, as: String.self) }
        func number(_ column: String) throws -> Int64 { try row.decode(column: column, as: Int64.self) }
        let labels = try text("labels")
        return IndexedProduct(
            id: try text("id"), categoryId: try text("category_id"), topCategoryId: try text("top_category_id"),
            countyCode: try text("origin_county_code"),
            labels: labels.isEmpty ? [] : labels.split(separator: ",").map(String.init),
            listed: try text("status") == ProductStatus.listed.rawValue, merchantActive: try number("merchant_active") != 0,
            certificateExpiresAt: try row.decode(column: "certificate_expires_at", as: Int64?.self),
            priceFen: try number("price_fen"), sales: try number("sales"), merchantRating: try number("merchant_rating"),
            createdAt: try number("created_at"), searchText: try text("search_text"),
            title: SearchTerms.normalize(try text("title")),
            merchantName: SearchTerms.normalize(try row.decode(column: "merchant_name", as: String?.self) ?? ""))
    }

    /// The columns of `indexSelect(", p.rowid AS position")` in order.
    private static let positionalColumns = [
        "id", "position", "category_id", "top_category_id", "origin_county_code", "labels", "status", "merchant_active",
        "certificate_expires_at", "price_fen", "sales", "merchant_rating", "created_at", "search_text", "title", "merchant_name",
    ]

    /// A row of the positional select (its column names checked by the caller); a column of
    /// another type is an error naming the product and the column, never a wrong product.
    private static func indexed(_ row: SQLiteRow) throws -> (IndexedProduct, Int64) {
        let columns = row.columns
        guard columns.count == positionalColumns.count else {
            throw IndexRowMismatch(detail: "\(columns.count) columns instead of \(positionalColumns.count)")
        }
        func mismatch(_ i: Int) -> IndexRowMismatch {
            let id = if case .text(let id) = columns[0].data { id } else { "?" }
            return IndexRowMismatch(detail: "product \(id): column \(columns[i].name) holds \(String(describing: columns[i].data).prefix(60))")
        }
        func text(_ i: Int) throws -> String {
            guard case .text(let value) = columns[i].data else { throw mismatch(i) }
            return value
        }
        func number(_ i: Int) throws -> Int64 {
            guard case .integer(let value) = columns[i].data else { throw mismatch(i) }
            return Int64(value)
        }
        func optional<T>(_ i: Int, _ decode: (Int) throws -> T) throws -> T? {
            if case .null = columns[i].data { return nil }
            return try decode(i)
        }
        let labels = try text(5)
        let product = IndexedProduct(
            id: try text(0), categoryId: try text(2), topCategoryId: try text(3), countyCode: try text(4),
            labels: labels.isEmpty ? [] : labels.split(separator: ",").map(String.init),
            listed: try text(6) == ProductStatus.listed.rawValue, merchantActive: try number(7) != 0,
            certificateExpiresAt: try optional(8, number),
            priceFen: try number(9), sales: try number(10), merchantRating: try number(11), createdAt: try number(12),
            searchText: try text(13), title: SearchTerms.normalize(try text(14)),
            merchantName: SearchTerms.normalize(try optional(15, text) ?? ""))
        return (product, try number(1))
    }

    /// The index's positional read of products found something its decoding does not expect.
    struct IndexRowMismatch: Error, CustomStringConvertible {
        var detail: String
        var description: String { "the catalog index's read of products found \(detail)" }
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
