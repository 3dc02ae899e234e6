import Foundation
import SQLKit

struct Product: Sendable {
    var id: String
    var merchantId: String
    var title: String
    var categoryId: String
    var topCategoryId: String
    var description: String
    var specification: String
    var unit: String
    var priceFen: Int64
    var stock: Int64
    var held: Int64
    var originCountyCode: String
    var labels: [String]
    var status: ProductStatus
    var sales: Int64
    var merchantActive: Bool
    var certificateNumber: String?
    var certificateExpiresAt: Date?
    var createdAt: Date
    var updatedAt: Date
}

/// What a public listing reads: the product with its merchant's and county's names.
struct ProductRow: Sendable {
    var product: Product
    var merchantName: String
    var countyName: String
}

enum ProductSort: String, Sendable, CaseIterable {
    case relevance
    case newest
    case priceAsc = "price_asc"
    case priceDesc = "price_desc"
    case sales
}

struct ProductFilter: Sendable {
    var query: SearchTerms.Query?
    var categoryId: String?
    var countyCode: String?
    var label: String?
    var minPriceFen: Int64?
    var maxPriceFen: Int64?
}

/// Products, their labels, price history and stock adjustments, and the search index (the one
/// piece that differs per engine: FTS5 on SQLite, a GIN-indexed text[] on PostgreSQL).
struct ProductStore: Sendable {
    let engine: DatabaseEngine

    func insert(_ product: Product, merchantName: String, in db: any SQLDatabase) async throws {
        let text = Self.searchText(product, merchantName: merchantName)
        let terms = SearchTerms.documentTerms(text).joined(separator: " ")
        var query: SQLQueryString = """
            INSERT INTO products (id, merchant_id, title, category_id, top_category_id, description, specification, unit,
              price_fen, stock, held, origin_county_code, labels, status, sales, merchant_active, certificate_number,
              certificate_expires_at, search_text, created_at, updated_at
            """
        if engine == .postgres { query += ", search_terms" }
        query += """
            ) VALUES (\(bind: product.id), \(bind: product.merchantId), \(bind: product.title), \(bind: product.categoryId),
              \(bind: product.topCategoryId), \(bind: product.description), \(bind: product.specification),
              \(bind: product.unit), \(bind: product.priceFen), \(bind: product.stock), \(bind: product.held),
              \(bind: product.originCountyCode), \(bind: product.labels.joined(separator: ",")),
              \(bind: product.status.rawValue), \(bind: product.sales), \(bind: product.merchantActive ? Int64(1) : 0),
              \(bind: product.certificateNumber), \(bind: product.certificateExpiresAt?.millis), \(bind: SearchTerms.normalize(text)),
              \(bind: product.createdAt.millis), \(bind: product.updatedAt.millis)
            """
        if engine == .postgres { query += ", string_to_array(\(bind: terms), ' ')" }
        query += ")"
        try await db.raw(query).run()
        if engine == .sqlite {
            try await db.raw("INSERT INTO product_search (product_id, terms) VALUES (\(bind: product.id), \(bind: terms))").run()
        }
        for label in product.labels {
            try await db.raw("INSERT INTO product_labels (product_id, label) VALUES (\(bind: product.id), \(bind: label))").run()
        }
    }

