import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import BangfuApp

@Suite struct SalesRulesTests {
    @Test func allocationIsExactAndProportional() {
        #expect(SalesRules.allocate(3000, over: [10000, 10000]) == [1500, 1500])
        #expect(SalesRules.allocate(100, over: [1, 1, 1]) == [34, 33, 33])
        #expect(SalesRules.allocate(-100, over: [1, 1, 1]) == [-34, -33, -33])
        #expect(SalesRules.allocate(7, over: [0, 0]) == [4, 3])
        #expect(SalesRules.allocate(10, over: [1, 2, 7]) == [1, 2, 7])
        #expect(SalesRules.allocate(0, over: [5, 9]) == [0, 0])
        // Largest remainders get the leftover fen: 1000 × 1/3, 1000 × 2/3 = 333.3, 666.6.
        #expect(SalesRules.allocate(1000, over: [1, 2]) == [333, 667])
        var random = SeededRandom(7)
        for _ in 0..<500 {
            let weights = (0..<(1 + random.next(6))).map { _ in Int64(random.next(1_000_000)) }
            let amount = Int64(random.next(10_000_000)) - 5_000_000
            let parts = SalesRules.allocate(amount, over: weights)
            #expect(parts.reduce(0, +) == amount)
            let total = weights.reduce(0, +)
            if total > 0 {
                for (part, weight) in zip(parts, weights) {
                    // Each part is within one fen of its exact share.
                    let exact = Double(amount) * Double(weight) / Double(total)
                    #expect(abs(Double(part) - exact) < 1.0001)
                }
            }
        }
    }

    @Test func contributionsCoverEveryDimensionAndTheCountyScope() {
        let lines = [
            SalesRules.Line(countyCode: "230129", categoryId: "grain-oil", merchantId: "m1", amountFen: 6000),
            SalesRules.Line(countyCode: "230221", categoryId: "fungi", merchantId: "m1", amountFen: 4000),
        ]
        let settled = SalesRules.contributions(lines: lines, amount: 10000, month: "2026-11", countsOrder: true)
        func find(_ scope: String, _ dimension: SalesRules.Dimension, _ key: String) -> (Int64, Int64)? {
            settled.first { $0.scope == scope && $0.dimension == dimension && $0.key == key }.map { ($0.orders, $0.amountFen) }
        }
        #expect(find("*", .county, "230129")! == (1, 6000))
        #expect(find("*", .merchant, "m1")! == (1, 10000))
        #expect(find("*", .month, "2026-11")! == (1, 10000))
        #expect(find("230221", .category, "fungi")! == (1, 4000))
        #expect(find("230221", .merchant, "m1")! == (1, 4000))
        #expect(find("230129", .category, "fungi") == nil)
        let refund = SalesRules.contributions(lines: lines, amount: -1000, month: "2026-11", countsOrder: false)
        #expect(refund.allSatisfy { $0.orders == 0 })
        #expect(refund.first { $0.scope == "*" && $0.dimension == .county && $0.key == "230129" }?.amountFen == -600)
        // The month is UTC+8's: 16:00 UTC on 30 November is 1 December in Beijing.
        #expect(SalesRules.month(of: Date(timeIntervalSince1970: 1_796_054_399)) == "2026-11")
        #expect(SalesRules.month(of: Date(timeIntervalSince1970: 1_796_054_400)) == "2026-12")
    }

    @Test func alertRules() {
        // 2026 has 365 days; 5000 bp completed falls behind on day 183 (183 × 10000 / 365 = 5013).
        let since = AlertRules.behindSince(year: 2026, completionBp: 5000)
        #expect(since.rfc3339 == "2026-07-01T16:00:00Z")  // 2 July 00:00 in UTC+8 is day 183
        #expect(AlertRules.behindSince(year: 2026, completionBp: 0).rfc3339 == "2025-12-31T16:00:00Z")
        let today = CalendarDate("2026-11-18")!
        #expect(AlertRules.documentTier(expiresOn: CalendarDate("2026-11-20")!, today: today, tiers: [90, 30, 7]) == 7)
        #expect(AlertRules.documentTier(expiresOn: CalendarDate("2026-12-18")!, today: today, tiers: [90, 30, 7]) == 30)
        #expect(AlertRules.documentTier(expiresOn: CalendarDate("2026-12-19")!, today: today, tiers: [90, 30, 7]) == 90)
        #expect(AlertRules.documentTier(expiresOn: CalendarDate("2027-02-17")!, today: today, tiers: [90, 30, 7]) == nil)
        #expect(AlertRules.documentTier(expiresOn: CalendarDate("2026-11-17")!, today: today, tiers: [90, 30, 7]) == nil)
    }
}

