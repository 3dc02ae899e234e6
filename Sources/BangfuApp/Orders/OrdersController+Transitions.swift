import Foundation
import Hummingbird
import SQLKit

/// The order state machine of SPEC.md "Orders" and the refunds, each step one transaction with
/// its stock, quota and audit effects.
extension OrdersController {
    struct ReasonInput: Decodable {
        var reason: String?
    }

    struct ShipmentInput: Decodable {
        var carrier: String
        var trackingNumber: String
    }

    struct PaymentInput: Decodable {
        var reference: String
        var amountFen: Int64
    }

    struct RefundInput: Decodable {
        var amountFen: Int64
        var reason: String
    }

    struct DecisionInput: Decodable {
        var note: String?
    }

    @Sendable func confirm(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await transition(context, .confirm, note: nil) { _ in }
    }

    @Sendable func reject(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try await authorize(context, OrderRules.parties(for: .reject))
        let input = try await request.decodeJSON(ReasonInput.self, context: context)
        var v = Validator()
        let reason = v.text(input.reason, "reason", max: 500, multiline: true)
        try v.check()
        return try await transition(context, .reject, note: reason) { _ in }
    }

    @Sendable func cancel(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try await authorize(context, OrderRules.parties(for: .cancel))
        let input = try await request.decodeJSON(ReasonInput.self, context: context)
        var v = Validator()
        let reason = v.text(input.reason, "reason", max: 500, required: false, multiline: true)
        try v.check()
        return try await transition(context, .cancel, note: reason) { _ in }
    }

    @Sendable func ship(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try await authorize(context, OrderRules.parties(for: .ship))
        let input = try await request.decodeJSON(ShipmentInput.self, context: context)
        var v = Validator()
        let carrier = v.text(input.carrier, "carrier", max: 50)
        let tracking = v.text(input.trackingNumber, "trackingNumber", max: 64)
        try v.check()
        guard let carrier, let tracking else { throw DomainError.validation(v.errors) }
        return try await transition(context, .ship, note: "\(carrier) \(tracking)") { order in
            order.carrier = carrier
            order.trackingNumber = tracking
        }
    }

    @Sendable func accept(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await transition(context, .accept, note: nil) { _ in }
    }

    @Sendable func pay(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try await authorize(context, OrderRules.parties(for: .pay))
        let input = try await request.decodeJSON(PaymentInput.self, context: context)
        var v = Validator()
        let reference = v.text(input.reference, "reference", max: 100)
        try v.check()
        return try await transition(context, .pay, note: reference) { order in
            if let problem = OrderRules.paymentProblem(
                amountFen: input.amountFen, total: order.totalFen, approvedRefunds: order.refundedFen)
            {
                throw DomainError.invalid(problem.field, problem.message)
            }
            order.paymentReference = reference
        }
    }

