import Foundation
import SQLKit

extension Order: Reviewed {}

/// The order state machine of SPEC.md "Orders" and the refunds: each step one transaction with
/// its stock, quota, sales, history and audit effects. Knows nothing of HTTP.
struct OrderWorkflow: UseCase {
    let services: AppServices
    var store: OrderStore { services.orders }
    let reading: OrderReading
    let step: WorkflowStep<Order, OrderAction, OrderParty>

    init(_ services: AppServices) {
        self.services = services
        let reading = OrderReading(services)
        let store = services.orders
        self.reading = reading
        step = WorkflowStep(
            services, workflow: OrderRules.workflow, history: .orders, entity: AuditEntity.order, actionPrefix: "order",
            load: { id, actor, lock, db in try await reading.visible(id, to: actor, lock: lock, in: db) },
            save: { order, db in try await store.update(order, in: db) },
            auditData: { order in
                [
                    "totalFen": order.totalFen,
                    "netFen": QuotaRules.netFen(totalFen: order.totalFen, approvedRefundFen: order.refundedFen),
                ]
            })
    }

    /// Takes `action` on order `id`: who may (403 for the wrong party), whether the status allows
    /// it (409 `invalid_transition`), then `prepare` (the step's own checks and fields) and the
    /// effects on stock, the plan's sums and the sales figures.
    func take(
        _ action: OrderAction, on id: String, by actor: Identity, note: String?,
        prepare: @Sendable (inout Order) throws -> Void = { _ in }
    ) async throws -> OrderDTO.Output {
        let now = clock.now
        return try await database.write { db in
            let order = try await step.run(action, on: id, by: actor, note: note, at: now, in: db) { order, next in
                try prepare(&order)
                try await applyEffects(of: next, to: &order, at: now, in: db)
            }
            return try await reading.detail(order, in: db)
        }
    }

    /// Rejection and cancellation return the stock and the committed budget; shipment takes the
    /// held stock out; settlement moves the net amount from committed to completed and records
    /// the sales.
    private func applyEffects(of next: OrderStatus, to order: inout Order, at now: Date, in db: any SQLDatabase)
        async throws
    {
        let net = QuotaRules.netFen(totalFen: order.totalFen, approvedRefundFen: order.refundedFen)
        // Products in id order, as placement locks them, so concurrent changes never deadlock.
        let items = (try await store.items(orderIds: [order.id], in: db)[order.id] ?? []).sorted { $0.productId < $1.productId }
        switch next {
        case .rejected, .cancelled:
            for item in items { try await store.release(productId: item.productId, quantity: item.quantity, in: db) }
            try await buyers.adjust(
                organizationId: order.organizationId, year: order.quotaYear, purpose: order.purpose, committed: -net, at: now,
                in: db)
        case .shipped:
            for item in items { try await store.ship(productId: item.productId, quantity: item.quantity, in: db) }
            order.shippedAt = now
        case .accepted:
            order.acceptedAt = now
        case .settled:
            if configuration.requireInvoice, try await services.invoices.current(orderId: order.id, in: db) == nil {
                throw DomainError.conflict(
                    "the merchant has not recorded a current invoice for this order; budget units pay against it",
                    code: "invoice_missing")
            }
            // Under `settled_and_rated` a settled order waits in committed until it is rated.
            let rule = try await buyers.completionRule(in: db)
            let counts = QuotaRules.sum(of: .settled, rated: try await isRated(order, under: rule, in: db), rule: rule)
            let change = QuotaRules.change(from: (.committed, net), to: (counts, net))
            try await buyers.adjust(
                organizationId: order.organizationId, year: order.quotaYear, purpose: order.purpose, committed: change.committed,
                completed: change.completed, at: now, in: db)
            try await reports.record(
                SalesRules.contributions(
                    lines: Self.salesLines(order, items), amount: net, month: SalesRules.month(of: order.createdAt),
                    countsOrder: true),
                year: order.quotaYear, in: db)
            order.settledAt = now
        case .placed, .confirmed: break
        }
    }

    /// Whether the order is rated, asked only when the completion rule depends on it.
    private func isRated(_ order: Order, under rule: CompletionRule, in db: any SQLDatabase) async throws -> Bool {
        guard rule == .settledAndRated else { return false }
        return try await services.ratings.rating(orderId: order.id, in: db) != nil
    }

    static func salesLines(_ order: Order, _ items: [OrderItem]) -> [SalesRules.Line] {
        items.map {
            SalesRules.Line(countyCode: $0.countyCode, categoryId: $0.categoryId, merchantId: order.merchantId, amountFen: $0.amountFen)
        }
    }