@Suite struct ReportsTests {
    /// Hand-computed fixture: order 1 (seller1: rice 10 × 10.00 from 延寿, fungus 2 × 50.00 from
    /// 龙江) settles and then has 30.00 refunded; order 2 (seller2: honey 4 × 25.00 from 延寿)
    /// settles; order 3 is only placed and does not count.
    @Test func salesReportMatchesTheFixture() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let s1 = try await Seller.make(test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller1")
            let s2 = try await Seller.make(
                test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller2", creditCode: Codes.yanshou2,
                company: "延寿县富民合作社")
            let rice = try await s1.listed(test, client, title: "延寿大米", category: "rice", price: 1_000)
            let fungus = try await s1.listed(test, client, title: "龙江木耳", category: "black-fungus", price: 5_000, county: "230221")
            let honey = try await s2.listed(test, client, title: "椴树蜂蜜", category: "bee-products", price: 2_500)
            let canteen = try await Canteen.make(test, client, admin: cast.admin, username: "kitchen1", number: 1)
            let first = try #require(try await client.place(canteen.token, [(rice, 10), (fungus, 2)]).orderIds.first)
            try await client.walk(first, buyer: canteen.token, merchant: s1.token, to: "settled", amountFen: 20_000)
            let refund = try await client.call(.post, "/api/v1/orders/\(first)/refunds", token: canteen.token, json: #"{"amountFen":3000,"reason":"破损"}"#)
            _ = try await client.call(.post, "/api/v1/refunds/\(refund.object["id"] as! String)/approval", token: s1.token, json: "{}")
            let second = try #require(try await client.place(canteen.token, [(honey, 4)]).orderIds.first)
            try await client.walk(second, buyer: canteen.token, merchant: s2.token, to: "settled", amountFen: 10_000)
            _ = try await client.place(canteen.token, [(honey, 1)])

            func rows(_ token: String, _ groupBy: String) async throws -> [String: (String, Int, Int)] {
                let report = try await client.call(.get, "/api/v1/reports/sales?year=2026&groupBy=\(groupBy)", token: token)
                #expect(report.status == .ok, "\(report.text)")
                var out: [String: (String, Int, Int)] = [:]
                for row in report.object["rows"] as? [[String: Any]] ?? [] {
                    out[row["key"] as! String] = (row["label"] as! String, row["orders"] as! Int, row["amountFen"] as! Int)
                }
                return out
            }
            let byCounty = try await rows(cast.admin, "county")
            #expect(byCounty.count == 2)
            #expect(byCounty["230129"]! == ("延寿县", 2, 8_500 + 10_000))
            #expect(byCounty["230221"]! == ("龙江县", 1, 8_500))
            let byMerchant = try await rows(cast.admin, "merchant")
            #expect(byMerchant[s1.merchantId]!.1 == 1 && byMerchant[s1.merchantId]!.2 == 17_000)
            #expect(byMerchant[s2.merchantId]! == ("延寿县富民合作社", 1, 10_000))
            let byCategory = try await rows(cast.admin, "category")
            #expect(byCategory["grain-oil"]!.2 == 8_500 && byCategory["fungi"]!.2 == 8_500 && byCategory["bee-products"]!.2 == 10_000)
            #expect(try await rows(cast.admin, "month") .mapValues { $0.2 } == ["2026-11": 27_000])
            // County officers see their own county's products only.
            let yanshou = try await rows(cast.yanshouOfficer, "merchant")
            #expect(yanshou[s1.merchantId]!.2 == 8_500 && yanshou[s2.merchantId]!.2 == 10_000)
            #expect(try await rows(cast.longjiangOfficer, "merchant").mapValues { $0.2 } == [s1.merchantId: 8_500])
            #expect(try await rows(cast.longjiangOfficer, "county").keys.sorted() == ["230221"])
            // Refusals and CSV.
            #expect(try await client.call(.get, "/api/v1/reports/sales", token: s1.token).status == .forbidden)
            #expect(try await client.call(.get, "/api/v1/reports/sales", token: canteen.token).status == .forbidden)
            #expect(try await client.call(.get, "/api/v1/reports/sales").status == .unauthorized)
            #expect(try await client.call(.get, "/api/v1/reports/sales?groupBy=brand", token: cast.admin).status == .badRequest)
            #expect(try await client.call(.get, "/api/v1/reports/sales?year=1900", token: cast.admin).status == .badRequest)
            let csv = try await client.call(.get, "/api/v1/reports/sales?groupBy=county&format=csv", token: cast.admin)
            #expect(Array(Data(buffer: csv.body)).starts(with: [0xEF, 0xBB, 0xBF]))
            #expect(csv.text.contains("230129,延寿县,2,18500"))
            // The quota report.
            let quota = try await client.call(.get, "/api/v1/reports/quota?groupBy=organization", token: cast.admin)
            let row = try #require((quota.object["rows"] as? [[String: Any]])?.first)
            // reserved = ceil(10,000,000 × 1500 / 10000) = 1,500,000; completed = 27,000.
            #expect(row["reservedFen"] as? Int == 1_500_000 && row["completedFen"] as? Int == 27_000)
            #expect(row["completionBp"] as? Int == 180)
            let departments = try await client.call(.get, "/api/v1/reports/quota?groupBy=department&format=csv", token: cast.admin)
            #expect(departments.text.contains("哈尔滨市教育局,哈尔滨市教育局,1500000,27000,180,0,0"))
            #expect(row["unionBudgetFen"] as? Int == 0 && row["unionCompletedFen"] as? Int == 0)
            #expect(try await client.call(.get, "/api/v1/reports/quota", token: cast.yanshouOfficer).status == .forbidden)
        }
    }

