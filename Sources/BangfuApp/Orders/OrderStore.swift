import Foundation
import SQLKit

struct Order: RowModel {
    var id: String
    var checkoutId: String
    var organizationId: String
    var merchantId: String
    var buyerId: String
    var status: OrderStatus
    var totalFen: Int64
    var refundedFen: Int64
    var shipWithinDays: Int
    @Millis var shipBy: Date
    var deliveryAddress: String?
    var note: String?
    var quotaYear: Int
    var carrier: String?
    var trackingNumber: String?
    var paymentReference: String?
    @OptionalMillis var shippedAt: Date?
    @OptionalMillis var acceptedAt: Date?
    @OptionalMillis var settledAt: Date?
    @Millis var createdAt: Date
    @Millis var updatedAt: Date
}

/// A line as it was at ordering: title, price and certificate are copies, not references.
extension Order {
    static let columns = [
        "id", "checkout_id", "organization_id", "merchant_id", "buyer_id", "status", "total_fen", "refunded_fen",
        "ship_within_days", "ship_by", "delivery_address", "note", "quota_year", "carrier", "tracking_number",
        "payment_reference", "shipped_at", "accepted_at", "settled_at", "created_at", "updated_at",
    ]

    /// The row's values in the order of `columns`.
    var row: SQLQueryString {
        """
        (\(bind: id), \(bind: checkoutId), \(bind: organizationId), \(bind: merchantId), \(bind: buyerId),
         \(bind: status.rawValue), \(bind: totalFen), \(bind: refundedFen), \(bind: Int64(shipWithinDays)),
         \(bind: shipBy.millis), \(bind: deliveryAddress), \(bind: note), \(bind: Int64(quotaYear)), \(bind: carrier),
         \(bind: trackingNumber), \(bind: paymentReference), \(bind: shippedAt?.millis), \(bind: acceptedAt?.millis),
         \(bind: settledAt?.millis), \(bind: createdAt.millis), \(bind: updatedAt.millis))
        """
    }
}

extension Refund {
    static let columns = [
        "id", "order_id", "amount_fen", "reason", "status", "requested_by", "decided_by", "decision_note", "decided_at",
        "created_at",
    ]

    /// The row's values in the order of `columns`.
    var row: SQLQueryString {
        """
        (\(bind: id), \(bind: orderId), \(bind: amountFen), \(bind: reason), \(bind: status.rawValue), \(bind: requestedBy),
         \(bind: decidedBy), \(bind: decisionNote), \(bind: decidedAt?.millis), \(bind: createdAt.millis))
        """
    }
}

struct OrderItem: Sendable {
    var productId: String
    var title: String
    var unitPriceFen: Int64
    var quantity: Int64
    var amountFen: Int64
    var certificateNumber: String
    /// The product's origin county and top-level category at ordering, for the sales report.
    var countyCode: String
    var categoryId: String
}

struct Refund: RowModel {
    var id: String
    var orderId: String
    var amountFen: Int64
    var reason: String
    var status: RefundStatus
    var requestedBy: String
    var decidedBy: String?
    var decisionNote: String?
    @OptionalMillis var decidedAt: Date?
    @Millis var createdAt: Date
}

/// What placing an order needs to know of a product, read (and on PostgreSQL locked) in the
/// placing transaction.
struct OrderableProduct: Sendable {
    var id: String
    var merchantId: String
    var title: String
    var priceFen: Int64
    var stock: Int64
    var status: ProductStatus
    var merchantActive: Bool
    var certificateNumber: String?
    var certificateExpiresAt: Date?
    var originCountyCode: String
    var topCategoryId: String
}

/// Checkouts, orders, their items, events and refunds; stock holds; idempotency keys.
struct OrderStore: Sendable {
    let engine: DatabaseEngine

    var forUpdate: String { engine == .postgres ? " FOR UPDATE" : "" }

    // MARK: Products and stock

