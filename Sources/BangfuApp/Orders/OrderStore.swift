import Foundation
import SQLKit

struct Order: TableRow {
    var id: String
    var checkoutId: String
    var organizationId: String
    var merchantId: String
    var buyerId: String
    var status: OrderStatus
    var totalFen, refundedFen: Int64
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
    var purpose: OrderPurpose = .canteen
}

extension Order {
    static let columns = [
        "id", "checkout_id", "organization_id", "merchant_id", "buyer_id", "status", "total_fen", "refunded_fen",
        "ship_within_days", "ship_by", "delivery_address", "note", "quota_year", "carrier", "tracking_number",
        "payment_reference", "shipped_at", "accepted_at", "settled_at", "created_at", "updated_at", "purpose",
    ]

    /// The row's values in the order of `columns`.
    var row: SQLQueryString {
        """
        (\(bind: id), \(bind: checkoutId), \(bind: organizationId), \(bind: merchantId), \(bind: buyerId),
         \(bind: status.rawValue), \(bind: totalFen), \(bind: refundedFen), \(bind: Int64(shipWithinDays)),
         \(bind: shipBy.millis), \(bind: deliveryAddress), \(bind: note), \(bind: Int64(quotaYear)), \(bind: carrier),
         \(bind: trackingNumber), \(bind: paymentReference), \(bind: shippedAt?.millis), \(bind: acceptedAt?.millis),
         \(bind: settledAt?.millis), \(bind: createdAt.millis), \(bind: updatedAt.millis), \(bind: purpose.rawValue))
        """
    }
}

extension OrderItem {
    /// The columns of `order_items`: the order and the line's position in it, which the order
    /// gives (an item does not carry them), then the line's own.
    static let columns = [
        "order_id", "position", "product_id", "title", "unit_price_fen", "quantity", "amount_fen", "certificate_number",
        "county_code", "category_id",
    ]