    // MARK: Refunds

    /// The buyer asks for `amountFen` back on an accepted or settled order; refunds together never
    /// exceed the order total.
    func requestRefund(on orderId: String, by actor: Identity, amountFen: Int64, reason: String) async throws -> Refund {
        let now = clock.now
        return try await database.write { db in
            let (order, party) = try await reading.visible(orderId, to: actor, lock: true, in: db)
            guard party == RefundRules.requester else {
                throw DomainError(.forbidden, code: "forbidden", detail: "only the buyer asks for a refund")
            }
            guard RefundRules.canRequest(on: order.status) else {
                throw DomainError.invalidTransition(current: order.status.rawValue, action: "request a refund")
            }
            let open = try await store.refunds(orderId: order.id, in: db).filter { $0.status != .rejected }
            switch RefundRules.refundProblem(
                orderTotal: order.totalFen, requestedAndApprovedFen: open.reduce(0) { $0 + $1.amountFen }, amount: amountFen)
            {
            case .amountNotPositive?: throw DomainError.invalid("amountFen", "must be at least 1 fen")
            case .exceedsOrderTotal(let available)?:
                throw DomainError.conflict(
                    "refunds would exceed the order total; at most \(available) fen can still be asked for", field: "amountFen")
            case nil: break
            }
            let refund = Refund(
                id: ids.next(), orderId: order.id, amountFen: amountFen, reason: reason, status: .requested,
                requestedBy: actor.userId, decidedBy: nil, decisionNote: nil, decidedAt: nil, createdAt: now)
            try await store.insert(refund, in: db)
            try await audit.append(
                AuditEvent(
                    actor, "refund.request", .refund(refund.id),
                    ["orderId": order.id, "amountFen": refund.amountFen, "reason": reason]),
                in: db)
            return refund
        }
    }

    /// The order's merchant or an admin decides; an approval takes the amount off the order's net
    /// amount and so off the plan's committed (unpaid order) or completed (settled order) sum.
    func decideRefund(_ id: String, _ action: RefundAction, by actor: Identity, note: String?) async throws -> Refund {
        let now = clock.now
        return try await database.write { db in
            let (refund, lockedOrder, party) = try await reading.refundVisible(id, to: actor, lock: true, in: db)
            var order = lockedOrder
            guard RefundRules.deciders.contains(party) else {
                throw DomainError(.forbidden, code: "forbidden", detail: "the merchant or an admin decides refunds")
            }
            guard let next = RefundRules.next(from: refund.status, action, by: party) else {
                throw DomainError.invalidTransition(current: refund.status.rawValue, action: action.rawValue)
            }
            guard try await store.decide(refundId: id, next, by: actor.userId, note: note, at: now, in: db) else {
                let current = try await store.refund(id: id, in: db)?.status.rawValue ?? "decided"
                throw DomainError.invalidTransition(current: current, action: action.rawValue)
            }
            if next == .approved {
                order.refundedFen += refund.amountFen
                order.updatedAt = now
                try await store.update(order, in: db)
                // The invoice no longer states the net amount: the merchant records a new one.
                try await services.invoices.supersede(orderId: order.id, at: now, in: db)
                let rule = try await buyers.completionRule(in: db)
                let counts = QuotaRules.sum(of: order.status, rated: try await isRated(order, under: rule, in: db), rule: rule)
                let net = QuotaRules.netFen(totalFen: order.totalFen, approvedRefundFen: order.refundedFen)
                let change = QuotaRules.change(from: (counts, net + refund.amountFen), to: (counts, net))
                try await buyers.adjust(
                    organizationId: order.organizationId, year: order.quotaYear, purpose: order.purpose,
                    committed: change.committed, completed: change.completed, refunded: refund.amountFen, at: now, in: db)
                if order.status == .settled {
                    // Settled sales are reported net of refunds: the refund leaves them, spread over the lines.
                    let items = try await store.items(orderIds: [order.id], in: db)[order.id] ?? []
                    try await reports.record(
                        SalesRules.contributions(
                            lines: Self.salesLines(order, items), amount: -refund.amountFen,
                            month: SalesRules.month(of: order.createdAt), countsOrder: false),
                        year: order.quotaYear, in: db)
                }
            }
            try await audit.append(
                AuditEvent(
                    actor, "refund.\(action.rawValue)", .refund(id),
                    [
                        "orderId": order.id, "amountFen": refund.amountFen, "note": note,
                        "orderRefundedFen": order.refundedFen,
                    ]), in: db)
            guard let decided = try await store.refund(id: id, in: db) else { throw DomainError.notFound("refund") }
            return decided
        }
    }
}