    /// The products, locked in id order on PostgreSQL so that concurrent checkouts never deadlock.
    func orderable(ids: [String], in db: any SQLDatabase) async throws -> [String: OrderableProduct] {
        guard !ids.isEmpty else { return [:] }
        let sql: SQLQueryString = """
            SELECT id, merchant_id, title, price_fen, stock, status, merchant_active, certificate_number,
              certificate_expires_at, origin_county_code, top_category_id FROM products
            WHERE id IN (\(SQLQueryString.list(ids.sorted()))) ORDER BY id\(unsafeRaw: forUpdate)
            """
        var found: [String: OrderableProduct] = [:]
        for row in try await db.raw(sql).all() {
            let product = OrderableProduct(
                id: try row.decode(column: "id", as: String.self),
                merchantId: try row.decode(column: "merchant_id", as: String.self),
                title: try row.decode(column: "title", as: String.self),
                priceFen: try row.decode(column: "price_fen", as: Int64.self),
                stock: try row.decode(column: "stock", as: Int64.self),
                status: ProductStatus(rawValue: try row.decode(column: "status", as: String.self)) ?? .draft,
                merchantActive: try row.decode(column: "merchant_active", as: Int64.self) != 0,
                certificateNumber: try row.decode(column: "certificate_number", as: String?.self),
                certificateExpiresAt: try row.decode(column: "certificate_expires_at", as: Int64?.self).map(Date.init(millis:)),
                originCountyCode: try row.decode(column: "origin_county_code", as: String.self),
                topCategoryId: try row.decode(column: "top_category_id", as: String.self))
            found[product.id] = product
        }
        return found
    }

    /// Moves units from stock to held for several products in one statement; false if any stock
    /// is short (the statement then changed nothing it is allowed to keep: the caller rolls back).
    func hold(_ quantities: [String: Int64], at: Date, in db: any SQLDatabase) async throws -> Bool {
        guard !quantities.isEmpty else { return true }
        let ids = quantities.keys.sorted()
        let taken = SQLQueryString.cases("id", ids.map { ($0, quantities[$0]!) })
        let sql: SQLQueryString = """
            UPDATE products SET stock = stock - \(taken), held = held + \(taken), last_ordered_at = \(bind: at.millis)
            WHERE id IN (\(SQLQueryString.list(ids))) AND stock >= \(taken) RETURNING id
            """
        return try await db.raw(sql).all().count == ids.count
    }

    /// A rejected or cancelled order gives its held units back to stock.
    func release(productId: String, quantity: Int64, in db: any SQLDatabase) async throws {
        try await db.raw(
            """
            UPDATE products SET stock = stock + \(bind: quantity), held = held - \(bind: quantity)
            WHERE id = \(bind: productId)
            """
        ).run()
    }

    /// Shipped units leave the warehouse: no longer held, counted as sold.
    func ship(productId: String, quantity: Int64, in db: any SQLDatabase) async throws {
        try await db.raw(
            """
            UPDATE products SET held = held - \(bind: quantity), sales = sales + \(bind: quantity)
            WHERE id = \(bind: productId)
            """
        ).run()
    }

    // MARK: Orders

    func insertCheckouts(
        _ checkouts: [(id: String, organizationId: String, buyerId: String, totalFen: Int64)], at: Date, in db: any SQLDatabase
    ) async throws {
        guard !checkouts.isEmpty else { return }
        let rows = checkouts.map { c -> SQLQueryString in
            "(\(bind: c.id), \(bind: c.organizationId), \(bind: c.buyerId), \(bind: c.totalFen), \(bind: at.millis))"
        }
        try await db.raw("INSERT INTO checkouts (id, organization_id, buyer_id, total_fen, created_at) VALUES" + .values(rows)).run()
    }