    /// The row's values in the order of `columns`, as line `position` (from 1) of `orderId`.
    func row(orderId: String, position: Int) -> SQLQueryString {
        """
        (\(bind: orderId), \(bind: Int64(position)), \(bind: productId), \(bind: title), \(bind: unitPriceFen),
         \(bind: quantity), \(bind: amountFen), \(bind: certificateNumber), \(bind: countyCode), \(bind: categoryId))
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

/// A line as it was at ordering: title, price and certificate are copies, not references.
struct OrderItem: TableRow, Encodable {
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

struct Refund: TableRow, Encodable {
    var id, orderId: String
    var amountFen: Int64
    var reason: String
    var status: RefundStatus
    /// The buyer member who asked.
    var requestedBy: String
    /// The merchant's owner or the admin who decided.
    @NullEncoded var decidedBy: String?
    @NullEncoded var decisionNote: String?
    @OptionalMillis var decidedAt: Date?
    @Millis var createdAt: Date
}

/// What placing an order needs to know of a product, read (and on PostgreSQL locked) in the
/// placing transaction.
struct OrderableProduct: TableRow {
    var id: String
    var merchantId: String
    var title: String
    var priceFen: Int64
    var stock: Int64
    var status: ProductStatus
    @IntBool var merchantActive: Bool
    var certificateNumber: String?
    @OptionalMillis var certificateExpiresAt: Date?
    var originCountyCode: String
    var topCategoryId: String

    /// The columns of `products` it reads.
    static let columns = [
        "id", "merchant_id", "title", "price_fen", "stock", "status", "merchant_active", "certificate_number",
        "certificate_expires_at", "origin_county_code", "top_category_id",
    ]
}

/// A row of `checkouts`: one buyer's checkout, split into an order per merchant.
struct CheckoutRow: TableRow {
    var id: String
    var organizationId: String
    var buyerId: String
    var totalFen: Int64
    @Millis var createdAt: Date

    static let columns = ["id", "organization_id", "buyer_id", "total_fen", "created_at"]

    /// The row's values in the order of `columns`.
    var row: SQLQueryString {
        "(\(bind: id), \(bind: organizationId), \(bind: buyerId), \(bind: totalFen), \(bind: createdAt.millis))"
    }
}

/// A row of `idempotency_keys`: a user's key, the hash of the request it was first used for, and
/// the answer it keeps (status 0 and an empty body while its placing is under way).
struct IdempotencyKey: TableRow {
    var userId: String
    var key: String
    var requestHash: String
    var status: Int
    var body: String
    @Millis var createdAt: Date

    static let columns = ["user_id", "key", "request_hash", "status", "body", "created_at"]

    /// The row's values in the order of `columns`.
    var row: SQLQueryString {
        """
        (\(bind: userId), \(bind: key), \(bind: requestHash), \(bind: Int64(status)), \(bind: body),
         \(bind: createdAt.millis))
        """
    }

    /// How `claim` names a key among several users' keys.
    var claimKey: String { userId + "\u{1F}" + key }
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
            SELECT \(OrderableProduct.columnList) FROM products
            WHERE id IN (\(SQLQueryString.list(ids.sorted()))) ORDER BY id\(unsafeRaw: forUpdate)
            """
        var found: [String: OrderableProduct] = [:]
        for row in try await db.raw(sql).all() {
            let product = try row.model(OrderableProduct.self)
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
        let rows = checkouts.map { c in
            CheckoutRow(id: c.id, organizationId: c.organizationId, buyerId: c.buyerId, totalFen: c.totalFen, createdAt: at).row
        }
        try await db.raw("INSERT INTO checkouts (\(CheckoutRow.columnList)) VALUES" + .values(rows)).run()
    }

    /// Orders with their items and first events, in three statements.
    func insert(_ orders: [(order: Order, items: [OrderItem], event: HistoryRecord)], eventIds: [String], in db: any SQLDatabase)
        async throws
    {
        try await db.raw("INSERT INTO orders (\(Order.columnList)) VALUES" + .values(orders.map(\.order.row))).run()
        let itemRows = orders.flatMap { entry in
            entry.items.enumerated().map { index, item in item.row(orderId: entry.order.id, position: index + 1) }
        }
        try await db.raw("INSERT INTO order_items (\(OrderItem.columnList)) VALUES" + .values(itemRows)).run()
        let history = HistoryStore.orders
        let eventRows = orders.enumerated().map { index, entry in
            history.values(entry.event, ownerId: entry.order.id, id: eventIds[index], position: "1")
        }
        try await db.raw("INSERT INTO order_events (\(history.insertColumns)) VALUES" + .values(eventRows)).run()
    }

    func order(id: String, lock: Bool = false, in db: any SQLDatabase) async throws -> Order? {
        try await db.raw("SELECT * FROM orders WHERE id = \(bind: id)\(unsafeRaw: lock ? forUpdate : "")").first()
            .map { try $0.model(Order.self) }
    }

    struct Filter: Sendable {
        var organizationId: String?
        var merchantId: String?
        var status: OrderStatus?
        /// Shipped, accepted or settled without a current invoice.
        var invoiceMissing = false
    }

    func orders(_ filter: Filter, after: (Int64, String)?, limit: Int, in db: any SQLDatabase) async throws -> [Order] {
        var sql = SQLQueryString("SELECT * FROM orders WHERE 1 = 1")
        if let id = filter.organizationId { sql += " AND organization_id = \(bind: id)" }
        if let id = filter.merchantId { sql += " AND merchant_id = \(bind: id)" }
        if let status = filter.status { sql += " AND status = \(bind: status.rawValue)" }
        if filter.invoiceMissing {
            sql += """
                 AND status IN ('shipped', 'accepted', 'settled')
                 AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.order_id = orders.id AND i.status = 'current')
                """
        }
        sql += .newestFirst(after: after, time: "created_at", id: "id", limit: limit)
        return try await db.raw(sql).all().map { try $0.model(Order.self) }
    }

    func items(orderIds: [String], in db: any SQLDatabase) async throws -> [String: [OrderItem]] {
        guard !orderIds.isEmpty else { return [:] }
        let sql: SQLQueryString = "SELECT * FROM order_items WHERE order_id IN (\(SQLQueryString.list(orderIds))) ORDER BY order_id, position"
        var items: [String: [OrderItem]] = [:]
        for row in try await db.raw(sql).all() {
            // The order an item belongs to is a column of its row, not a property of the item.
            items[try row.decode(column: "order_id", as: String.self), default: []].append(try row.model(OrderItem.self))
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

    /// What the quota sums need of an order.
    private struct Amounts: RowModel {
        var status: OrderStatus
        var totalFen: Int64
        var refundedFen: Int64
        var rated: Int64
    }

    /// The canteen sums of one organization's year, recomputed from its canteen orders under
    /// `rule` (SPEC formulas; `bangfu check` does the same in SQL for every plan).
    func recomputedTotals(organizationId: String, year: Int, rule: CompletionRule, in db: any SQLDatabase) async throws
        -> QuotaTotals
    {
        let rows = try await db.raw(
            """
            SELECT o.status, o.total_fen, o.refunded_fen,
              CASE WHEN EXISTS (SELECT 1 FROM ratings r WHERE r.order_id = o.id) THEN 1 ELSE 0 END AS rated
            FROM orders o
            WHERE o.organization_id = \(bind: organizationId) AND o.quota_year = \(bind: Int64(year)) AND o.purpose = 'canteen'
            """
        ).all()
        return QuotaRules.totals(
            of: try rows.map { row in
                let amounts = try row.model(Amounts.self)
                return OrderAmounts(
                    status: amounts.status, totalFen: amounts.totalFen, approvedRefundFen: amounts.refundedFen, rated: amounts.rated != 0)
            }, rule: rule)
    }

    // MARK: Refunds

    func insert(_ r: Refund, in db: any SQLDatabase) async throws {
        try await db.raw("INSERT INTO refunds (\(Refund.columnList)) VALUES \(r.row)").run()
    }

    func refund(id: String, in db: any SQLDatabase) async throws -> Refund? {
        try await db.raw("SELECT * FROM refunds WHERE id = \(bind: id)").first().map { try $0.model(Refund.self) }
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
        sql += .newestFirst(after: after, time: "r.created_at", id: "r.id", limit: limit)
        let refunds = try await db.raw(sql).all().map { try $0.model(Refund.self) }
        guard !refunds.isEmpty else { return [] }
        let orders = try await db.raw("SELECT * FROM orders WHERE id IN (\(SQLQueryString.list(refunds.map(\.orderId))))")
            .all().map { try $0.model(Order.self) }
        let byId = Dictionary(orders.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        return refunds.compactMap { refund in byId[refund.orderId].map { QueuedRefund(refund: refund, order: $0) } }
    }

    func refunds(orderId: String, in db: any SQLDatabase) async throws -> [Refund] {
        try await db.raw("SELECT * FROM refunds WHERE order_id = \(bind: orderId) ORDER BY created_at, id").all()
            .map { try $0.model(Refund.self) }
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
        let rows = sorted.map { k in
            IdempotencyKey(userId: k.userId, key: k.key, requestHash: k.requestHash, status: 0, body: "", createdAt: at).row
        }
        let insert: SQLQueryString =
            "INSERT INTO idempotency_keys (\(IdempotencyKey.columnList)) VALUES" + .values(rows)
            + " ON CONFLICT (user_id, key) DO NOTHING RETURNING \(IdempotencyKey.columnList)"
        let claimed = Set(try await db.raw(insert).all().map { try $0.model(IdempotencyKey.self).claimKey })
        let taken = sorted.filter { !claimed.contains($0.userId + "\u{1F}" + $0.key) }
        guard !taken.isEmpty else { return [:] }
        var select = SQLQueryString("SELECT \(IdempotencyKey.columnList) FROM idempotency_keys WHERE ")
        for (index, k) in taken.enumerated() {
            select.appendInterpolation(unsafeRaw: index == 0 ? "(" : " OR (")
            select.appendInterpolation("user_id = \(bind: k.userId) AND key = \(bind: k.key))" as SQLQueryString)
        }
        var answers: [String: StoredAnswer] = [:]
        for row in try await db.raw(select).all() {
            let stored = try row.model(IdempotencyKey.self)
            answers[stored.claimKey] = StoredAnswer(requestHash: stored.requestHash, status: stored.status, body: stored.body)
        }
        return answers
    }

    /// Keeps each claimed key's answer.
    func answer(_ answers: [(userId: String, key: String, status: Int, body: String)], in db: any SQLDatabase) async throws {
        for chunk in stride(from: 0, to: answers.count, by: 500).map({ answers[$0..<min($0 + 500, answers.count)] }) {
            // A claimed key's row exists, so only its answer is written; the hash and time are those
            // of a row that vanished meanwhile.
            let rows = chunk.map { a in
                IdempotencyKey(
                    userId: a.userId, key: a.key, requestHash: "", status: a.status, body: a.body, createdAt: Date(millis: 0)
                ).row
            }
            let sql: SQLQueryString =
                "INSERT INTO idempotency_keys (\(IdempotencyKey.columnList)) VALUES" + .values(rows)
                + " ON CONFLICT (user_id, key) DO UPDATE SET status = excluded.status, body = excluded.body"
            try await db.raw(sql).run()
        }
    }

    /// Forgets keys older than `before` (they are kept at least 24 hours; the server keeps 7 days).
    func purgeKeys(before: Date, in db: any SQLDatabase) async throws {
        try await db.raw("DELETE FROM idempotency_keys WHERE created_at < \(bind: before.millis)").run()
    }
}