    /// Inserts many products in a few multi-row statements (demo data, `bangfu seed`).
    func insertBatch(_ batch: [(product: Product, merchantName: String)], in db: any SQLDatabase) async throws {
        for chunk in stride(from: 0, to: batch.count, by: 400).map({ Array(batch[$0..<min($0 + 400, batch.count)]) }) {
            var rows: [SQLQueryString] = []
            var searchRows: [SQLQueryString] = []
            var labelRows: [SQLQueryString] = []
            var priceRows: [SQLQueryString] = []
            for (product, merchantName) in chunk {
                let text = Self.searchText(product, merchantName: merchantName)
                let terms = SearchTerms.documentTerms(text).joined(separator: " ")
                var row: SQLQueryString = """
                    (\(bind: product.id), \(bind: product.merchantId), \(bind: product.title), \(bind: product.categoryId),
                    \(bind: product.topCategoryId), \(bind: product.description), \(bind: product.specification),
                    \(bind: product.unit), \(bind: product.priceFen), \(bind: product.stock), \(bind: product.held),
                    \(bind: product.originCountyCode), \(bind: product.labels.joined(separator: ",")),
                    \(bind: product.status.rawValue), \(bind: product.sales), \(bind: product.merchantActive ? Int64(1) : 0),
                    \(bind: product.certificateNumber), \(bind: product.certificateExpiresAt?.millis),
                    \(bind: SearchTerms.normalize(text)), \(bind: product.createdAt.millis), \(bind: product.updatedAt.millis)
                    """
                if engine == .postgres { row += ", string_to_array(\(bind: terms), ' ')" }
                rows.append(row + ")")
                searchRows.append("(\(bind: product.id), \(bind: terms))")
                for label in product.labels { labelRows.append("(\(bind: product.id), \(bind: label))") }
                priceRows.append(
                    "(\(bind: product.id + "-p1"), \(bind: product.id), \(bind: product.priceFen), \(bind: product.createdAt.millis), 1)")
            }
            var insert: SQLQueryString = """
                INSERT INTO products (id, merchant_id, title, category_id, top_category_id, description, specification, unit,
                  price_fen, stock, held, origin_county_code, labels, status, sales, merchant_active, certificate_number,
                  certificate_expires_at, search_text, created_at, updated_at
                """
            insert += engine == .postgres ? ", search_terms) VALUES " : ") VALUES "
            try await db.raw(insert + rows.joined(separator: ", ")).run()
            if engine == .sqlite {
                try await db.raw("INSERT INTO product_search (product_id, terms) VALUES " + searchRows.joined(separator: ", ")).run()
            }
            if !labelRows.isEmpty {
                try await db.raw("INSERT INTO product_labels (product_id, label) VALUES " + labelRows.joined(separator: ", ")).run()
            }
            try await db.raw(
                "INSERT INTO product_prices (id, product_id, price_fen, from_at, position) VALUES " + priceRows.joined(separator: ", ")
            ).run()
        }
    }

    /// Writes every field PATCH may change back and re-indexes the searchable text. Stock, held
    /// units and status are not written: they change only through their own conditional updates,
    /// so an edit read before a checkout cannot put back stock the checkout took.
    func update(_ product: Product, merchantName: String, in db: any SQLDatabase) async throws {
        let text = Self.searchText(product, merchantName: merchantName)
        let terms = SearchTerms.documentTerms(text).joined(separator: " ")
        var query: SQLQueryString = """
            UPDATE products SET title = \(bind: product.title), category_id = \(bind: product.categoryId),
              top_category_id = \(bind: product.topCategoryId), description = \(bind: product.description),
              specification = \(bind: product.specification), unit = \(bind: product.unit),
              price_fen = \(bind: product.priceFen),
              origin_county_code = \(bind: product.originCountyCode), labels = \(bind: product.labels.joined(separator: ",")),
              search_text = \(bind: SearchTerms.normalize(text)),
              updated_at = \(bind: product.updatedAt.millis)
            """
        if engine == .postgres { query += ", search_terms = string_to_array(\(bind: terms), ' ')" }
        query += " WHERE id = \(bind: product.id)"
        try await db.raw(query).run()
        if engine == .sqlite {
            try await db.raw("DELETE FROM product_search WHERE product_id = \(bind: product.id)").run()
            try await db.raw("INSERT INTO product_search (product_id, terms) VALUES (\(bind: product.id), \(bind: terms))").run()
        }
        try await db.raw("DELETE FROM product_labels WHERE product_id = \(bind: product.id)").run()
        for label in product.labels {
            try await db.raw("INSERT INTO product_labels (product_id, label) VALUES (\(bind: product.id), \(bind: label))").run()
        }
    }

    static func searchText(_ product: Product, merchantName: String) -> String {
        [product.title, product.description, merchantName].joined(separator: "\n")
    }