    /// Orders with their items and first events, in three statements.
    func insert(_ orders: [(order: Order, items: [OrderItem], event: HistoryRecord)], eventIds: [String], in db: any SQLDatabase)
        async throws
    {
        try await db.raw("INSERT INTO orders (\(Order.columnList)) VALUES" + .values(orders.map(\.order.row))).run()
        let itemRows = orders.flatMap { entry in
            entry.items.enumerated().map { position, item -> SQLQueryString in
                """
                (\(bind: entry.order.id), \(bind: Int64(position + 1)), \(bind: item.productId), \(bind: item.title),
                 \(bind: item.unitPriceFen), \(bind: item.quantity), \(bind: item.amountFen), \(bind: item.certificateNumber),
                 \(bind: item.countyCode), \(bind: item.categoryId))
                """
            }
        }
        try await db.raw(
            """
            INSERT INTO order_items (order_id, position, product_id, title, unit_price_fen, quantity, amount_fen,
              certificate_number, county_code, category_id) VALUES
            """ + .values(itemRows)
        ).run()
        let eventRows = orders.enumerated().map { index, entry -> SQLQueryString in
            let e = entry.event
            return """
                (\(bind: eventIds[index]), \(bind: entry.order.id), 1, \(bind: e.action), \(bind: e.actorId), \(bind: e.actorRole),
                 \(bind: e.fromStatus), \(bind: e.toStatus), \(bind: e.note), \(bind: e.at.millis))
                """
        }
        try await db.raw(
            "INSERT INTO order_events (id, order_id, position, action, actor_id, actor_role, from_status, to_status, note, at) VALUES"
                + .values(eventRows)
        ).run()
    }

    func order(id: String, lock: Bool = false, in db: any SQLDatabase) async throws -> Order? {
        try await db.raw("SELECT * FROM orders WHERE id = \(bind: id)\(unsafeRaw: lock ? forUpdate : "")").first().map(Self.order)
    }

    struct Filter: Sendable {
        var organizationId: String?
        var merchantId: String?
        var status: OrderStatus?
    }

    func orders(_ filter: Filter, after: (Int64, String)?, limit: Int, in db: any SQLDatabase) async throws -> [Order] {
        var sql = SQLQueryString("SELECT * FROM orders WHERE 1 = 1")
        if let id = filter.organizationId { sql += " AND organization_id = \(bind: id)" }
        if let id = filter.merchantId { sql += " AND merchant_id = \(bind: id)" }
        if let status = filter.status { sql += " AND status = \(bind: status.rawValue)" }
        if let after { sql += .after(after, time: "created_at", id: "id") }
        sql.appendInterpolation(unsafeRaw: " ORDER BY created_at DESC, id DESC LIMIT \(limit)")
        return try await db.raw(sql).all().map(Self.order)
    }

    func items(orderIds: [String], in db: any SQLDatabase) async throws -> [String: [OrderItem]] {
        guard !orderIds.isEmpty else { return [:] }
        let sql: SQLQueryString = "SELECT * FROM order_items WHERE order_id IN (\(SQLQueryString.list(orderIds))) ORDER BY order_id, position"
        var items: [String: [OrderItem]] = [:]
        for row in try await db.raw(sql).all() {
            items[try row.decode(column: "order_id", as: String.self), default: []].append(
                OrderItem(
                    productId: try row.decode(column: "product_id", as: String.self),
                    title: try row.decode(column: "title", as: String.self),
                    unitPriceFen: try row.decode(column: "unit_price_fen", as: Int64.self),
                    quantity: try row.decode(column: "quantity", as: Int64.self),
                    amountFen: try row.decode(column: "amount_fen", as: Int64.self),
                    certificateNumber: try row.decode(column: "certificate_number", as: String.self),
                    countyCode: try row.decode(column: "county_code", as: String.self),
                    categoryId: try row.decode(column: "category_id", as: String.self)))
        }
        return items
    }

