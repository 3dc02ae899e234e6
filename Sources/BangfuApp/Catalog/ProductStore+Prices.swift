import Foundation
import SQLKit

/// Price monitoring's storage: each leaf category's median unit price, kept in the transaction
/// of every change that moves it (a listed product's price or net content, listing, delisting,
/// revocation, a merchant's suspension), and each product's jump base.
extension ProductStore {
    /// What a change returns of the product it changed: enough to know whether a median moves.
    struct UnitPriced: RowModel {
        var categoryId: String
        var perKgFen: Int64?
    }

    /// A category's median as the detail and the alerts read it.
    struct CategoryMedian: RowModel {
        var categoryId: String
        var comparable: Int64
        var medianPerKgFen: Int64?
    }

    /// The comparable products of a category: listed, of an active merchant, with a net content.
    /// (A certificate's expiry, which changes nothing in the database, leaves them in until the
    /// product's next change; the outlier alert itself asks for products on sale.)
    static func comparable(_ table: String) -> String {
        "\(table).per_kg_fen IS NOT NULL AND \(table).status = 'listed' AND \(table).merchant_active = 1"
    }

    func refreshMedians(of changed: (any SQLRow)?, at: Date, in db: any SQLDatabase) async throws {
        guard let product = try changed?.model(UnitPriced.self), product.perKgFen != nil else { return }
        try await refreshMedians(categoryIds: [product.categoryId], at: at, in: db)
    }

    /// Recomputes the medians of `categoryIds`: each row locked first (in id order, after the
    /// products the caller changed), so two changes of one category on PostgreSQL take turns and
    /// the second counts the first. A count and an offset read on the category's unit-price index.
    func refreshMedians(categoryIds: Set<String>, at: Date, in db: any SQLDatabase) async throws {
        for categoryId in categoryIds.sorted() {
            try await db.raw(
                """
                INSERT INTO category_price_medians (category_id, comparable, median_per_kg_fen, updated_at)
                VALUES (\(bind: categoryId), 0, NULL, \(bind: at.millis)) ON CONFLICT (category_id) DO NOTHING
                """
            ).run()
            if engine == .postgres {
                try await db.raw("SELECT category_id FROM category_price_medians WHERE category_id = \(bind: categoryId) FOR UPDATE").run()
            }
            let median = try await computedMedian(categoryId: categoryId, in: db)
            try await db.raw(
                """
                UPDATE category_price_medians SET comparable = \(bind: median.comparable),
                  median_per_kg_fen = \(bind: median.medianPerKgFen), updated_at = \(bind: at.millis)
                WHERE category_id = \(bind: categoryId)
                """
            ).run()
        }
    }

    /// A category's median from its products: a count and an offset read on its unit-price index.
    func computedMedian(categoryId: String, in db: any SQLDatabase) async throws -> CategoryMedian {
        let comparable: SQLQueryString = "WHERE category_id = \(bind: categoryId) AND \(unsafeRaw: Self.comparable("products"))"
        let count = try await db.raw("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM products " + comparable).first()?
            .decode(column: "n", as: Int64.self) ?? 0
        var middle: [Int64] = []
        if count >= PriceRules.minimumComparable {
            let (offset, take) = PriceRules.middle(of: count)
            middle = try await db.raw(
                "SELECT per_kg_fen FROM products " + comparable
                    + " ORDER BY per_kg_fen LIMIT \(unsafeRaw: String(take)) OFFSET \(unsafeRaw: String(offset))"
            ).all().map { try $0.decode(column: "per_kg_fen", as: Int64.self) }
        }
        return CategoryMedian(categoryId: categoryId, comparable: count, medianPerKgFen: PriceRules.median(count: count, middle: middle))
    }

    /// The categories that have comparable products or a stored median.
    func pricedCategories(in db: any SQLDatabase) async throws -> Set<String> {
        let categories = try await db.raw(
            "SELECT DISTINCT category_id FROM products WHERE \(unsafeRaw: Self.comparable("products"))"
        ).all().map { try $0.decode(column: "category_id", as: String.self) }
        let kept = try await db.raw("SELECT category_id FROM category_price_medians").all().map {
            try $0.decode(column: "category_id", as: String.self)
        }
        return Set(categories).union(kept)
    }

    /// Every category's median afresh (after bulk loads: the demo, `bangfu seed`).
    func rebuildMedians(at: Date, in db: any SQLDatabase) async throws {
        try await refreshMedians(categoryIds: try await pricedCategories(in: db), at: at, in: db)
    }

    func median(categoryId: String, in db: any SQLDatabase) async throws -> CategoryMedian? {
        try await db.raw(
            "SELECT category_id, comparable, median_per_kg_fen FROM category_price_medians WHERE category_id = \(bind: categoryId)"
        ).first()?.model(CategoryMedian.self)
    }

    /// Every stored median (`bangfu check` compares them with a recomputation).
    func medians(in db: any SQLDatabase) async throws -> [CategoryMedian] {
        try await db.raw("SELECT category_id, comparable, median_per_kg_fen FROM category_price_medians ORDER BY category_id")
            .all().map { try $0.model(CategoryMedian.self) }
    }

    /// Records a price change's jump base (the lowest price of the 30 days before it).
    func setPriceJump(productId: String, baseFen: Int64?, at: Date, in db: any SQLDatabase) async throws {
        try await db.raw(
            "UPDATE products SET price_jump_base_fen = \(bind: baseFen), price_jump_at = \(bind: at.millis) WHERE id = \(bind: productId)"
        ).run()
    }
}
