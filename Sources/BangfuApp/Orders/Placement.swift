import Foundation
import SQLKit

/// One checkout on its way in, validated and with the buyer's active organization known.
struct PlacementRequest: Sendable {
    var user: Identity
    var organization: BuyerOrganization
    var key: String
    var requestHash: String
    var input: OrderDTO.PlaceInput
    var lines: Int { input.items.count }
}

/// A placement's answer: what the key keeps and replays.
struct PlacementAnswer: Sendable {
    var status: Int
    var body: String
    var replayed: Bool
}

/// Places checkouts, several per write transaction: on SQLite every statement costs two thread
/// hops, so one transaction of a dozen statements for many checkouts is what lets placement keep
/// up with many buyers at once. The checks run in memory against the rows read (and, on
/// PostgreSQL, locked) at the start, with running stock and budget figures, so each checkout sees
/// the ones before it; every refusal is decided before anything is written.
struct Placer: Sendable {
    let database: any Database
    let clock: AppClock
    let ids: IDGenerator
    let store: OrderStore
    let buyers: BuyerStore
    let audit: AuditStore
    let metrics: HTTPMetrics

    private struct Accepted {
        var request: PlacementRequest
        var checkoutId: String
        var totalFen: Int64
        var purpose: OrderPurpose
        var orders: [(order: Order, items: [OrderItem], event: HistoryRecord)]
    }

    /// What is left of each budget: the canteen's, or the union's (SPEC "Union purchasing").
    private struct Budget: Hashable {
        var organizationId: String
        var purpose: OrderPurpose
    }

    func place(_ requests: [PlacementRequest]) async throws -> [PlacementAnswer] {
        try await database.write { db in
            let now = clock.now
            var answers = [PlacementAnswer?](repeating: nil, count: requests.count)
            // The first request of each (user, key) in the batch is its primary; later ones replay it.
            var primaryOf: [String: Int] = [:]
            var primaries: [Int] = []
            for (index, request) in requests.enumerated() {
                let slot = request.user.userId + "\u{1F}" + request.key
                if primaryOf[slot] == nil {
                    primaryOf[slot] = index
                    primaries.append(index)
                }
            }
            let stored = try await store.claim(
                primaries.map { (requests[$0].user.userId, requests[$0].key, requests[$0].requestHash) }, at: now, in: db)
            var fresh: [Int] = []
            for index in primaries {
                let request = requests[index]
                if let previous = stored[request.user.userId + "\u{1F}" + request.key] {
                    answers[index] =
                        previous.requestHash == request.requestHash
                        ? PlacementAnswer(status: previous.status, body: previous.body, replayed: true) : Self.reused
                } else {
                    fresh.append(index)
                }
            }
            let decided = try await decide(fresh.map { requests[$0] }, now: now, in: db)
            for (offset, index) in fresh.enumerated() { answers[index] = decided[offset] }
            try await store.answer(
                fresh.map { (requests[$0].user.userId, requests[$0].key, answers[$0]!.status, answers[$0]!.body) }, in: db)
            for (index, request) in requests.enumerated() where answers[index] == nil {
                let primary = answers[primaryOf[request.user.userId + "\u{1F}" + request.key]!]!
                answers[index] =
                    requests[primaryOf[request.user.userId + "\u{1F}" + request.key]!].requestHash == request.requestHash
                    ? PlacementAnswer(status: primary.status, body: primary.body, replayed: true) : Self.reused
            }
            return answers.map { $0! }
        }
    }

    static let reused = PlacementAnswer(
        status: 409,
        body: String(
            decoding: ProblemDocument.encode(
                DomainError.conflict(
                    "this Idempotency-Key was used for another request", code: "idempotency_key_reused",
                    field: "Idempotency-Key")), as: UTF8.self), replayed: false)

    /// Reads what the checkouts need, decides each in turn, then writes the accepted ones.
    private func decide(_ requests: [PlacementRequest], now: Date, in db: any SQLDatabase) async throws -> [PlacementAnswer] {
        guard !requests.isEmpty else { return [] }
        let year = QuotaRules.quotaYear(of: now)
        let products = try await store.orderable(ids: Array(Set(requests.flatMap { $0.input.items.map(\.productId) })), in: db)
        let plans = try await buyers.plans(
            organizationIds: Array(Set(requests.map(\.organization.id))), year: year, lock: true, in: db)
        var stock = products.mapValues(\.stock)
        var remaining: [Budget: Int64] = [:]
        for (id, plan) in plans {
            remaining[Budget(organizationId: id, purpose: .canteen)] = plan.remainingBudgetFen
            remaining[Budget(organizationId: id, purpose: .union)] = plan.unionBudgetFen - plan.unionCommittedFen - plan.unionCompletedFen
        }
        var accepted: [Accepted] = []
        var answers: [PlacementAnswer] = []
        for request in requests {
            do {
                let checkout = try check(request, products: products, stock: stock, plans: plans, remaining: remaining, year: year, now: now)
                for order in checkout.orders {
                    for item in order.items { stock[item.productId, default: 0] -= item.quantity }
                }
                remaining[Budget(organizationId: request.organization.id, purpose: checkout.purpose), default: 0] -= checkout.totalFen
                accepted.append(checkout)
                let output = OrderDTO.CheckoutOutput(
                    checkoutId: checkout.checkoutId, totalFen: checkout.totalFen,
                    orders: checkout.orders.map {
                        OrderDTO.Output($0.order, organizationName: request.organization.name, items: $0.items)
                    })
                answers.append(
                    PlacementAnswer(status: 201, body: String(decoding: try Checkout.encode(output), as: UTF8.self), replayed: false))
            } catch let refusal as DomainError {
                answers.append(
                    PlacementAnswer(
                        status: Int(refusal.kind.status.code), body: String(decoding: ProblemDocument.encode(refusal), as: UTF8.self),
                        replayed: false))
            }
        }
        try await write(accepted, year: year, now: now, in: db)
        return answers
    }