    /// Writes the order's status and the fields its transitions fill in.
    func update(_ o: Order, in db: any SQLDatabase) async throws {
        try await db.raw(
            """
            UPDATE orders SET status = \(bind: o.status.rawValue), refunded_fen = \(bind: o.refundedFen),
              carrier = \(bind: o.carrier), tracking_number = \(bind: o.trackingNumber),
              payment_reference = \(bind: o.paymentReference), shipped_at = \(bind: o.shippedAt?.millis),
              accepted_at = \(bind: o.acceptedAt?.millis), settled_at = \(bind: o.settledAt?.millis),
              updated_at = \(bind: o.updatedAt.millis)
            WHERE id = \(bind: o.id)
            """
        ).run()
    }

    /// The quota sums of one organization's year, recomputed from its orders (SPEC formulas).
    func recomputedTotals(organizationId: String, year: Int, in db: any SQLDatabase) async throws -> QuotaTotals {
        let rows = try await db.raw(
            """
            SELECT status, total_fen, refunded_fen FROM orders
            WHERE organization_id = \(bind: organizationId) AND quota_year = \(bind: Int64(year))
            """
        ).all()
        return QuotaRules.totals(
            of: try rows.map { row in
                OrderAmounts(
                    status: OrderStatus(rawValue: try row.decode(column: "status", as: String.self)) ?? .placed,
                    totalFen: try row.decode(column: "total_fen", as: Int64.self),
                    approvedRefundFen: try row.decode(column: "refunded_fen", as: Int64.self))
            })
    }

    // MARK: Refunds

    func insert(_ r: Refund, in db: any SQLDatabase) async throws {
        try await db.raw("INSERT INTO refunds (\(Refund.columnList)) VALUES \(r.row)").run()
    }

    func refund(id: String, in db: any SQLDatabase) async throws -> Refund? {
        try await db.raw("SELECT * FROM refunds WHERE id = \(bind: id)").first().map(Self.refund)
    }

    /// A refund with what its reader needs of the order.
    struct QueuedRefund: Sendable {
        var refund: Refund
        var order: Order
    }

