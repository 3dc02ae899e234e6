import Foundation
import SQLKit

struct Product: TableRow, Equatable {
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
    @CommaList var labels: [String]
    var status: ProductStatus
    var sales: Int64
    @IntBool var merchantActive: Bool
    var certificateNumber: String?
    @OptionalMillis var certificateExpiresAt: Date?
    @Millis var createdAt: Date
    @Millis var updatedAt: Date
    /// The stated net content in grams (or millilitres); nil when not stated.
    var netContentGrams: Int64?

    /// The price of a kilogram (litre), which `per_kg_fen` keeps for the medians.
    var perKgFen: Int64? { PriceRules.perKgFen(priceFen: priceFen, netContentGrams: netContentGrams) }
}

extension Product {
    /// The columns of `products` a product holds, in the order `row` binds them. An insert adds
    /// the search columns after them, which the product's text and its merchant's name make
    /// (`ProductStore.insertRow`); `last_ordered_at` is left to orders.
    static let columns = [
        "id", "merchant_id", "title", "category_id", "top_category_id", "description", "specification", "unit",
        "price_fen", "stock", "held", "origin_county_code", "labels", "status", "sales", "merchant_active",
        "certificate_number", "certificate_expires_at", "created_at", "updated_at", "net_content_grams", "per_kg_fen",
    ]

    /// The row's values in the order of `columns`, followed by `search` (the search columns' values).
    func row(search: SQLQueryString) -> SQLQueryString {
        """
        (\(bind: id), \(bind: merchantId), \(bind: title), \(bind: categoryId), \(bind: topCategoryId),
         \(bind: description), \(bind: specification), \(bind: unit), \(bind: priceFen), \(bind: stock), \(bind: held),
         \(bind: originCountyCode), \(bind: labels.joined(separator: ",")), \(bind: status.rawValue), \(bind: sales),
         \(bind: merchantActive.bit), \(bind: certificateNumber), \(bind: certificateExpiresAt?.millis),
         \(bind: createdAt.millis), \(bind: updatedAt.millis), \(bind: netContentGrams), \(bind: perKgFen), \(search))
        """
    }
}

/// What a public listing reads: the product with its merchant's and county's names.
struct ProductRow: Sendable {
    var product: Product
    var merchantName: String
    var countyName: String
}

/// What its queries select: the product's row and the two names (`ProductStore.names`).
extension ProductRow: RowModel {
    private enum CodingKeys: String, CodingKey {
        case merchantName, countyName
    }

    /// The row is flat: the product decodes from the same columns as the names.
    init(from decoder: any Decoder) throws {
        let names = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            product: try Product(from: decoder), merchantName: try names.decode(String.self, forKey: .merchantName),
            countyName: try names.decode(String.self, forKey: .countyName))
    }
}