    /// The checks of one checkout against the running figures; throws its refusal.
    private func check(
        _ request: PlacementRequest, products: [String: OrderableProduct], stock: [String: Int64], plans: [String: QuotaPlan],
        remaining: [Budget: Int64], year: Int, now: Date
    ) throws -> Accepted {
        guard let purpose = OrderPurpose(rawValue: request.input.purpose ?? "canteen") else {
            throw DomainError.invalid("purpose", "must be canteen or union")
        }
        var lines: [PricedLine] = []
        for (index, item) in request.input.items.enumerated() {
            guard let product = products[item.productId] else {
                throw DomainError.invalid("items[\(index)].productId", "is not a product")
            }
            if let problem = Self.unavailability(product, now: now) {
                throw DomainError(
                    .conflict, code: "product_unavailable", detail: "\(product.title): \(problem)",
                    errors: [FieldError("items[\(index)].productId", problem)])
            }
            let left = stock[product.id] ?? 0
            if left < item.quantity {
                throw DomainError(
                    .conflict, code: "insufficient_stock", detail: "\(product.title): only \(left) left",
                    errors: [FieldError("items[\(index)].quantity", "at most \(left)")])
            }
            lines.append(
                PricedLine(productId: product.id, merchantId: product.merchantId, unitPriceFen: product.priceFen, quantity: item.quantity))
        }
        let split: CheckoutSplit
        do {
            split = try CheckoutRules.split(lines)
        } catch {
            throw DomainError.invalid("items", "the amounts are too large")
        }
        let organizationId = request.organization.id
        // A returned filing stops ordering until it is resubmitted (SPEC "The yearly filing").
        if let plan = plans[organizationId], plan.status == .returned {
            throw DomainError.conflict(
                "your \(year) filing was returned: correct it and submit it again", code: "filing_returned")
        }
        let left = remaining[Budget(organizationId: organizationId, purpose: purpose)]
        switch QuotaRules.placementProblem(
            checkoutTotalFen: split.totalFen, remainingBudgetFen: plans[organizationId] == nil ? nil : left)
        {
        case .planMissing?:
            throw DomainError.conflict("declare your quota plan for \(year) first", code: "quota_plan_missing")
        case .budgetExceeded? where purpose == .union:
            throw DomainError(
                .conflict, code: "union_budget_exceeded",
                detail: "the checkout's \(split.totalFen) fen exceed the union budget left, \(left ?? 0) fen",
                errors: [FieldError("purpose", "the union budget is exhausted")])
        case .budgetExceeded?:
            throw DomainError.conflict(
                "the checkout's \(split.totalFen) fen exceed the remaining budget of \(left ?? 0) fen",
                code: "quota_budget_exceeded")
        case nil: break
        }
        let checkoutId = ids.next()
        let shipWithinDays = CheckoutRules.shipWithinDays(request.input.shipWithinDays)
        let orders = try split.groups.map { group in
            let order = Order(
                id: ids.next(), checkoutId: checkoutId, organizationId: organizationId, merchantId: group.merchantId,
                buyerId: request.user.userId, status: .placed, totalFen: group.totalFen, refundedFen: 0,
                shipWithinDays: shipWithinDays, shipBy: now.addingTimeInterval(Double(shipWithinDays) * 86400),
                deliveryAddress: request.input.deliveryAddress, note: request.input.note, quotaYear: year, carrier: nil,
                trackingNumber: nil, paymentReference: nil, shippedAt: nil, acceptedAt: nil, settledAt: nil, createdAt: now,
                updatedAt: now, purpose: purpose)
            // Every line's product was found and checked orderable (with a certificate) above.
            let items = try group.lines.map { line -> OrderItem in
                guard let product = products[line.line.productId], let number = product.certificateNumber else {
                    throw DomainError(.conflict, code: "product_unavailable", detail: "a product changed meanwhile; try again")
                }
                return OrderItem(
                    productId: product.id, title: product.title, unitPriceFen: line.line.unitPriceFen,
                    quantity: line.line.quantity, amountFen: line.amountFen, certificateNumber: number,
                    countyCode: product.originCountyCode, categoryId: product.topCategoryId)
            }
            let event = HistoryRecord(
                action: "place", actorId: request.user.userId, actorRole: request.user.role.rawValue, fromStatus: nil,
                toStatus: "placed", note: nil, at: now)
            return (order: order, items: items, event: event)
        }
        return Accepted(request: request, checkoutId: checkoutId, totalFen: split.totalFen, purpose: purpose, orders: orders)
    }