    /// Refunds of the orders `filter` selects (organization, merchant), newest first, optionally
    /// of one status: the merchant's and the admin's queue, the buyer's history.
    func refunds(
        _ filter: Filter, status: RefundStatus?, after: (Int64, String)?, limit: Int, in db: any SQLDatabase
    ) async throws -> [QueuedRefund] {
        var sql = SQLQueryString("SELECT r.* FROM refunds r JOIN orders o ON o.id = r.order_id WHERE 1 = 1")
        if let id = filter.organizationId { sql += " AND o.organization_id = \(bind: id)" }
        if let id = filter.merchantId { sql += " AND o.merchant_id = \(bind: id)" }
        if let status { sql += " AND r.status = \(bind: status.rawValue)" }
        if let after { sql += .after(after, time: "r.created_at", id: "r.id") }
        sql.appendInterpolation(unsafeRaw: " ORDER BY r.created_at DESC, r.id DESC LIMIT \(limit)")
        let refunds = try await db.raw(sql).all().map(Self.refund)
        guard !refunds.isEmpty else { return [] }
        let orders = try await db.raw("SELECT * FROM orders WHERE id IN (\(SQLQueryString.list(refunds.map(\.orderId))))")
            .all().map(Self.order)
        let byId = Dictionary(orders.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        return refunds.compactMap { refund in byId[refund.orderId].map { QueuedRefund(refund: refund, order: $0) } }
    }

    func refunds(orderId: String, in db: any SQLDatabase) async throws -> [Refund] {
        try await db.raw("SELECT * FROM refunds WHERE order_id = \(bind: orderId) ORDER BY created_at, id").all().map(Self.refund)
    }

    /// requested → approved or rejected; false when it was decided meanwhile.
    func decide(refundId: String, _ status: RefundStatus, by actorId: String, note: String?, at: Date, in db: any SQLDatabase)
        async throws -> Bool
    {
        try await db.raw(
            """
            UPDATE refunds SET status = \(bind: status.rawValue), decided_by = \(bind: actorId), decision_note = \(bind: note),
              decided_at = \(bind: at.millis)
            WHERE id = \(bind: refundId) AND status = 'requested' RETURNING id
            """
        ).first() != nil
    }

    // MARK: Idempotency keys

    struct StoredAnswer: Sendable {
        var requestHash: String
        var status: Int
        var body: String
    }

    /// Claims keys for their requests inside the placing transaction, in key order. On
    /// PostgreSQL a concurrent claim of the same key (another process) waits here until the first
    /// transaction ends, then finds its answer; on SQLite the single writer orders them. Answers
    /// the keys that were taken already, by `userId + "\u{1F}" + key`.
    func claim(_ keys: [(userId: String, key: String, requestHash: String)], at: Date, in db: any SQLDatabase) async throws
        -> [String: StoredAnswer]
    {
        guard !keys.isEmpty else { return [:] }
        let sorted = keys.sorted { ($0.userId, $0.key) < ($1.userId, $1.key) }
        let insert: SQLQueryString =
            "INSERT INTO idempotency_keys (user_id, key, request_hash, status, body, created_at) VALUES"
            + .values(sorted.map { k in "(\(bind: k.userId), \(bind: k.key), \(bind: k.requestHash), 0, '', \(bind: at.millis))" })
            + " ON CONFLICT (user_id, key) DO NOTHING RETURNING user_id, key"
        let claimed = Set(
            try await db.raw(insert).all().map {
                try $0.decode(column: "user_id", as: String.self) + "\u{1F}" + $0.decode(column: "key", as: String.self)
            })
        let taken = sorted.filter { !claimed.contains($0.userId + "\u{1F}" + $0.key) }
        guard !taken.isEmpty else { return [:] }
        var select = SQLQueryString("SELECT user_id, key, request_hash, status, body FROM idempotency_keys WHERE ")
        for (index, k) in taken.enumerated() {
            select.appendInterpolation(unsafeRaw: index == 0 ? "(" : " OR (")
            select.appendInterpolation("user_id = \(bind: k.userId) AND key = \(bind: k.key))" as SQLQueryString)
        }
        var answers: [String: StoredAnswer] = [:]
        for row in try await db.raw(select).all() {
            answers[try row.decode(column: "user_id", as: String.self) + "\u{1F}" + row.decode(column: "key", as: String.self)] =
                StoredAnswer(
                    requestHash: try row.decode(column: "request_hash", as: String.self),
                    status: Int(try row.decode(column: "status", as: Int64.self)), body: try row.decode(column: "body", as: String.self))
        }
        return answers
    }

    /// Keeps each claimed key's answer.
    func answer(_ answers: [(userId: String, key: String, status: Int, body: String)], in db: any SQLDatabase) async throws {
        for chunk in stride(from: 0, to: answers.count, by: 500).map({ answers[$0..<min($0 + 500, answers.count)] }) {
            let sql: SQLQueryString =
                "INSERT INTO idempotency_keys (user_id, key, request_hash, status, body, created_at) VALUES"
                + .values(chunk.map { a in "(\(bind: a.userId), \(bind: a.key), '', \(bind: Int64(a.status)), \(bind: a.body), 0)" })
                + " ON CONFLICT (user_id, key) DO UPDATE SET status = excluded.status, body = excluded.body"
            try await db.raw(sql).run()
        }
    }

    /// Forgets keys older than `before` (they are kept at least 24 hours; the server keeps 7 days).
    func purgeKeys(before: Date, in db: any SQLDatabase) async throws {
        try await db.raw("DELETE FROM idempotency_keys WHERE created_at < \(bind: before.millis)").run()
    }

    // MARK: Rows

    private static func order(_ row: any SQLRow) throws -> Order {
        try row.model(Order.self)
    }

    private static func refund(_ row: any SQLRow) throws -> Refund {
        try row.model(Refund.self)
    }
}
