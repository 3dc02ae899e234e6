import Foundation
import SQLKit

/// The public catalog: what buyers may see (`OnSale`), searched, filtered, sorted and counted.
extension ProductStore {
    /// The rows buyers may see: those on sale (`OnSale`), which leaves the planner the index that
    /// gives the requested order, so a page is answered without sorting the catalog.
    private func publicWhere(_ filter: ProductFilter, now: Date) -> SQLQueryString {
        var query: SQLQueryString = " WHERE " + OnSale.sql("p", at: now)
        if let q = filter.query {
            switch engine {
            case .sqlite:
                let match = q.terms.map { "\"\($0)\"" }.joined(separator: " AND ")
                query += " AND p.id IN (SELECT product_id FROM product_search WHERE product_search MATCH \(bind: match))"
            case .postgres:
                query += " AND p.search_terms @> string_to_array(\(bind: q.terms.joined(separator: " ")), ' ')"
            }
            // Every piece is checked as a substring: a longer one's bigrams may occur apart, and
            // FTS5's tokenizer keeps only letters and digits (folding case), so even a short
            // piece holding a joiner or a combining mark does not prove the substring. Only
            // `bangfu check` reads this (the index answers buyers), so the check's cost is moot.
            for piece in q.pieces {
                query += " AND p.search_text LIKE \(bind: SearchTerms.likePattern(piece)) ESCAPE '\\'"
            }
        }
        if let category = filter.categoryId {
            query += " AND (p.category_id = \(bind: category) OR p.top_category_id = \(bind: category))"
        }
        if let county = filter.countyCode { query += " AND p.origin_county_code = \(bind: county)" }
        if let label = filter.label {
            query += " AND p.id IN (SELECT product_id FROM product_labels WHERE label = \(bind: label))"
        }
        if let min = filter.minPriceFen { query += " AND p.price_fen >= \(bind: min)" }
        if let max = filter.maxPriceFen { query += " AND p.price_fen <= \(bind: max)" }
        return query
    }

    /// Relevance: a match in the title counts most, then in the merchant's name; ties newest first.
    /// Both are matched in normalized text (`SearchTerms.normalize`), as the index matches them:
    /// the title is the first line of `search_text`, and the merchants whose normalized name holds
    /// the first word are found before the query (`matchingMerchants`). `lower()` folds no
    /// full-width letters (and on SQLite nothing beyond ASCII), so "ＡＢＣ大米" did not score
    /// for "abc" here while it did in the index.
    private func relevance(_ filter: ProductFilter, merchants: [String]) -> SQLQueryString {
        guard let first = filter.query?.pieces.first else { return "0" }
        let pattern = SearchTerms.likePattern(first)
        let title: SQLQueryString =
            switch engine {
            case .sqlite: "substr(p.search_text, 1, instr(p.search_text || char(10), char(10)) - 1)"
            case .postgres: "split_part(p.search_text, chr(10), 1)"
            }
        // One bind for the whole list (a JSON array), however many merchants match: PostgreSQL
        // takes at most 65,535 binds a statement, and the score appears up to four times.
        let ids = String(decoding: (try? JSONEncoder().encode(merchants)) ?? Data("[]".utf8), as: UTF8.self)
        let list: SQLQueryString =
            switch engine {
            case .sqlite: "SELECT value FROM json_each(\(bind: ids))"
            case .postgres: "SELECT jsonb_array_elements_text(CAST(\(bind: ids) AS jsonb))"
            }
        let merchant: SQLQueryString = merchants.isEmpty ? "0" : "CASE WHEN p.merchant_id IN (" + list + ") THEN 1 ELSE 0 END"
        return "(CASE WHEN " + title + " LIKE \(bind: pattern) ESCAPE '\\' THEN 2 ELSE 0 END + " + merchant + ")"
    }

    /// The merchants whose normalized name holds the query's first word, byte for byte as the
    /// index checks it. Every merchant is read: only `bangfu check` asks (the index answers buyers).
    private func matchingMerchants(_ filter: ProductFilter, in db: any SQLDatabase) async throws -> [String] {
        guard let first = filter.query?.pieces.first else { return [] }
        let wanted = Array(first.utf8)
        return try await db.raw("SELECT id, company_name FROM merchants").all().compactMap { row in
            let name = Array(SearchTerms.normalize(try row.decode(column: "company_name", as: String.self)).utf8)
            return CatalogIndex.contains(name, wanted) ? try row.decode(column: "id", as: String.self) : nil
        }
    }