    /// The accepted checkouts' writes, a fixed number of statements for the whole batch.
    private func write(_ accepted: [Accepted], year: Int, now: Date, in db: any SQLDatabase) async throws {
        guard !accepted.isEmpty else { return }
        var holds: [String: Int64] = [:]
        var committed: [String: Int64] = [:]
        var union: [String: Int64] = [:]
        for checkout in accepted {
            switch checkout.purpose {
            case .canteen: committed[checkout.request.organization.id, default: 0] += checkout.totalFen
            case .union: union[checkout.request.organization.id, default: 0] += checkout.totalFen
            }
            for order in checkout.orders {
                for item in order.items { holds[item.productId, default: 0] += item.quantity }
            }
        }
        guard try await store.hold(holds, at: now, in: db) else { throw WriteConflict() }
        try await buyers.commit(committed, year: year, at: now, in: db)
        try await buyers.add(union, to: .unionCommitted, year: year, at: now, in: db)
        try await store.insertCheckouts(
            accepted.map { ($0.checkoutId, $0.request.organization.id, $0.request.user.userId, $0.totalFen) }, at: now, in: db)
        let orders = accepted.flatMap(\.orders)
        try await store.insert(orders, eventIds: orders.map { _ in ids.next() }, in: db)
        metrics.recordOrdersPlaced(orders.count)
        try await audit.append(
            accepted.map { checkout in
                AuditEvent(
                    checkout.request.user, "checkout.place", .checkout(checkout.checkoutId),
                    [
                        "organizationId": checkout.request.organization.id, "totalFen": checkout.totalFen,
                        "orders": checkout.orders.map(\.order.id).joined(separator: ","), "quotaYear": year,
                        "purpose": checkout.purpose.rawValue,
                    ])
            }, in: db)
    }
}

/// Gathers concurrent placements into batches for `Placer`: while one batch is being written, the
/// next gathers; a batch holds at most `maximumLines` checkout lines (SQL bind limits). If a
/// batch fails as a whole (an unexpected database error), each of its checkouts is retried alone
/// so that one cannot fail the others.
actor PlacementQueue {
    private struct Job {
        var request: PlacementRequest
        var continuation: CheckedContinuation<PlacementAnswer, any Error>
    }

    private let placer: Placer
    private var pending: [Job] = []
    private var draining = false
    private var purgedAt: Date?
    static let maximumLines = 1000

    init(placer: Placer) {
        self.placer = placer
    }

    func submit(_ request: PlacementRequest) async throws -> PlacementAnswer {
        try await withCheckedThrowingContinuation { continuation in
            pending.append(Job(request: request, continuation: continuation))
            if !draining {
                draining = true
                Task { await self.drain() }
            }
        }
    }

    /// Idempotency keys are kept 7 days (API.md: at least 24 hours); older ones are deleted at
    /// start and then at most hourly, between batches.
    private func purgeKeysHourly() async {
        let now = placer.clock.now
        if let purgedAt, now.timeIntervalSince(purgedAt) < 3600 { return }
        purgedAt = now
        let (store, cutoff) = (placer.store, now.addingTimeInterval(-7 * 86400))
        try? await placer.database.write { db in try await store.purgeKeys(before: cutoff, in: db) }
    }

    private func drain() async {
        while !pending.isEmpty {
            var lines = 0
            var count = 0
            while count < pending.count, count == 0 || lines + pending[count].request.lines <= Self.maximumLines {
                lines += pending[count].request.lines
                count += 1
            }
            let batch = Array(pending.prefix(count))
            pending.removeFirst(count)
            do {
                let answers = try await placer.place(batch.map(\.request))
                for (job, answer) in zip(batch, answers) { job.continuation.resume(returning: answer) }
            } catch where batch.count > 1 {
                for job in batch {
                    do {
                        job.continuation.resume(returning: try await placer.place([job.request])[0])
                    } catch {
                        job.continuation.resume(throwing: error)
                    }
                }
            } catch {
                batch[0].continuation.resume(throwing: error)
            }
            await purgeKeysHourly()
        }
        draining = false
    }
}

extension Placer {
    /// A write that the checks said would succeed did not: roll back (500, logged).
    struct WriteConflict: Error {}

    /// Why buyers may not order the product now, if they may not: the on-sale rule (`OnSale`),
    /// in the words a checkout refusal uses.
    static func unavailability(_ product: OrderableProduct, now: Date) -> String? {
        let expiresAt = product.certificateNumber == nil ? nil : product.certificateExpiresAt
        switch OnSale.obstacle(
            listed: product.status == .listed, merchantActive: product.merchantActive, certificateExpiresAt: expiresAt,
            now: now)
        {
        case .notListed: return "is not listed"
        case .merchantSuspended: return "its merchant is suspended"
        case .noCertificate: return "has no valid 帮扶产品 certificate"
        case .certificateExpired: return "its certificate has expired"
        case nil: return nil
        }
    }
}
