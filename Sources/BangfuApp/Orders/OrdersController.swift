import HTTPTypes
import Foundation
import Hummingbird

/// Orders (API.md "Orders"): decode, authorize, call the order use cases, encode. A canteen
/// buyer's checkout becomes one order per merchant (`Checkout`); the steps and refunds are
/// `OrderWorkflow`; lists and details are `OrderReading`.
struct OrdersController {
    let checkout: Checkout
    let reading: OrderReading
    let workflow: OrderWorkflow

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        let parties = router.only(.buyer, .merchant, .admin)
        router.only(.buyer).post("/api/v1/orders", use: place)
        parties.get("/api/v1/orders", use: list)
        parties.get("/api/v1/orders/:id", use: show)
        // Each step's roles are those its table lets take it.
        router.only(OrderRules.roles(for: .confirm)).post("/api/v1/orders/:id/confirm", use: confirm)
        router.only(OrderRules.roles(for: .reject)).post("/api/v1/orders/:id/rejection", use: reject)
        router.only(OrderRules.roles(for: .cancel)).post("/api/v1/orders/:id/cancellation", use: cancel)
        router.only(OrderRules.roles(for: .ship)).post("/api/v1/orders/:id/shipment", use: ship)
        router.only(OrderRules.roles(for: .accept)).post("/api/v1/orders/:id/acceptance", use: accept)
        router.only(OrderRules.roles(for: .pay)).post("/api/v1/orders/:id/payment", use: pay)
        router.only(RefundRules.requester.role).post("/api/v1/orders/:id/refunds", use: requestRefund)
        parties.get("/api/v1/refunds", use: listRefunds)
        let deciders = router.only(Set(RefundRules.deciders.map(\.role)))
        deciders.post("/api/v1/refunds/:id/approval", use: approveRefund)
        deciders.post("/api/v1/refunds/:id/rejection", use: rejectRefund)
    }

    static let keyHeader = HTTPField.Name("Idempotency-Key")!
    static let replayedHeader = HTTPField.Name("Idempotent-Replayed")!

    @Sendable func place(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        guard let key = request.headers[Self.keyHeader] else {
            throw DomainError(
                .preconditionRequired, code: "idempotency_key_required",
                detail: "send an Idempotency-Key header (a new random value per checkout)")
        }
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw DomainError.badRequest("Idempotency-Key must be 1 to 255 visible ASCII characters", field: "Idempotency-Key")
        }
        var input = try await request.decodeJSON(OrderDTO.PlaceInput.self, context: context)
        var v = Validator()
        input.deliveryAddress = v.text(input.deliveryAddress, "deliveryAddress", max: 200, required: false)
        input.note = v.text(input.note, "note", max: 500, required: false, multiline: true)
        for problem in CheckoutRules.problems(
            items: input.items.map { ($0.productId, $0.quantity) }, shipWithinDays: input.shipWithinDays)
        {
            v.fail(problem.field, problem.message)
        }
        try v.check()
        let answer = try await checkout.place(input, key: key, by: user)
        var headers: HTTPFields = [
            .contentType: answer.status < 400 ? "application/json; charset=utf-8" : "application/problem+json"
        ]
        if answer.replayed { headers[Self.replayedHeader] = "true" }
        // The stored answer's status was written by this server; anything else is a damaged row.
        guard (100...599).contains(answer.status) else { throw DomainError.conflict("the stored answer of this key is damaged") }
        return Response(
            status: .init(code: answer.status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: answer.body)))
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let paging = try Paging.parse(request, tag: "orders")
        let status = try Paging.choice(request, "status", OrderStatus.self)
        // `invoice=missing`: orders that have shipped and wait for their invoice.
        let invoice = request.uri.queryParameters["invoice"].map(String.init)
        guard invoice == nil || invoice == "missing" else {
            throw DomainError.badRequest("invoice must be missing", field: "invoice")
        }
        return try .json(try await reading.orders(for: user, status: status, invoiceMissing: invoice != nil, paging: paging))
    }

    /// `GET /api/v1/refunds?status=`: the refunds of the caller's orders, newest first.
    @Sendable func listRefunds(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let paging = try Paging.parse(request, tag: "refunds")
        let status = try Paging.choice(request, "status", RefundStatus.self)
        return try .json(try await reading.refunds(for: user, status: status, paging: paging))
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        return try .json(try await reading.order(try context.parameters.require("id"), for: user))
    }
}