    /// One step: who may take it (403 for the wrong party), whether the status allows it (409
    /// `invalid_transition`), then its effects on stock and on the plan's sums, its event and its
    /// audit record, all in one transaction.
    private func transition(
        _ context: AppRequestContext, _ action: OrderAction, note: String?,
        prepare: @Sendable @escaping (inout Order) throws -> Void
    ) async throws -> Response {
        let user = try context.require(Self.roles(OrderRules.parties(for: action)))
        let id = try context.parameters.require("id")
        let now = services.clock.now
        let output = try await services.database.write { db in
            var (order, party) = try await visible(id, to: user, lock: true, in: db)
            guard OrderRules.parties(for: action).contains(party) else {
                throw DomainError(.forbidden, code: "forbidden", detail: "the \(party.rawValue) may not \(action.rawValue) an order")
            }
            guard let next = OrderRules.target(from: order.status, action) else {
                throw DomainError.invalidTransition(current: order.status.rawValue, action: action.rawValue)
            }
            try prepare(&order)
            let from = order.status
            let net = QuotaRules.netFen(totalFen: order.totalFen, approvedRefundFen: order.refundedFen)
            // Products in id order, as placement locks them, so concurrent changes never deadlock.
            let items = (try await store.items(orderIds: [order.id], in: db)[order.id] ?? []).sorted { $0.productId < $1.productId }
            switch next {
            case .rejected, .cancelled:
                for item in items { try await store.release(productId: item.productId, quantity: item.quantity, in: db) }
                try await services.buyers.adjust(
                    organizationId: order.organizationId, year: order.quotaYear, committed: -net, at: now, in: db)
            case .shipped:
                for item in items { try await store.ship(productId: item.productId, quantity: item.quantity, in: db) }
                order.shippedAt = now
            case .accepted:
                order.acceptedAt = now
            case .settled:
                try await services.buyers.adjust(
                    organizationId: order.organizationId, year: order.quotaYear, committed: -net, completed: net, at: now,
                    in: db)
                try await services.reports.record(
                    SalesRules.contributions(lines: Self.salesLines(order, items), amount: net, month: SalesRules.month(of: order.createdAt), countsOrder: true),
                    year: order.quotaYear, in: db)
                order.settledAt = now
            case .placed, .confirmed: break
            }
            order.status = next
            order.updatedAt = now
            try await store.update(order, in: db)
            try await HistoryStore.orders.add(
                HistoryRecord(
                    action: action.rawValue, actorId: user.userId, actorRole: user.role.rawValue, fromStatus: from.rawValue,
                    toStatus: next.rawValue, note: note, at: now), ownerId: order.id, id: services.ids.next(), in: db)
            try await services.audit.append(
                AuditEvent(
                    actorId: user.userId, action: "order.\(action.rawValue)", entityType: "order", entityId: order.id,
                    data: [
                        "from": .string(from.rawValue), "to": .string(next.rawValue), "note": AuditValue(note),
                        "totalFen": .int(order.totalFen), "netFen": .int(net),
                    ]), in: db)
            return try await detail(order, in: db)
        }
        return try .json(output)
    }

    /// Who may take a step, checked before its body is read or judged: the role first (403), then
    /// the order (404 for one the caller is no party to), so a stranger learns nothing from 422s.
    private func authorize(_ context: AppRequestContext, _ parties: Set<OrderParty>) async throws -> Identity {
        let user = try context.require(Self.roles(parties))
        let id = try context.parameters.require("id")
        _ = try await services.database.read { db in try await visible(id, to: user, in: db) }
        return user
    }

    static func roles(_ parties: Set<OrderParty>) -> Set<Role> {
        Set(parties.map { party in
            switch party {
            case .buyer: Role.buyer
            case .merchant: Role.merchant
            case .admin: Role.admin
            }
        })
    }

    /// The refund and its order if the caller is a party to the order; otherwise 404 for the refund.
    private func refundVisible(_ id: String, to user: Identity, lock: Bool = false, in db: any SQLDatabase) async throws
        -> (Refund, Order, OrderParty)
    {
        guard let refund = try await store.refund(id: id, in: db) else { throw DomainError.notFound("refund") }
        do {
            let (order, party) = try await visible(refund.orderId, to: user, lock: lock, in: db)
            return (refund, order, party)
        } catch let error as DomainError where error.code == "not_found" {
            throw DomainError.notFound("refund")
        }
    }

    static func salesLines(_ order: Order, _ items: [OrderItem]) -> [SalesRules.Line] {
        items.map {
            SalesRules.Line(countyCode: $0.countyCode, categoryId: $0.categoryId, merchantId: order.merchantId, amountFen: $0.amountFen)
        }
    }

    // MARK: Refunds

