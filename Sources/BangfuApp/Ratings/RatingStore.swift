import Foundation
import SQLKit

/// An order's rating (评价) by a member of its buying organization, and the merchant's reply.
struct Rating: TableRow {
    var orderId: String
    /// Its own id: the public list pages on it, so no order id leaves the order's parties.
    var id: String
    var organizationId, merchantId, raterId: String
    /// Stars, 1 to 5.
    var quality, delivery, service: Int
    var comment, reply: String?
    @OptionalMillis var repliedAt: Date?
    @Millis var createdAt: Date

    static let columns = [
        "order_id", "id", "organization_id", "merchant_id", "rater_id", "quality", "delivery", "service", "comment", "reply",
        "replied_at", "created_at",
    ]

    var row: SQLQueryString {
        """
        (\(bind: orderId), \(bind: id), \(bind: organizationId), \(bind: merchantId), \(bind: raterId), \(bind: Int64(quality)),
         \(bind: Int64(delivery)), \(bind: Int64(service)), \(bind: comment), \(bind: reply), \(bind: repliedAt?.millis),
         \(bind: createdAt.millis))
        """
    }
}

/// A merchant's rating sums over a window (the profile's averages).
struct RatingSums: RowModel, Equatable {
    var merchantId: String
    var count: Int64
    var quality: Int64
    var delivery: Int64
    var service: Int64
    /// The oldest rating counted (its `created_at`).
    var oldest: Int64? = nil
}

/// Ratings: one an order (its primary key), the reply on the same row.
struct RatingStore: Sendable {
    let engine: DatabaseEngine

    func rating(orderId: String, in db: any SQLDatabase) async throws -> Rating? {
        try await db.raw("SELECT * FROM ratings WHERE order_id = \(bind: orderId)").first().map { try $0.model(Rating.self) }
    }

    func ratings(orderIds: [String], in db: any SQLDatabase) async throws -> [String: Rating] {
        guard !orderIds.isEmpty else { return [:] }
        let rows = try await db.raw("SELECT * FROM ratings WHERE order_id IN (\(SQLQueryString.list(orderIds)))").all()
        return Dictionary(try rows.map { let r = try $0.model(Rating.self); return (r.orderId, r) }, uniquingKeysWith: { a, _ in a })
    }

    func insert(_ rating: Rating, in db: any SQLDatabase) async throws {
        try await insert([rating], in: db)
    }

    /// Many ratings in one statement (the seeder's batches).
    func insert(_ ratings: [Rating], in db: any SQLDatabase) async throws {
        guard !ratings.isEmpty else { return }
        try await db.raw("INSERT INTO ratings (\(Rating.columnList)) VALUES" + .values(ratings.map(\.row))).run()
    }

    /// Writes the reply unless there is one; false when there was.
    func reply(orderId: String, text: String, at now: Date, in db: any SQLDatabase) async throws -> Bool {
        let rows = try await db.raw(
            """
            UPDATE ratings SET reply = \(bind: text), replied_at = \(bind: now.millis)
            WHERE order_id = \(bind: orderId) AND reply IS NULL RETURNING order_id
            """
        ).all()
        return !rows.isEmpty
    }

    /// A merchant's ratings, newest first.
    func ratings(merchantId: String, after: (Int64, String)?, limit: Int, in db: any SQLDatabase) async throws -> [Rating] {
        var sql: SQLQueryString = "SELECT * FROM ratings WHERE merchant_id = \(bind: merchantId)"
        sql += .newestFirst(after: after, time: "created_at", id: "id", limit: limit)
        return try await db.raw(sql).all().map { try $0.model(Rating.self) }
    }

    /// Recomputes the merchants' overall scores over the ratings of the 365 days before `now`,
    /// copies each onto its products (`sort=rating`), and notes when the oldest counted rating
    /// leaves the window. In the caller's transaction: the rating itself, or a pass of `refreshDue`.
    /// On PostgreSQL the merchants' rows are locked before their ratings are summed (two ratings
    /// of one merchant take turns, the second counting the first), and their products' rows in
    /// id order, as checkouts and shipments lock them, so none deadlock; both with NO KEY UPDATE,
    /// which foreign-key checks of new orders and ratings do not wait for.
    func refreshScores(merchantIds: [String], now: Date, in db: any SQLDatabase) async throws {
        let ids = Set(merchantIds).sorted()
        guard !ids.isEmpty else { return }
        if engine == .postgres {
            // NO KEY UPDATE: the rating just inserted holds a key-share lock on its merchant's row
            // (its foreign key), which FOR UPDATE would wait on across two concurrent ratings.
            try await db.raw("SELECT id FROM merchants WHERE id IN (\(SQLQueryString.list(ids))) ORDER BY id FOR NO KEY UPDATE").run()
        }
        let since = now.addingTimeInterval(-RatingRules.window)
        let sums = try await self.sums(merchantIds: ids, since: since, in: db)
        for merchantId in ids {
            let score = RatingRules.overallScore(sums[merchantId])
            // The first instant the oldest counted rating no longer counts (`created_at >= since`).
            let refreshAt = sums[merchantId]?.oldest.map { $0 + Int64(RatingRules.window * 1000) + 1 }
            try await db.raw(
                """
                UPDATE merchants SET rating_score = \(bind: score), rating_refresh_at = \(bind: refreshAt)
                WHERE id = \(bind: merchantId)
                """
            ).run()
            let lock = engine == .postgres ? " ORDER BY id FOR NO KEY UPDATE" : ""
            try await db.raw(
                """
                UPDATE products SET merchant_rating = \(bind: score) WHERE id IN (SELECT id FROM products
                  WHERE merchant_id = \(bind: merchantId) AND merchant_rating <> \(bind: score)\(unsafeRaw: lock))
                """
            ).run()
        }
    }

    /// Every merchant with a rating, by id.
    func ratedMerchants(in db: any SQLDatabase) async throws -> [String] {
        try await db.raw("SELECT DISTINCT merchant_id FROM ratings ORDER BY merchant_id").all().map {
            try $0.decode(column: "merchant_id", as: String.self)
        }
    }

    /// The merchants whose oldest counted rating has left the 365-day window (at most `limit`).
    func scoresDue(now: Date, limit: Int, in db: any SQLDatabase) async throws -> [String] {
        try await db.raw(
            """
            SELECT id FROM merchants WHERE rating_refresh_at <= \(bind: now.millis) ORDER BY rating_refresh_at
            LIMIT \(unsafeRaw: String(limit))
            """
        ).all().map { try $0.decode(column: "id", as: String.self) }
    }

    /// Each merchant's count and score sums of the ratings made since `since`.
    func sums(merchantIds: [String], since: Date, in db: any SQLDatabase) async throws -> [String: RatingSums] {
        guard !merchantIds.isEmpty else { return [:] }
        let rows = try await db.raw(
            """
            SELECT merchant_id, COUNT(*) AS count, CAST(SUM(quality) AS BIGINT) AS quality,
              CAST(SUM(delivery) AS BIGINT) AS delivery, CAST(SUM(service) AS BIGINT) AS service,
              MIN(created_at) AS oldest
            FROM ratings WHERE merchant_id IN (\(SQLQueryString.list(merchantIds))) AND created_at >= \(bind: since.millis)
            GROUP BY merchant_id
            """
        ).all()
        return Dictionary(try rows.map { let s = try $0.model(RatingSums.self); return (s.merchantId, s) }, uniquingKeysWith: { a, _ in a })
    }
}