    @Test func everyAlertKindAndItsAbsence() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let in40 = CalendarDate(utc8: test.clock.now.addingTimeInterval(40 * 86400)).text
            let in200 = CalendarDate(utc8: test.clock.now.addingTimeInterval(200 * 86400)).text
            let shop = try await Seller.make(
                test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller1",
                documents: ["kind=food_license&expiresOn=\(in40)", "kind=test_report&expiresOn=\(in200)"])
            let rice = try await shop.listed(test, client, title: "延寿大米", price: 1_000)
            let soon = try await shop.certified(client, cast: cast, title: "短证木耳", validDays: 20)
            _ = try await client.call(.put, "/api/v1/products/\(soon.productId)/listing", token: shop.token)
            let late = try await Canteen.make(test, client, admin: cast.admin, username: "kitchen1", number: 1)
            let unshipped = try #require(try await client.place(late.token, [(rice, 1)]).orderIds.first)
            let unpaid = try #require(try await client.place(late.token, [(rice, 1)]).orderIds.first)
            try await client.walk(unpaid, buyer: late.token, merchant: shop.token, to: "accepted", amountFen: 0)
            let paid = try #require(try await client.place(late.token, [(rice, 1)]).orderIds.first)
            try await client.walk(paid, buyer: late.token, merchant: shop.token, to: "settled", amountFen: 1_000)

            func kinds(_ token: String) async throws -> [String: [String]] {
                let response = try await client.call(.get, "/api/v1/reports/alerts?limit=1000", token: token)
                #expect(response.status == .ok, "\(response.text)")
                var out: [String: [String]] = [:]
                for item in response.items { out[item["kind"] as! String, default: []].append(item["subjectId"] as! String) }
                return out
            }
            // Now: the certificate expiring in 20 days, the food licence in 40 days (90-day tier),
            // the organization behind its schedule (November, nothing completed near enough).
            var now = try await kinds(cast.admin)
            #expect(now["certificate_expiring"] == [soon.number])
            #expect(now["document_expiring"]?.count == 1)
            #expect(now["behind_schedule"] == [late.organizationId])
            #expect(now["slow_moving"] == nil && now["shipment_overdue"] == nil && now["payment_overdue"] == nil)
            // 31 days later (sessions last 12 hours: sign in again).
            test.clock.advance(seconds: 31 * 86400)
            let admin = try await client.signIn("admin")
            let merchant = try await client.signIn("seller1")
            let yanshou = try await client.signIn("yanshou")
            let longjiang = try await client.signIn("longjiang")
            now = try await kinds(admin)
            #expect(now["shipment_overdue"] == [unshipped])
            #expect(now["payment_overdue"] == [unpaid])
            // The rice was ordered 31 days ago; the short certificate has expired (no longer on sale).
            #expect(now["slow_moving"] == [rice])
            #expect(now["certificate_expiring"] == nil)
            #expect(now["document_expiring"]?.count == 1)
            let detail = try await client.call(.get, "/api/v1/reports/alerts?kind=document_expiring", token: admin)
            #expect((detail.items.first?["detail"] as? String)?.contains("within 30 days") == true)
            // Scopes: the merchant and its county officer see the same; another county none of it.
            #expect(try await kinds(merchant).keys.sorted() == ["document_expiring", "payment_overdue", "shipment_overdue", "slow_moving"])
            #expect(try await kinds(yanshou)["payment_overdue"] == [unpaid])
            let other = try await kinds(longjiang)
            #expect(other["payment_overdue"] == nil && other["slow_moving"] == nil && other["document_expiring"] == nil)
            // A canteen's manager follows its own organization's alerts (its unpaid order), none of
            // the merchants' own.
            let canteen = try await kinds(try await client.signIn("kitchen1"))
            #expect(canteen["payment_overdue"] == [unpaid] && canteen["slow_moving"] == nil && canteen["document_expiring"] == nil)
            #expect(try await client.call(.get, "/api/v1/reports/alerts?kind=weather", token: admin).status == .badRequest)
            let csv = try await client.call(.get, "/api/v1/reports/alerts?format=csv", token: admin)
            #expect(csv.text.contains("payment_overdue,order,\(unpaid)"))
        }
    }
}