    /// Locks the product's row until the transaction ends (PostgreSQL; SQLite's single writer
    /// already serializes), so a check and the write it guards see the same product: a PATCH and
    /// a certification of one product, or two image uploads, take turns.
    func lock(productId: String, in db: any SQLDatabase) async throws {
        if engine == .postgres {
            try await db.raw("SELECT id FROM products WHERE id = \(bind: productId) FOR UPDATE").run()
        }
    }

    func product(id: String, in db: any SQLDatabase) async throws -> ProductRow? {
        try await db.raw("\(unsafeRaw: Self.select) WHERE p.id = \(bind: id)").first().map(Self.row)
    }

    func products(merchantId: String, status: ProductStatus?, after: (Int64, String)?, limit: Int, in db: any SQLDatabase)
        async throws -> [ProductRow]
    {
        var query: SQLQueryString = "\(unsafeRaw: Self.select) WHERE p.merchant_id = \(bind: merchantId)"
        if let status { query += " AND p.status = \(bind: status.rawValue)" }
        if let (at, id) = after {
            query += .after((at, id), time: "p.created_at", id: "p.id")
        }
        query += " ORDER BY p.created_at DESC, p.id DESC LIMIT \(literal: limit)"
        return try await db.raw(query).all().map(Self.row)
    }

    // MARK: Public catalog

