import Crypto
import HTTPTypes
import Foundation
import Hummingbird
import SQLKit

/// Orders (API.md "Orders"): a canteen buyer's checkout becomes one order per merchant, placed all
/// or nothing, taking stock and budget in one transaction.
struct OrdersController {
    let services: AppServices
    var store: OrderStore { services.orders }

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post("/api/v1/orders", use: place)
        router.get("/api/v1/orders", use: list)
        router.get("/api/v1/orders/:id", use: show)
        router.post("/api/v1/orders/:id/confirm", use: confirm)
        router.post("/api/v1/orders/:id/rejection", use: reject)
        router.post("/api/v1/orders/:id/cancellation", use: cancel)
        router.post("/api/v1/orders/:id/shipment", use: ship)
        router.post("/api/v1/orders/:id/acceptance", use: accept)
        router.post("/api/v1/orders/:id/payment", use: pay)
        router.post("/api/v1/orders/:id/refunds", use: requestRefund)
        router.get("/api/v1/refunds", use: listRefunds)
        router.post("/api/v1/refunds/:id/approval", use: approveRefund)
        router.post("/api/v1/refunds/:id/rejection", use: rejectRefund)
    }

    // MARK: DTOs

    struct PlaceInput: Codable {
        struct Line: Codable {
            var productId: String
            var quantity: Int64
        }
        var items: [Line]
        var shipWithinDays: Int?
        var deliveryAddress: String?
        var note: String?
    }

    struct ItemOutput: Encodable {
        var productId: String
        var title: String
        var unitPriceFen: Int64
        var quantity: Int64
        var amountFen: Int64
        var certificateNumber: String

        init(_ item: OrderItem) {
            productId = item.productId
            title = item.title
            unitPriceFen = item.unitPriceFen
            quantity = item.quantity
            amountFen = item.amountFen
            certificateNumber = item.certificateNumber
        }
    }

    struct RefundOutput: Encodable {
        var id: String
        var orderId: String
        var amountFen: Int64
        var reason: String
        var status: RefundStatus
        @NullEncoded var decisionNote: String?
        @NullEncoded var decidedAt: String?
        var createdAt: String

        init(_ r: Refund) {
            id = r.id
            orderId = r.orderId
            amountFen = r.amountFen
            reason = r.reason
            status = r.status
            decisionNote = r.decisionNote
            decidedAt = r.decidedAt?.rfc3339
            createdAt = r.createdAt.rfc3339
        }
    }

    struct Output: Encodable {
        var id: String
        var checkoutId: String
        var buyerOrganizationId: String
        var buyerOrganizationName: String
        var merchantId: String
        var status: OrderStatus
        var totalFen: Int64
        var refundedFen: Int64
        /// What the buyer still has to pay: the total less approved refunds.
        var owedFen: Int64
        var shipWithinDays: Int
        var shipBy: String
        @NullEncoded var deliveryAddress: String?
        @NullEncoded var note: String?
        @NullEncoded var carrier: String?
        @NullEncoded var trackingNumber: String?
        @NullEncoded var paymentReference: String?
        @NullEncoded var shippedAt: String?
        @NullEncoded var acceptedAt: String?
        @NullEncoded var settledAt: String?
        var items: [ItemOutput]
        /// In an order's detail; null in lists and in the placement's answer.
        @NullEncoded var events: [MerchantApplicationsController.ReviewOutput]?
        @NullEncoded var refunds: [RefundOutput]?
        var createdAt: String
        var updatedAt: String

        init(_ o: Order, organizationName: String, items: [OrderItem], events: [HistoryRecord]? = nil, refunds: [Refund]? = nil) {
            id = o.id
            checkoutId = o.checkoutId
            buyerOrganizationId = o.organizationId
            buyerOrganizationName = organizationName
            merchantId = o.merchantId
            status = o.status
            totalFen = o.totalFen
            refundedFen = o.refundedFen
            owedFen = OrderRules.owedFen(total: o.totalFen, approvedRefunds: o.refundedFen)
            shipWithinDays = o.shipWithinDays
            shipBy = o.shipBy.rfc3339
            deliveryAddress = o.deliveryAddress
            note = o.note
            carrier = o.carrier
            trackingNumber = o.trackingNumber
            paymentReference = o.paymentReference
            shippedAt = o.shippedAt?.rfc3339
            acceptedAt = o.acceptedAt?.rfc3339
            settledAt = o.settledAt?.rfc3339
            self.items = items.map(ItemOutput.init)
            self.events = events?.map(MerchantApplicationsController.ReviewOutput.init)
            self.refunds = refunds?.map(RefundOutput.init)
            createdAt = o.createdAt.rfc3339
            updatedAt = o.updatedAt.rfc3339
        }
    }

    struct CheckoutOutput: Encodable {
        var checkoutId: String
        var totalFen: Int64
        var orders: [Output]
    }

    // MARK: Placement

    static let keyHeader = HTTPField.Name("Idempotency-Key")!
    static let replayedHeader = HTTPField.Name("Idempotent-Replayed")!

    @Sendable func place(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.require(.buyer)
        guard let key = request.headers[Self.keyHeader] else {
            throw DomainError(
                .preconditionRequired, code: "idempotency_key_required",
                detail: "send an Idempotency-Key header (a new random value per checkout)")
        }
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw DomainError.badRequest("Idempotency-Key must be 1 to 255 visible ASCII characters", field: "Idempotency-Key")
        }
        var input = try await request.decodeJSON(PlaceInput.self, context: context)
        var v = Validator()
        input.deliveryAddress = v.text(input.deliveryAddress, "deliveryAddress", max: 200, required: false)
        input.note = v.text(input.note, "note", max: 500, required: false, multiline: true)
        for problem in CheckoutRules.problems(
            items: input.items.map { ($0.productId, $0.quantity) }, shipWithinDays: input.shipWithinDays)
        {
            v.fail(problem.field, problem.message)
        }
        try v.check()
        let hash = try Self.requestHash(input)
        let organization = try await services.database.read { db in
            try await services.buyers.organization(memberId: user.userId, in: db)
        }
        guard let organization else {
            throw DomainError(.forbidden, code: "forbidden", detail: "register your organization first")
        }
        guard organization.status == .active else {
            throw DomainError(.forbidden, code: "forbidden", detail: "your organization is not verified yet")
        }
        let answer = try await services.placements.submit(
            PlacementRequest(user: user, organization: organization, key: key, requestHash: hash, input: input))
        var headers: HTTPFields = [
            .contentType: answer.status < 400 ? "application/json; charset=utf-8" : "application/problem+json"
        ]
        if answer.replayed { headers[Self.replayedHeader] = "true" }
        // The stored answer's status was written by this server; anything else is a damaged row.
        guard (100...599).contains(answer.status) else { throw DomainError.conflict("the stored answer of this key is damaged") }
        return Response(
            status: .init(code: answer.status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: answer.body)))
    }

    /// Why buyers may not order the product now, if they may not (SPEC: listed, of an active
    /// merchant, with a valid certificate; validity read from the clock).
    static func unavailability(_ product: OrderableProduct, now: Date) -> String? {
        if product.status != .listed { return "is not listed" }
        if !product.merchantActive { return "its merchant is suspended" }
        guard product.certificateNumber != nil, let expiresAt = product.certificateExpiresAt else {
            return "has no valid 帮扶产品 certificate"
        }
        if expiresAt <= now { return "its certificate has expired" }
        return nil
    }

    /// A write that the checks said would succeed did not: roll back (500, logged).
    struct WriteConflict: Error {}

    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// SHA-256 of the normalised request (decoded and re-encoded with sorted keys), so the same
    /// checkout with other whitespace or key order is the same request.
    static func requestHash(_ input: PlaceInput) throws -> String {
        SHA256.hash(data: try encode(input)).lowercaseHex
    }

    // MARK: Reading

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.require(.buyer, .merchant, .admin)
        let paging = try Paging.parse(request, tag: "orders")
        var filter = OrderStore.Filter()
        filter.status = try Paging.choice(request, "status", OrderStatus.self)
        let after = try paging.position.map(Paging.timeAndId)
        let requested = filter
        let (orders, items, names) = try await services.database.read { db -> ([Order], [String: [OrderItem]], [String: String]) in
            guard var query = try await scope(user, in: db) else { return ([], [:], [:]) }
            query.status = requested.status
            let orders = try await store.orders(query, after: after, limit: paging.limit + 1, in: db)
            let shown = orders.prefix(paging.limit)
            return (
                orders, try await store.items(orderIds: shown.map(\.id), in: db),
                try await services.buyers.names(organizationIds: shown.map(\.organizationId), in: db)
            )
        }
        let next = orders.count > paging.limit ? orders[paging.limit - 1] : nil
        return try .json(
            Page(
                items: orders.prefix(paging.limit).map {
                    Output($0, organizationName: names[$0.organizationId] ?? "", items: items[$0.id] ?? [])
                },
                nextCursor: next.map { Paging.cursor(tag: "orders", position: "\($0.createdAt.millis)|\($0.id)") }))
    }

    /// A refund in a list, with the order it belongs to summed up.
    struct QueuedRefundOutput: Encodable {
        struct OrderSummary: Encodable {
            var id: String
            var status: OrderStatus
            var merchantId: String
            var buyerOrganizationId: String
            var totalFen: Int64
            var refundedFen: Int64
            var items: [ItemOutput]
        }
        var refund: RefundOutput
        var order: OrderSummary

        init(_ queued: OrderStore.QueuedRefund, items: [OrderItem]) {
            refund = RefundOutput(queued.refund)
            let o = queued.order
            order = OrderSummary(
                id: o.id, status: o.status, merchantId: o.merchantId, buyerOrganizationId: o.organizationId,
                totalFen: o.totalFen, refundedFen: o.refundedFen, items: items.map(ItemOutput.init))
        }
    }

    /// `GET /api/v1/refunds?status=`: the refunds of the caller's orders (a merchant's queue to
    /// decide, a buyer organization's history), or all of them for an admin; newest first.
    @Sendable func listRefunds(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.require(.buyer, .merchant, .admin)
        let paging = try Paging.parse(request, tag: "refunds")
        let wanted = try Paging.choice(request, "status", RefundStatus.self)
        let after = try paging.position.map(Paging.timeAndId)
        let (refunds, items) = try await services.database.read { db -> ([OrderStore.QueuedRefund], [String: [OrderItem]]) in
            guard let filter = try await scope(user, in: db) else { return ([], [:]) }
            let refunds = try await store.refunds(filter, status: wanted, after: after, limit: paging.limit + 1, in: db)
            return (refunds, try await store.items(orderIds: refunds.prefix(paging.limit).map(\.order.id), in: db))
        }
        let next = refunds.count > paging.limit ? refunds[paging.limit - 1].refund : nil
        return try .json(
            Page(
                items: refunds.prefix(paging.limit).map { QueuedRefundOutput($0, items: items[$0.order.id] ?? []) },
                nextCursor: next.map { Paging.cursor(tag: "refunds", position: "\($0.createdAt.millis)|\($0.id)") }))
    }

    /// The orders a caller may see: its organization's (buyer), its own (merchant), all (admin);
    /// nil when a buyer or merchant has no organization or merchant yet.
    func scope(_ user: Identity, in db: any SQLDatabase) async throws -> OrderStore.Filter? {
        var filter = OrderStore.Filter()
        switch user.role {
        case .buyer:
            guard let organization = try await services.buyers.organization(memberId: user.userId, in: db) else { return nil }
            filter.organizationId = organization.id
        case .merchant:
            guard let merchant = try await services.merchants.merchant(ownerId: user.userId, in: db) else { return nil }
            filter.merchantId = merchant.id
        default: break
        }
        return filter
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.require(.buyer, .merchant, .admin)
        let id = try context.parameters.require("id")
        let output = try await services.database.read { db in
            let (order, _) = try await visible(id, to: user, in: db)
            return try await detail(order, in: db)
        }
        return try .json(output)
    }

    func detail(_ order: Order, in db: any SQLDatabase) async throws -> Output {
        Output(
            order,
            organizationName: try await services.buyers.names(organizationIds: [order.organizationId], in: db)[order.organizationId] ?? "",
            items: try await store.items(orderIds: [order.id], in: db)[order.id] ?? [],
            events: try await HistoryStore.orders.records(ownerId: order.id, in: db), refunds: try await store.refunds(orderId: order.id, in: db))
    }

    /// The order and the caller's part in it: a buyer of its organization, its merchant, or an
    /// admin. Anyone else is told it does not exist.
    func visible(_ id: String, to user: Identity, lock: Bool = false, in db: any SQLDatabase) async throws -> (Order, OrderParty) {
        guard let order = try await store.order(id: id, lock: lock, in: db) else { throw DomainError.notFound("order") }
        switch user.role {
        case .admin: return (order, .admin)
        case .buyer:
            if try await services.buyers.organization(memberId: user.userId, in: db)?.id == order.organizationId {
                return (order, .buyer)
            }
        case .merchant:
            if try await services.merchants.merchant(ownerId: user.userId, in: db)?.id == order.merchantId {
                return (order, .merchant)
            }
        default: break
        }
        throw DomainError.notFound("order")
    }
}
