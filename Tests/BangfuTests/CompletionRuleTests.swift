import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import Testing

@testable import BangfuApp

/// The operator's completion rule (issue 20; SPEC "Ratings"): under `settled_and_rated` a settled
/// order counts in `completedFen` only once rated, its net amount staying in `committedFen` until
/// then; a server started with another rule than the stored sums follow recomputes them.
@Suite struct CompletionRuleTests {
    @Test func whereEachOrderCounts() {
        for status in OrderStatus.allCases {
            for rated in [false, true] {
                let settled = QuotaRules.sum(of: status, rated: rated, rule: .settled)
                let strict = QuotaRules.sum(of: status, rated: rated, rule: .settledAndRated)
                switch status {
                case .placed, .confirmed, .shipped, .accepted: #expect(settled == .committed && strict == .committed)
                case .settled: #expect(settled == .completed && strict == (rated ? .completed : .committed), "\(rated)")
                case .rejected, .cancelled: #expect(settled == nil && strict == nil)
                }
            }
        }
        // Settling, rating, refunding and cancelling as changes of the two sums.
        #expect(QuotaRules.change(from: (.committed, 900), to: (.completed, 900)) == (-900, 900))
        #expect(QuotaRules.change(from: (.committed, 900), to: (.committed, 900)) == (0, 0))
        #expect(QuotaRules.change(from: (.completed, 900), to: (.completed, 600)) == (0, -300))
        #expect(QuotaRules.change(from: (.committed, 900), to: (nil, 900)) == (-900, 0))
        let orders = [
            OrderAmounts(status: .settled, totalFen: 5_000, approvedRefundFen: 1_000, rated: true),
            OrderAmounts(status: .settled, totalFen: 3_000, approvedRefundFen: 0, rated: false),
            OrderAmounts(status: .accepted, totalFen: 2_000, approvedRefundFen: 0, rated: true),
        ]
        #expect(QuotaRules.totals(of: orders, rule: .settled) == QuotaTotals(committedFen: 2_000, completedFen: 7_000, refundedFen: 1_000))
        #expect(
            QuotaRules.totals(of: orders, rule: .settledAndRated) == QuotaTotals(committedFen: 5_000, completedFen: 4_000, refundedFen: 1_000))
    }

    @Test func settledOrdersWaitForTheirRating() async throws {
        let test = try await TestApp.make { $0.completionRule = .settledAndRated }
        try await test.run { client in
            let market = try await Market.make(test, client)
            let (shop, canteen) = (market.shop.token, market.canteen)
            let first = try #require(try await client.place(canteen.token, [(market.rice, 3)]).orderIds.first)
            try await client.walk(first, buyer: canteen.token, merchant: shop, to: "settled", amountFen: 3_000)
            var plan = try await canteen.plan(client)
            #expect(plan["committedFen"] as? Int == 3_000 && plan["completedFen"] as? Int == 0 && plan["completionBp"] as? Int == 0)
            // A refund on the settled, unrated order comes off committed.
            let refund = try await client.call(
                .post, "/api/v1/orders/\(first)/refunds", token: canteen.token, json: #"{"amountFen":500,"reason":"一袋破损"}"#)
            let refundId = try #require(refund.object["id"] as? String)
            #expect(try await client.call(.post, "/api/v1/refunds/\(refundId)/approval", token: shop, json: "{}").status == .ok)
            plan = try await canteen.plan(client)
            #expect(plan["committedFen"] as? Int == 2_500 && plan["completedFen"] as? Int == 0 && plan["refundedFen"] as? Int == 500)
            // The rating completes it.
            let rated = try await client.call(.post, "/api/v1/orders/\(first)/rating", token: canteen.token, json: RatingsTests.body(5, 5, 4))
            #expect(rated.status == .created, "\(rated.text)")
            plan = try await canteen.plan(client)
            #expect(plan["committedFen"] as? Int == 0 && plan["completedFen"] as? Int == 2_500)
            // A refund of the settled, rated order comes off completed.
            let more = try await client.call(
                .post, "/api/v1/orders/\(first)/refunds", token: canteen.token, json: #"{"amountFen":300,"reason":"少一袋"}"#)
            let moreId = try #require(more.object["id"] as? String)
            #expect(try await client.call(.post, "/api/v1/refunds/\(moreId)/approval", token: shop, json: "{}").status == .ok)
            plan = try await canteen.plan(client)
            #expect(plan["committedFen"] as? Int == 0 && plan["completedFen"] as? Int == 2_200 && plan["refundedFen"] as? Int == 800)
            // Rated before payment: settlement completes it at once.
            let second = try #require(try await client.place(canteen.token, [(market.rice, 2)]).orderIds.first)
            try await client.walk(second, buyer: canteen.token, merchant: shop, to: "accepted", amountFen: 0)
            #expect(try await client.call(.post, "/api/v1/orders/\(second)/rating", token: canteen.token, json: RatingsTests.body(4, 4, 4)).status == .created)
            #expect(try await canteen.plan(client)["committedFen"] as? Int == 2_000)
            try await client.invoice(second, merchant: shop)
            let paid = try await client.call(
                .post, "/api/v1/orders/\(second)/payment", token: canteen.token, json: #"{"reference":"国库支付 002","amountFen":2000}"#)
            #expect(paid.status == .ok, "\(paid.text)")
            plan = try await canteen.plan(client)
            #expect(plan["committedFen"] as? Int == 0 && plan["completedFen"] as? Int == 4_200)
            // The reports read the same sums; `bangfu check` recomputes under the recorded rule.
            let report = try await client.call(.get, "/api/v1/reports/quota?groupBy=organization", token: market.cast.admin)
            let line = try #require((report.object["rows"] as? [[String: Any]])?.first { $0["key"] as? String == canteen.organizationId })
            #expect(line["completedFen"] as? Int == 4_200)
            #expect(try await test.services.checkInvariants() == [])
        }
    }

    @Test func unionOrdersWaitForTheirRatingToo() async throws {
        let test = try await TestApp.make { $0.completionRule = .settledAndRated }
        try await test.run { client in
            let market = try await Market.make(test, client)
            let canteen = market.canteen
            let withUnion = #"{"canteenMode":"own","canteenBudgetFen":10000000,"reservedRatioBp":1500,"unionBudgetFen":5000}"#
            #expect(try await client.call(.put, canteen.planPath, token: canteen.token, json: withUnion).status == .ok)
            let placed = try await client.call(
                .post, "/api/v1/orders", token: canteen.token,
                json: #"{"items":[{"productId":"\#(market.rice)","quantity":3}],"purpose":"union"}"#,
                headers: [.idempotencyKey: UUID().uuidString])
            let order = try #require(placed.orderIds.first, "\(placed.text)")
            try await client.walk(order, buyer: canteen.token, merchant: market.shop.token, to: "settled", amountFen: 3_000)
            var plan = try await canteen.plan(client)
            #expect(plan["unionCommittedFen"] as? Int == 3_000 && plan["unionCompletedFen"] as? Int == 0 && plan["committedFen"] as? Int == 0)
            #expect(try await client.call(.post, "/api/v1/orders/\(order)/rating", token: canteen.token, json: RatingsTests.body(4, 4, 4)).status == .created)
            plan = try await canteen.plan(client)
            #expect(plan["unionCommittedFen"] as? Int == 0 && plan["unionCompletedFen"] as? Int == 3_000 && plan["completedFen"] as? Int == 0)
            // `check` catches a sum that drifted from its orders under the recorded rule.
            #expect(try await test.services.checkInvariants() == [])
            try await test.services.database.write { db in
                try await db.raw("UPDATE quota_plans SET union_committed_fen = union_committed_fen + 1").run()
            }
            #expect(try await test.services.checkInvariants().contains { $0.contains("union_committed_fen") })
        }
    }

    @Test func changingTheRuleRecomputesEveryPlan() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let market = try await Market.make(test, client)
            let (shop, canteen) = (market.shop.token, market.canteen)
            let unrated = try #require(try await client.place(canteen.token, [(market.rice, 3)]).orderIds.first)
            try await client.walk(unrated, buyer: canteen.token, merchant: shop, to: "settled", amountFen: 3_000)
            let rated = try #require(try await client.place(canteen.token, [(market.rice, 1)]).orderIds.first)
            try await client.walk(rated, buyer: canteen.token, merchant: shop, to: "settled", amountFen: 1_000)
            #expect(try await client.call(.post, "/api/v1/orders/\(rated)/rating", token: canteen.token, json: RatingsTests.body(5, 5, 5)).status == .created)
            #expect(try await canteen.plan(client)["completedFen"] as? Int == 4_000)

            // The operator restarts with settled_and_rated: the unrated order goes back to committed.
            func restart(_ rule: CompletionRule) async throws -> CompletionRule? {
                var configuration = test.services.configuration
                configuration.completionRule = rule
                let services = AppServices(configuration: configuration, database: test.services.database, registry: PrometheusCollectorRegistry())
                return try await CompletionRuleChange(services).apply(logger: Logger(label: "test"))
            }
            #expect(try await restart(.settledAndRated) == .settled)
            var plan = try await canteen.plan(client)
            #expect(plan["committedFen"] as? Int == 3_000 && plan["completedFen"] as? Int == 1_000)
            #expect(try await test.services.checkInvariants() == [])
            #expect(try await restart(.settledAndRated) == nil)
            // And back.
            #expect(try await restart(.settled) == .settledAndRated)
            plan = try await canteen.plan(client)
            #expect(plan["committedFen"] as? Int == 0 && plan["completedFen"] as? Int == 4_000)
            #expect(try await test.services.checkInvariants() == [])
        }
    }

    @Test func seededOrdersFollowTheRecordedRule() async throws {
        let test = try await TestApp.make { $0.completionRule = .settledAndRated }
        try await test.run { _ in
            _ = try await test.services.seed(products: 200, merchants: 2, buyers: 2, buyerPassword: "bench password 1", settledOrders: 90)
            // A third of the seeded orders are unrated: they wait in committed, and `check` agrees.
            #expect(try await test.services.checkInvariants() == [])
            let committed = try await test.services.database.read { db in
                try await db.raw("SELECT CAST(SUM(committed_fen) AS BIGINT) AS total FROM quota_plans").first()?
                    .decode(column: "total", as: Int64.self)
            }
            #expect((committed ?? 0) > 0)
        }
    }
}