    /// The rows buyers may see: listed, of an active merchant, with an unexpired certificate.
    private func publicWhere(_ filter: ProductFilter, now: Date) -> SQLQueryString {
        // Nearly every product passes these three tests, so no index should be chosen for them:
        // written as expressions (`|| ''`, `+ 0`), they leave the planner the index that gives the
        // requested order, which answers a page without sorting the catalog (on both engines).
        var query: SQLQueryString = """
             WHERE p.status || '' = 'listed' AND p.merchant_active + 0 = 1
              AND p.certificate_expires_at + 0 > \(bind: now.millis)
            """
        if let q = filter.query {
            switch engine {
            case .sqlite:
                let match = q.terms.map { "\"\($0)\"" }.joined(separator: " AND ")
                query += " AND p.id IN (SELECT product_id FROM product_search WHERE product_search MATCH \(bind: match))"
            case .postgres:
                query += " AND p.search_terms @> string_to_array(\(bind: q.terms.joined(separator: " ")), ' ')"
            }
            // A piece of one or two characters is itself a term, so the index match already proves
            // the substring; longer pieces are checked (their bigrams may occur apart).
            for piece in q.pieces where piece.count > 2 {
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
    /// The merchants whose name matches are found once per query (an uncorrelated subquery), not
    /// looked up for each of the thousands of candidates a common bigram has.
    private func relevance(_ filter: ProductFilter) -> SQLQueryString {
        guard let first = filter.query?.pieces.first else { return "0" }
        let pattern = SearchTerms.likePattern(first)
        return """
            (CASE WHEN lower(p.title) LIKE \(bind: pattern) ESCAPE '\\' THEN 2 ELSE 0 END
              + CASE WHEN p.merchant_id IN (SELECT id FROM merchants WHERE lower(company_name) LIKE \(bind: pattern)
                ESCAPE '\\') THEN 1 ELSE 0 END)
            """
    }

    /// A keyset position: the sort key (score or price or sales or time), the time, the id.
    struct Position: Sendable {
        var key: Int64
        var createdAt: Int64
        var id: String
    }

    func publicProducts(
        _ filter: ProductFilter, sort: ProductSort, after: Position?, limit: Int, now: Date, in db: any SQLDatabase
    ) async throws -> [(ProductRow, Position)] {
        let score = relevance(filter)
        var query: SQLQueryString = "SELECT p.*, \(unsafeRaw: Self.names), CAST("
        query += score
        query += " AS BIGINT) AS score FROM products p"
        query += publicWhere(filter, now: now)
        let keyColumn: SQLQueryString =
            switch sort {
            case .relevance: score
            case .newest: "p.created_at"
            case .priceAsc, .priceDesc: "p.price_fen"
            case .sales: "p.sales"
            }
        let ascending = sort == .priceAsc
        let op = ascending ? ">" : "<"
        let direction = ascending ? "ASC" : "DESC"
        // Each order has an index of its own: (created_at, id), (price_fen, id), (sales, id).
        // Relevance ranks only the candidates of a query, so it may sort.
        switch sort {
        case .relevance:
            if let after {
                query += " AND (" + keyColumn + " < \(bind: after.key) OR (" + keyColumn
                query += " = \(bind: after.key) AND (p.created_at < \(bind: after.createdAt) OR (p.created_at = \(bind: after.createdAt) AND p.id < \(bind: after.id)))))"
            }
            query += " ORDER BY " + keyColumn + " DESC, p.created_at DESC, p.id DESC"
        case .newest, .priceAsc, .priceDesc, .sales:
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
                }
            return (product, Position(key: key, createdAt: product.product.createdAt.millis, id: product.product.id))
        }
    }

    struct FacetCount: Sendable {
        var key: String
        var label: String
        var count: Int64
    }

    /// Counts of the filtered public set by top-level category, origin county and label.
    func facets(_ filter: ProductFilter, now: Date, in db: any SQLDatabase) async throws
        -> (category: [FacetCount], county: [FacetCount], label: [FacetCount])
    {
        func counts(_ sql: SQLQueryString) async throws -> [FacetCount] {
            try await db.raw(sql).all().map {
                FacetCount(
                    key: try $0.decode(column: "k", as: String.self), label: try $0.decode(column: "l", as: String.self),
                    count: try $0.decode(column: "n", as: Int64.self))
            }
        }
        let from: SQLQueryString = " FROM products p"
        let categoryCounts = try await counts(
            "SELECT p.top_category_id AS k, (SELECT name FROM categories WHERE id = p.top_category_id) AS l, COUNT(*) AS n"
                + from + publicWhere(filter, now: now) + " GROUP BY p.top_category_id ORDER BY n DESC, k")
        let county = try await counts(
            "SELECT p.origin_county_code AS k, (SELECT name FROM counties WHERE code = p.origin_county_code) AS l, COUNT(*) AS n"
                + from + publicWhere(filter, now: now) + " GROUP BY p.origin_county_code ORDER BY n DESC, k")
        let labels = try await counts(
            "SELECT pl.label AS k, pl.label AS l, COUNT(*) AS n" + from
                + " JOIN product_labels pl ON pl.product_id = p.id" + publicWhere(filter, now: now)
                + " GROUP BY pl.label ORDER BY n DESC, k")
        return (
            categoryCounts, county,
            labels.map { FacetCount(key: $0.key, label: ProductLabel(rawValue: $0.key)?.chineseName ?? $0.key, count: $0.count) }
        )
    }

    /// How many products each merchant has on sale now (listed, merchant active, unexpired certificate).
    func onSaleCounts(merchantIds: [String], now: Date, in db: any SQLDatabase) async throws -> [String: Int64] {
        guard !merchantIds.isEmpty else { return [:] }
        let rows = try await db.raw(
            """
            SELECT merchant_id, COUNT(*) AS n FROM products
            WHERE merchant_id IN (\(binds: merchantIds)) AND status = 'listed' AND merchant_active = 1
              AND certificate_expires_at > \(bind: now.millis)
            GROUP BY merchant_id
            """
        ).all()
        return try Dictionary(
            uniqueKeysWithValues: rows.map { (try $0.decode(column: "merchant_id", as: String.self), try $0.decode(column: "n", as: Int64.self)) })
    }

    // MARK: Price history, stock, visibility

    func addPrice(productId: String, priceFen: Int64, at: Date, id: String, in db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO product_prices (id, product_id, price_fen, from_at, position)
            VALUES (\(bind: id), \(bind: productId), \(bind: priceFen), \(bind: at.millis),
              (SELECT COUNT(*) + 1 FROM product_prices WHERE product_id = \(bind: productId)))
            """
        ).run()
    }

    func prices(productId: String, in db: any SQLDatabase) async throws -> [(Int64, Date)] {
        try await db.raw("SELECT price_fen, from_at FROM product_prices WHERE product_id = \(bind: productId) ORDER BY position")
            .all().map { (try $0.decode(column: "price_fen", as: Int64.self), Date(millis: try $0.decode(column: "from_at", as: Int64.self))) }
    }

    /// Sets the stock only if it still is `expected` (so a concurrent order cannot be overwritten).
    func setStock(productId: String, expected: Int64, to stock: Int64, in db: any SQLDatabase) async throws -> Bool {
        let rows = try await db.raw(
            "UPDATE products SET stock = \(bind: stock) WHERE id = \(bind: productId) AND stock = \(bind: expected) RETURNING id"
        ).all()
        return !rows.isEmpty
    }

    func addStockAdjustment(
        id: String, productId: String, delta: Int64, reason: String, actorId: String, stockAfter: Int64, at: Date,
        in db: any SQLDatabase
    ) async throws {
        try await db.raw(
            """
            INSERT INTO stock_adjustments (id, product_id, delta, reason, actor_id, stock_after, at)
            VALUES (\(bind: id), \(bind: productId), \(bind: delta), \(bind: reason), \(bind: actorId), \(bind: stockAfter),
              \(bind: at.millis))
            """
        ).run()
    }

    /// Lists or delists: the searchable text is unchanged, so nothing is re-indexed.
    /// Lists the product if, at the moment of writing, its merchant is active and it holds an
    /// unexpired certificate (a revocation committed meanwhile makes this a no-op: false).
    func list(productId: String, at: Date, in db: any SQLDatabase) async throws -> Bool {
        try await db.raw(
            """
            UPDATE products SET status = 'listed', updated_at = \(bind: at.millis)
            WHERE id = \(bind: productId) AND merchant_active = 1 AND certificate_expires_at > \(bind: at.millis) RETURNING id
            """
        ).first() != nil
    }

    /// Takes the revoked certificate off its product and delists it, only if it still is the
    /// product's certificate (a newer one issued meanwhile stays). True when it was.
    func revokeCertificate(productId: String, number: String, at: Date, in db: any SQLDatabase) async throws -> Bool {
        try await db.raw(
            """
            UPDATE products SET certificate_number = NULL, certificate_expires_at = NULL,
              status = CASE WHEN status = 'listed' THEN 'delisted' ELSE status END, updated_at = \(bind: at.millis)
            WHERE id = \(bind: productId) AND certificate_number = \(bind: number) RETURNING id
            """
        ).first() != nil
    }

    func setStatus(productId: String, _ status: ProductStatus, at: Date, in db: any SQLDatabase) async throws {
        try await db.raw(
            "UPDATE products SET status = \(bind: status.rawValue), updated_at = \(bind: at.millis) WHERE id = \(bind: productId)"
        ).run()
    }

    /// Copies a merchant's status onto its products (suspension hides them at once).
    func setMerchantActive(merchantId: String, _ active: Bool, in db: any SQLDatabase) async throws {
        try await db.raw(
            "UPDATE products SET merchant_active = \(bind: active ? Int64(1) : 0) WHERE merchant_id = \(bind: merchantId)"
        ).run()
    }

    /// Records the product's valid certificate (or removes it: revocation). Certification (the
    /// next issue) and the demo data call this.
    func setCertificate(productId: String, number: String?, expiresAt: Date?, in db: any SQLDatabase) async throws {
        try await db.raw(
            """
            UPDATE products SET certificate_number = \(bind: number), certificate_expires_at = \(bind: expiresAt?.millis)
            WHERE id = \(bind: productId)
            """
        ).run()
    }

    // MARK: Images

    struct Image: Sendable {
        var id: String
        var productId: String
        var sha256: String
        var contentType: String
        var size: Int64
        var createdAt: Date
    }

    func imageCount(productId: String, in db: any SQLDatabase) async throws -> Int {
        let row = try await db.raw("SELECT COUNT(*) AS n FROM product_images WHERE product_id = \(bind: productId)").first()
        return Int(try row?.decode(column: "n", as: Int64.self) ?? 0)
    }

    func addImage(_ image: Image, in db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO product_images (id, product_id, sha256, content_type, size, position, created_at)
            VALUES (\(bind: image.id), \(bind: image.productId), \(bind: image.sha256), \(bind: image.contentType),
              \(bind: image.size), (SELECT COUNT(*) + 1 FROM product_images WHERE product_id = \(bind: image.productId)),
              \(bind: image.createdAt.millis))
            """
        ).run()
    }

    /// A product with its images in one statement (one round trip to the database instead of two:
    /// the product detail is the catalog's busiest read).
    func productWithImages(id: String, in db: any SQLDatabase) async throws -> (ProductRow, [Image])? {
        let rows = try await db.raw(
            """
            SELECT p.*, \(unsafeRaw: Self.names), i.id AS image_id, i.sha256 AS image_sha256,
              i.content_type AS image_content_type, i.size AS image_size, i.created_at AS image_created_at
            FROM products p LEFT JOIN product_images i ON i.product_id = p.id
            WHERE p.id = \(bind: id) ORDER BY i.position
            """
        ).all()
        guard let first = rows.first else { return nil }
        let images = try rows.compactMap { row -> Image? in
            guard let imageId = try row.decode(column: "image_id", as: String?.self) else { return nil }
            return Image(
                id: imageId, productId: id, sha256: try row.decode(column: "image_sha256", as: String.self),
                contentType: try row.decode(column: "image_content_type", as: String.self),
                size: try row.decode(column: "image_size", as: Int64.self),
                createdAt: Date(millis: try row.decode(column: "image_created_at", as: Int64.self)))
        }
        return (try Self.row(first), images)
    }

    // MARK: Rows

    /// The merchant's and county's names come from correlated subqueries rather than joins, so
    /// the products table always drives the plan (and its ordered indexes answer `LIMIT` at once).
    private static let names = """
        (SELECT company_name FROM merchants WHERE id = p.merchant_id) AS merchant_name,
        (SELECT name FROM counties WHERE code = p.origin_county_code) AS county_name
        """
    private static let select = "SELECT p.*, \(names) FROM products p"

    private static func row(_ row: any SQLRow) throws -> ProductRow {
        let labels = try row.decode(column: "labels", as: String.self)
        let product = Product(
            id: try row.decode(column: "id", as: String.self),
            merchantId: try row.decode(column: "merchant_id", as: String.self),
            title: try row.decode(column: "title", as: String.self),
            categoryId: try row.decode(column: "category_id", as: String.self),
            topCategoryId: try row.decode(column: "top_category_id", as: String.self),
            description: try row.decode(column: "description", as: String.self),
            specification: try row.decode(column: "specification", as: String.self),
            unit: try row.decode(column: "unit", as: String.self),
            priceFen: try row.decode(column: "price_fen", as: Int64.self),
            stock: try row.decode(column: "stock", as: Int64.self),
            held: try row.decode(column: "held", as: Int64.self),
            originCountyCode: try row.decode(column: "origin_county_code", as: String.self),
            labels: labels.isEmpty ? [] : labels.split(separator: ",").map(String.init),
            status: ProductStatus(rawValue: try row.decode(column: "status", as: String.self)) ?? .draft,
            sales: try row.decode(column: "sales", as: Int64.self),
            merchantActive: try row.decode(column: "merchant_active", as: Int64.self) == 1,
            certificateNumber: try row.decode(column: "certificate_number", as: String?.self),
            certificateExpiresAt: try row.decode(column: "certificate_expires_at", as: Int64?.self).map(Date.init(millis:)),
            createdAt: Date(millis: try row.decode(column: "created_at", as: Int64.self)),
            updatedAt: Date(millis: try row.decode(column: "updated_at", as: Int64.self)))
        return ProductRow(
            product: product, merchantName: try row.decode(column: "merchant_name", as: String.self),
            countyName: try row.decode(column: "county_name", as: String.self))
    }
}