enum ProductSort: String, Sendable, CaseIterable {
    case relevance
    case newest
    case priceAsc = "price_asc"
    case priceDesc = "price_desc"
    case sales
    /// The merchant's overall score of the last 365 days, best first (unrated last).
    case rating
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
        let (row, terms) = insertRow(product, merchantName: merchantName)
        try await db.raw("INSERT INTO products (\(Product.columnList)\(unsafeRaw: searchColumns)) VALUES \(row)").run()
        // A new product sorts by its merchant's current score (`sort=rating`).
        try await db.raw(
            "UPDATE products SET merchant_rating = (SELECT rating_score FROM merchants WHERE id = \(bind: product.merchantId)) WHERE id = \(bind: product.id)"
        ).run()
        if engine == .sqlite {
            try await db.raw("INSERT INTO product_search (product_id, terms) VALUES (\(bind: product.id), \(bind: terms))").run()
        }
        for label in product.labels {
            try await db.raw("INSERT INTO product_labels (product_id, label) VALUES (\(bind: product.id), \(bind: label))").run()
        }
    }

    /// Inserts many products in a few multi-row statements (demo data, `bangfu seed`).
    func insertBatch(_ batch: [(product: Product, merchantName: String)], in db: any SQLDatabase) async throws {
        try await insertPrepared(prepareBatch(batch), in: db)
    }

    /// A batch's statements, made apart from the write: `bangfu seed` makes a batch's search
    /// texts and terms (a third of the writer's work) while the batch before it is written.
    struct PreparedBatch: Sendable {
        fileprivate var statements: [SQLQueryString] = []
    }

    /// The multi-row statements that insert `batch`: its products with their search values, the
    /// search terms (SQLite), labels and first prices, 400 products a statement.
    func prepareBatch(_ batch: [(product: Product, merchantName: String)]) -> PreparedBatch {
        var prepared = PreparedBatch()
        for start in stride(from: 0, to: batch.count, by: 400) {
            var rows: [SQLQueryString] = []
            var searchRows: [SQLQueryString] = []
            var labelRows: [SQLQueryString] = []
            var priceRows: [SQLQueryString] = []
            for (product, merchantName) in batch[start..<min(start + 400, batch.count)] {
                let (row, terms) = insertRow(product, merchantName: merchantName)
                rows.append(row)
                searchRows.append("(\(bind: product.id), \(bind: terms))")
                for label in product.labels { labelRows.append("(\(bind: product.id), \(bind: label))") }
                priceRows.append(
                    "(\(bind: product.id + "-p1"), \(bind: product.id), \(bind: product.priceFen), \(bind: product.createdAt.millis), 1)")
            }
            prepared.statements.append("INSERT INTO products (\(Product.columnList)\(unsafeRaw: searchColumns)) VALUES" + .values(rows))
            if engine == .sqlite {
                prepared.statements.append("INSERT INTO product_search (product_id, terms) VALUES" + .values(searchRows))
            }
            if !labelRows.isEmpty {
                prepared.statements.append("INSERT INTO product_labels (product_id, label) VALUES" + .values(labelRows))
            }
            prepared.statements.append(
                "INSERT INTO product_prices (id, product_id, price_fen, from_at, position) VALUES" + .values(priceRows))
        }
        return prepared
    }

    func insertPrepared(_ prepared: PreparedBatch, in db: any SQLDatabase) async throws {
        for statement in prepared.statements { try await db.raw(statement).run() }
    }

    /// The search columns an insert writes after `Product.columns`: the normalized text that
    /// substring checks read and, on PostgreSQL, the indexed terms (SQLite keeps those in
    /// `product_search`).
    private var searchColumns: String { engine == .postgres ? ", search_text, search_terms" : ", search_text" }

    /// The product's row for an insert, its search values included, and its search terms.
    private func insertRow(_ product: Product, merchantName: String) -> (row: SQLQueryString, terms: String) {
        let text = Self.searchText(product, merchantName: merchantName)
        let terms = SearchTerms.documentTerms(text).joined(separator: " ")
        var search: SQLQueryString = "\(bind: SearchTerms.normalize(text))"
        if engine == .postgres { search += ", string_to_array(\(bind: terms), ' ')" }
        return (product.row(search: search), terms)
    }

    /// Writes every field PATCH may change back and re-indexes the searchable text. Stock, held
    /// units and status are not written: they change only through their own conditional updates,
    /// so an edit read before a checkout cannot put back stock the checkout took.
    /// `medianCategories`: the categories whose medians the change moves (`ProductEditing`).
    func update(_ product: Product, merchantName: String, medianCategories: Set<String> = [], in db: any SQLDatabase) async throws {
        let text = Self.searchText(product, merchantName: merchantName)
        let terms = SearchTerms.documentTerms(text).joined(separator: " ")
        var query: SQLQueryString = """
            UPDATE products SET title = \(bind: product.title), category_id = \(bind: product.categoryId),
              top_category_id = \(bind: product.topCategoryId), description = \(bind: product.description),
              specification = \(bind: product.specification), unit = \(bind: product.unit),
              price_fen = \(bind: product.priceFen), net_content_grams = \(bind: product.netContentGrams),
              per_kg_fen = \(bind: product.perKgFen),
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
        try await refreshMedians(categoryIds: medianCategories, at: product.updatedAt, in: db)
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
        query += .newestFirst(after: after, time: "p.created_at", id: "p.id", limit: limit)
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
            .all().map { row in
                let price = try row.model(PricePoint.self)
                return (price.priceFen, price.fromAt)
            }
    }

    /// A price and the time it took effect, as the price history reads them.
    private struct PricePoint: RowModel {
        var priceFen: Int64
        @Millis var fromAt: Date
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
        let listed = try await db.raw(
            """
            UPDATE products SET status = 'listed', updated_at = \(bind: at.millis)
            WHERE id = \(bind: productId) AND \(OnSale.listableSQL("products", at: at)) RETURNING category_id, per_kg_fen
            """
        ).first()
        try await refreshMedians(of: listed, at: at, in: db)
        return listed != nil
    }

    /// Takes the revoked certificate off its product and delists it, only if it still is the
    /// product's certificate (a newer one issued meanwhile stays). True when it was.
    func revokeCertificate(productId: String, number: String, at: Date, in db: any SQLDatabase) async throws -> Bool {
        let revoked = try await db.raw(
            """
            UPDATE products SET certificate_number = NULL, certificate_expires_at = NULL,
              status = CASE WHEN status = 'listed' THEN 'delisted' ELSE status END, updated_at = \(bind: at.millis)
            WHERE id = \(bind: productId) AND certificate_number = \(bind: number) RETURNING category_id, per_kg_fen
            """
        ).first()
        try await refreshMedians(of: revoked, at: at, in: db)
        return revoked != nil
    }

    func setStatus(productId: String, _ status: ProductStatus, at: Date, in db: any SQLDatabase) async throws {
        let changed = try await db.raw(
            """
            UPDATE products SET status = \(bind: status.rawValue), updated_at = \(bind: at.millis) WHERE id = \(bind: productId)
            RETURNING category_id, per_kg_fen
            """
        ).first()
        try await refreshMedians(of: changed, at: at, in: db)
    }

    /// Copies a merchant's status onto its products (suspension hides them at once, and takes
    /// them out of their categories' medians).
    func setMerchantActive(merchantId: String, _ active: Bool, at: Date, in db: any SQLDatabase) async throws {
        let categories = try await db.raw(
            """
            UPDATE products SET merchant_active = \(bind: active.bit) WHERE merchant_id = \(bind: merchantId)
            RETURNING category_id, per_kg_fen
            """
        ).all().map { try $0.model(UnitPriced.self) }.filter { $0.perKgFen != nil }.map(\.categoryId)
        try await refreshMedians(categoryIds: Set(categories), at: at, in: db)
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
    static let nameColumns = SelectColumns([
        ("(SELECT company_name FROM merchants WHERE id = p.merchant_id)", "merchant_name"),
        ("(SELECT name FROM counties WHERE code = p.origin_county_code)", "county_name"),
    ])
    static let names = nameColumns.sql
    /// The product's own columns (not the search text and terms, which no answer shows).
    static let ownColumns = SelectColumns(Product.columns.map { ("p.\($0)", $0) })
    static let columns = ownColumns.sql
    /// What `row` reads, in its order: the product's columns, then the names.
    static let rowColumns = ownColumns + nameColumns
    static let select = "SELECT \(rowColumns.sql) FROM products p"

    /// Decoded column by column rather than through `Decodable`: a page decodes twenty rows a
    /// request, and the keyed container with its column-name conversion cost about three times
    /// as much. `ProductRow.init(from:)` stays for `model(_:)`; a test decodes a row both ways.
    static func row(_ row: any SQLRow) throws -> ProductRow {
        try Self.row(NamedColumns(row: row, names: rowColumns.names))
    }

    /// Where `row` finds each column in `rowColumns`, looked up by name once. (`per_kg_fen` is
    /// selected but not read: `Product` derives it from the price and the net content.)
    private enum Place {
        static func of(_ name: String) -> Int { rowColumns.place(name) }
        static let id = of("id"), merchantId = of("merchant_id"), title = of("title"), categoryId = of("category_id")
        static let topCategoryId = of("top_category_id"), description = of("description")
        static let specification = of("specification"), unit = of("unit"), priceFen = of("price_fen"), stock = of("stock")
        static let held = of("held"), countyCode = of("origin_county_code"), labels = of("labels"), status = of("status")
        static let sales = of("sales"), merchantActive = of("merchant_active"), certificateNumber = of("certificate_number")
        static let certificateExpiresAt = of("certificate_expires_at"), createdAt = of("created_at")
        static let updatedAt = of("updated_at"), netContentGrams = of("net_content_grams")
        static let merchantName = of("merchant_name"), countyName = of("county_name")
    }

    /// A row of `rowColumns`.
    static func row<Row: RowColumns>(_ row: Row) throws -> ProductRow {
        let (labels, statusText) = (try row.text(Place.labels), try row.text(Place.status))
        guard let status = ProductStatus(rawValue: statusText) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "status \(statusText) is not a product status"))
        }
        let product = Product(
            id: try row.text(Place.id), merchantId: try row.text(Place.merchantId), title: try row.text(Place.title),
            categoryId: try row.text(Place.categoryId), topCategoryId: try row.text(Place.topCategoryId),
            description: try row.text(Place.description), specification: try row.text(Place.specification),
            unit: try row.text(Place.unit), priceFen: try row.integer(Place.priceFen), stock: try row.integer(Place.stock),
            held: try row.integer(Place.held), originCountyCode: try row.text(Place.countyCode),
            labels: labels.isEmpty ? [] : labels.split(separator: ",").map(String.init), status: status,
            sales: try row.integer(Place.sales), merchantActive: try row.integer(Place.merchantActive) != 0,
            certificateNumber: try row.optionalText(Place.certificateNumber),
            certificateExpiresAt: try row.optionalInteger(Place.certificateExpiresAt).map(Date.init(millis:)),
            createdAt: Date(millis: try row.integer(Place.createdAt)), updatedAt: Date(millis: try row.integer(Place.updatedAt)),
            netContentGrams: try row.optionalInteger(Place.netContentGrams))
        return ProductRow(product: product, merchantName: try row.text(Place.merchantName), countyName: try row.text(Place.countyName))
    }
}
