import Foundation
import SQLKit

/// `bangfu seed --settled-orders N`: settled orders of two lines each, spread over the current
/// quota year, over the seeded buyers and products, written with the same store calls and the
/// same sales-total contributions as real settlements, so reports can be measured at scale and
/// `bangfu check` still holds.
struct OrderSeeder {
    let services: AppServices

    func seed(orders count: Int, seed: UInt64 = 2026, progress: Progress = .silent) async throws {
        guard count > 0 else { return }
        progress.report("orders", 0, count)
        let services = self.services
        let now = services.clock.now
        let year = QuotaRules.quotaYear(of: now)
        // The plans' sums follow the completion rule they were built under.
        let rule = try await CompletionRuleChange(services).recorded()
        // Products drawn from the whole catalog: an id's first ten characters are its creation
        // time (`IDGenerator`), the rest random, so ordering by the rest samples them all.
        let (products, buyers) = try await services.database.read { db in
            let products = try await db.raw(
                """
                SELECT id, merchant_id, title, price_fen, certificate_number, origin_county_code, top_category_id FROM products
                WHERE certificate_number IS NOT NULL ORDER BY substr(id, 11), id LIMIT 20000
                """
            ).all().map { row in
                (
                    id: try row.decode(column: "id", as: String.self), merchant: try row.decode(column: "merchant_id", as: String.self),
                    title: try row.decode(column: "title", as: String.self), price: try row.decode(column: "price_fen", as: Int64.self),
                    certificate: try row.decode(column: "certificate_number", as: String.self),
                    county: try row.decode(column: "origin_county_code", as: String.self),
                    category: try row.decode(column: "top_category_id", as: String.self)
                )
            }
            let buyers = try await db.raw(
                "SELECT m.user_id, m.organization_id FROM buyer_members m JOIN quota_plans q ON q.organization_id = m.organization_id WHERE q.year = \(bind: Int64(year))"
            ).all().map { (user: try $0.decode(column: "user_id", as: String.self), organization: try $0.decode(column: "organization_id", as: String.self)) }
            return (products, buyers)
        }
        guard !products.isEmpty, !buyers.isEmpty else { throw ConfigurationError("seed products and buyers first") }
        // Products grouped by merchant, so an order's two lines come from one merchant.
        let byMerchant = Dictionary(grouping: products, by: \.merchant).values.map { Array($0) }
        var random = SeededRandom(seed)
        let yearStart = AlertRules.yearStart(year)
        let span = max(1, now.timeIntervalSince(yearStart))
        var written = 0
        while written < count {
            let size = min(500, count - written)
            var entries: [(order: Order, items: [OrderItem], event: HistoryRecord)] = []
            var checkouts: [(id: String, organizationId: String, buyerId: String, totalFen: Int64)] = []
            var sums: [Slot: (orders: Int64, amount: Int64)] = [:]
            for _ in 0..<size {
                let buyer = buyers[random.next(buyers.count)]
                let merchantProducts = byMerchant[random.next(byMerchant.count)]
                let picked = (0..<2).map { _ in merchantProducts[random.next(merchantProducts.count)] }
                let at = yearStart.addingTimeInterval(Double(random.next(Int(span))))
                let items = picked.map { p in
                    let quantity = Int64(1 + random.next(20))
                    return OrderItem(
                        productId: p.id, title: p.title, unitPriceFen: p.price, quantity: quantity, amountFen: p.price * quantity,
                        certificateNumber: p.certificate, countyCode: p.county, categoryId: p.category)
                }
                let total = items.reduce(0) { $0 + $1.amountFen }
                let checkoutId = services.ids.next()
                let order = Order(
                    id: services.ids.next(), checkoutId: checkoutId, organizationId: buyer.organization, merchantId: picked[0].merchant,
                    buyerId: buyer.user, status: .settled, totalFen: total, refundedFen: 0, shipWithinDays: 7,
                    shipBy: at.addingTimeInterval(7 * 86400), deliveryAddress: nil, note: nil, quotaYear: year, carrier: nil,
                    trackingNumber: nil, paymentReference: nil, shippedAt: nil, acceptedAt: nil, settledAt: nil, createdAt: at,
                    updatedAt: at)
                entries.append(
                    (order, items, HistoryRecord(action: "place", actorId: buyer.user, actorRole: "buyer", fromStatus: nil, toStatus: "placed", note: nil, at: at)))
                checkouts.append((checkoutId, buyer.organization, buyer.user, total))
                for c in SalesRules.contributions(
                    lines: OrderWorkflow.salesLines(order, items), amount: total, month: SalesRules.month(of: at), countsOrder: true)
                {
                    let slot = Slot(scope: c.scope, dimension: c.dimension, key: c.key)
                    sums[slot, default: (0, 0)].orders += c.orders
                    sums[slot, default: (0, 0)].amount += c.amountFen
                }
            }
            // Two settled orders in three are rated, mostly well (scores 3 to 5), some with a comment.
            let rated = entries.enumerated().filter { $0.offset % 3 != 2 }.map { _, entry in
                Rating(
                    orderId: entry.order.id, id: services.ids.next(), organizationId: entry.order.organizationId, merchantId: entry.order.merchantId,
                    raterId: entry.order.buyerId, quality: 3 + random.next(3), delivery: 3 + random.next(3),
                    service: 3 + random.next(3), comment: random.next(4) == 0 ? Self.comments[random.next(Self.comments.count)] : nil,
                    reply: nil, repliedAt: nil, createdAt: min(entry.order.createdAt.addingTimeInterval(86_400), now))
            }
            var planSums: [QuotaSum: [String: Int64]] = [:]
            for (offset, entry) in entries.enumerated() {
                if let sum = QuotaRules.sum(of: .settled, rated: offset % 3 != 2, rule: rule) {
                    planSums[sum, default: [:]][entry.order.organizationId, default: 0] += entry.order.totalFen
                }
            }
            let (batch, checkoutRows, first, ratings, completed, committed) = (
                entries, checkouts, written + 1, rated, planSums[.completed] ?? [:], planSums[.committed] ?? [:]
            )
            let totals = sums.map { slot, value in
                SalesRules.Contribution(scope: slot.scope, dimension: slot.dimension, key: slot.key, orders: value.orders, amountFen: value.amount)
            }
            try await services.database.write { db in
                try await services.orders.insertCheckouts(checkoutRows, at: now, in: db)
                try await services.orders.insert(batch, eventIds: batch.map { _ in services.ids.next() }, in: db)
                // Budget units pay against invoices: each settled order has its electronic one.
                try await services.invoices.insert(
                    batch.enumerated().map { index, entry in
                        let day = InvoiceRules.day(of: entry.order.createdAt)
                        return Invoice(
                            id: services.ids.next(), orderId: entry.order.id,
                            number: String(format: "%020d", first + index), kind: .electronic,
                            issuedOn: day.text, amountFen: entry.order.totalFen,
                            status: .current, sha256: nil, fileSize: nil, recordedBy: "seed", createdAt: entry.order.createdAt,
                            supersededAt: nil)
                    }, in: db)
                try await services.ratings.insert(ratings, in: db)
                try await services.buyers.add(completed, to: .completed, year: year, at: now, in: db)
                try await services.buyers.add(committed, to: .committed, year: year, at: now, in: db)
                try await services.reports.record(totals, year: year, in: db)
            }
            written += size
            progress.report("orders", written, count)
        }
        // The rated merchants' scores, once (`sort=rating`), a few hundred merchants a statement.
        let rated = try await services.database.read { db in try await services.ratings.ratedMerchants(in: db) }
        for start in stride(from: 0, to: rated.count, by: 500) {
            let chunk = Array(rated[start..<min(start + 500, rated.count)])
            try await services.database.write { db in try await services.ratings.refreshScores(merchantIds: chunk, now: now, in: db) }
        }
        try await services.optimize()
    }

    private static let comments = ["货品新鲜，包装完好", "送货及时", "品质稳定，价格合理", "规格与描述一致", "下次继续采购"]

    private struct Slot: Hashable {
        var scope: String
        var dimension: SalesRules.Dimension
        var key: String
    }
}
