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
            WHERE id = \(bind: productId) AND \(OnSale.listableSQL("products", at: at)) RETURNING id
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

    // MARK: Rows

    /// The merchant's and county's names come from correlated subqueries rather than joins, so
    /// the products table always drives the plan (and its ordered indexes answer `LIMIT` at once).
    static let names = """
        (SELECT company_name FROM merchants WHERE id = p.merchant_id) AS merchant_name,
        (SELECT name FROM counties WHERE code = p.origin_county_code) AS county_name
        """
    static let select = "SELECT p.*, \(names) FROM products p"

    static func row(_ row: any SQLRow) throws -> ProductRow {
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