    @Sendable func requestRefund(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try await authorize(context, [RefundRules.requester])
        let id = try context.parameters.require("id")
        let input = try await request.decodeJSON(RefundInput.self, context: context)
        var v = Validator()
        let text = v.text(input.reason, "reason", max: 500, multiline: true)
        if input.amountFen < 1 { v.fail("amountFen", "must be at least 1 fen") }
        try v.check()
        guard let reason = text else { throw DomainError.validation(v.errors) }
        let now = services.clock.now
        let refund = try await services.database.write { db in
            let (order, party) = try await visible(id, to: user, lock: true, in: db)
            guard party == RefundRules.requester else {
                throw DomainError(.forbidden, code: "forbidden", detail: "only the buyer asks for a refund")
            }
            guard RefundRules.canRequest(on: order.status) else {
                throw DomainError.invalidTransition(current: order.status.rawValue, action: "request a refund")
            }
            let open = try await store.refunds(orderId: order.id, in: db).filter { $0.status != .rejected }
            switch RefundRules.refundProblem(
                orderTotal: order.totalFen, requestedAndApprovedFen: open.reduce(0) { $0 + $1.amountFen }, amount: input.amountFen)
            {
            case .amountNotPositive?: throw DomainError.invalid("amountFen", "must be at least 1 fen")
            case .exceedsOrderTotal(let available)?:
                throw DomainError.conflict(
                    "refunds would exceed the order total; at most \(available) fen can still be asked for", field: "amountFen")
            case nil: break
            }
            let refund = Refund(
                id: services.ids.next(), orderId: order.id, amountFen: input.amountFen, reason: reason, status: .requested,
                requestedBy: user.userId, decidedBy: nil, decisionNote: nil, decidedAt: nil, createdAt: now)
            try await store.insert(refund, in: db)
            try await services.audit.append(
                AuditEvent(
                    actorId: user.userId, action: "refund.request", entityType: "refund", entityId: refund.id,
                    data: ["orderId": .string(order.id), "amountFen": .int(refund.amountFen), "reason": .string(reason)]),
                in: db)
            return refund
        }
        return try .json(RefundOutput(refund), status: .created)
    }

    @Sendable func approveRefund(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await decide(request, context, .approve)
    }

    @Sendable func rejectRefund(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await decide(request, context, .reject)
    }

    /// The order's merchant or an admin decides; an approval takes the amount off the order's net
    /// amount and so off the plan's committed (unpaid order) or completed (settled order) sum.
    private func decide(_ request: Request, _ context: AppRequestContext, _ action: RefundAction) async throws -> Response {
        let user = try context.require(Self.roles(RefundRules.deciders))
        let id = try context.parameters.require("id")
        _ = try await services.database.read { db in try await refundVisible(id, to: user, in: db) }
        let input = try await request.decodeJSON(DecisionInput.self, context: context)
        var v = Validator()
        let note = v.text(input.note, "note", max: 500, required: false, multiline: true)
        try v.check()
        let now = services.clock.now
        let refund = try await services.database.write { db in
            let (refund, lockedOrder, party) = try await refundVisible(id, to: user, lock: true, in: db)
            var order = lockedOrder
            guard RefundRules.deciders.contains(party) else {
                throw DomainError(.forbidden, code: "forbidden", detail: "the merchant or an admin decides refunds")
            }
            guard let next = RefundRules.next(from: refund.status, action, by: party) else {
                throw DomainError.invalidTransition(current: refund.status.rawValue, action: action.rawValue)
            }
            guard try await store.decide(refundId: id, next, by: user.userId, note: note, at: now, in: db) else {
                let current = try await store.refund(id: id, in: db)?.status.rawValue ?? "decided"
                throw DomainError.invalidTransition(current: current, action: action.rawValue)
            }
            if next == .approved {
                order.refundedFen += refund.amountFen
                order.updatedAt = now
                try await store.update(order, in: db)
                let settled = order.status == .settled
                try await services.buyers.adjust(
                    organizationId: order.organizationId, year: order.quotaYear,
                    committed: settled ? 0 : -refund.amountFen, completed: settled ? -refund.amountFen : 0,
                    refunded: refund.amountFen, at: now, in: db)
                if settled {
                    // Settled sales are reported net of refunds: the refund leaves them, spread over the lines.
                    let items = try await store.items(orderIds: [order.id], in: db)[order.id] ?? []
                    try await services.reports.record(
                        SalesRules.contributions(
                            lines: Self.salesLines(order, items), amount: -refund.amountFen,
                            month: SalesRules.month(of: order.createdAt), countsOrder: false),
                        year: order.quotaYear, in: db)
                }
            }
            try await services.audit.append(
                AuditEvent(
                    actorId: user.userId, action: "refund.\(action.rawValue)", entityType: "refund", entityId: id,
                    data: [
                        "orderId": .string(order.id), "amountFen": .int(refund.amountFen), "note": AuditValue(note),
                        "orderRefundedFen": .int(order.refundedFen),
                    ]), in: db)
            guard let decided = try await store.refund(id: id, in: db) else { throw DomainError.notFound("refund") }
            return decided
        }
        return try .json(RefundOutput(refund))
    }
}