    /// A keyset position: the sort key (score or price or sales or time), the time, the id.
    struct Position: Sendable, Equatable {
        var key: Int64
        var createdAt: Int64
        var id: String
    }

    func publicProducts(
        _ filter: ProductFilter, sort: ProductSort, after: Position?, limit: Int, now: Date, in db: any SQLDatabase
    ) async throws -> [(ProductRow, Position)] {
        // Only relevance reads the score (other sorts select it unused): merchants are matched for it alone.
        let score = relevance(filter, merchants: sort == .relevance ? try await matchingMerchants(filter, in: db) : [])
        var query: SQLQueryString = "SELECT \(unsafeRaw: Self.columns), p.merchant_rating, \(unsafeRaw: Self.names), CAST("
        query += score
        query += " AS BIGINT) AS score FROM products p"
        query += publicWhere(filter, now: now)
        let keyColumn: SQLQueryString =
            switch sort {
            case .relevance: score
            case .newest: "p.created_at"
            case .priceAsc, .priceDesc: "p.price_fen"
            case .sales: "p.sales"
            case .rating: "p.merchant_rating"
            }
        let ascending = sort == .priceAsc
        let op = ascending ? ">" : "<"
        let direction = ascending ? "ASC" : "DESC"
        // Each order has an index of its own: (created_at, id), (price_fen, id), (sales, id),
        // (merchant_rating, id).
        // Relevance ranks only the candidates of a query, so it may sort.
        switch sort {
        case .relevance:
            if let after {
                query += " AND (" + keyColumn + " < \(bind: after.key) OR (" + keyColumn
                query += " = \(bind: after.key) AND (p.created_at < \(bind: after.createdAt) OR (p.created_at = \(bind: after.createdAt) AND p.id < \(bind: after.id)))))"
            }
            query += " ORDER BY " + keyColumn + " DESC, p.created_at DESC, p.id DESC"
        case .newest, .priceAsc, .priceDesc, .sales, .rating:
            if let after {
                query += " AND (" + keyColumn + " \(unsafeRaw: op) \(bind: after.key) OR (" + keyColumn
                query += " = \(bind: after.key) AND p.id \(unsafeRaw: op) \(bind: after.id)))"
            }
            query += " ORDER BY " + keyColumn + " \(unsafeRaw: direction), p.id \(unsafeRaw: direction)"
        }
        query += " LIMIT \(literal: limit)"
        return try await db.raw(query).all().map { row in
            let product = try Self.row(row)
            let key: Int64 =
                switch sort {
                case .relevance: try row.decode(column: "score", as: Int64.self)
                case .newest: product.product.createdAt.millis
                case .priceAsc, .priceDesc: product.product.priceFen
                case .sales: product.product.sales
                case .rating: try row.decode(column: "merchant_rating", as: Int64.self)
                }
            return (product, Position(key: key, createdAt: product.product.createdAt.millis, id: product.product.id))
        }
    }

    /// A facet's line as the listing shows it (`CatalogBrowsing`).
    struct FacetCount: Encodable, Sendable {
        var key: String
        var label: String
        var count: Int64
    }

    /// How many products each merchant has on sale now (listed, merchant active, unexpired certificate).
    func onSaleCounts(merchantIds: [String], now: Date, in db: any SQLDatabase) async throws -> [String: Int64] {
        guard !merchantIds.isEmpty else { return [:] }
        let rows = try await db.raw(
            """
            SELECT merchant_id, COUNT(*) AS n FROM products
            WHERE merchant_id IN (\(binds: merchantIds)) AND \(OnSale.sql("products", at: now))
            GROUP BY merchant_id
            """
        ).all()
        return try Dictionary(
            uniqueKeysWithValues: rows.map { (try $0.decode(column: "merchant_id", as: String.self), try $0.decode(column: "n", as: Int64.self)) })
    }
}
